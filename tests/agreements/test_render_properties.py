"""Whatever a party types, the document renders and says it (property-based)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreements import builtin_template, mask_id_number, render
from agreements.demo import demo_agreement

from .conftest import docx_text

# Hypothesis renders many documents.
pytestmark = pytest.mark.slow

# XML 1.0 cannot carry most control characters: the document drops them but
# must still render; all other text must come through unchanged.
printable = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60
).filter(lambda s: s.strip() == s and s.strip() != "")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=printable)
def test_any_printable_text_in_the_facts_comes_through_verbatim(facts: str) -> None:
    data = demo_agreement().model_copy(update={"facts": facts})
    text = docx_text(render(builtin_template("agreement", "en"), data, language="en"))
    assert facts in text


@settings(max_examples=25, deadline=None)
@given(facts=st.text(min_size=1, max_size=40))
def test_control_characters_never_break_the_document(facts: str) -> None:
    data = demo_agreement().model_copy(update={"facts": facts})
    text = docx_text(render(builtin_template("agreement", "zh-CN"), data))
    assert "人民调解协议书" in text
    assert "本协议一式3份" in text


@given(st.text(alphabet="0123456789X", min_size=9, max_size=20))
def test_a_masked_id_keeps_only_the_first_four_and_last_four(number: str) -> None:
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    assert masked[:4] == number[:4] and masked[-4:] == number[-4:]
    assert set(masked[4:-4]) <= {"*"}
