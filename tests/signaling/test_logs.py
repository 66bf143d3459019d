"""Log lines never carry tokens, signing codes, passwords, ID or phone numbers."""

from __future__ import annotations

import logging

import pytest

from signaling.logs import RedactingFilter, mask


@pytest.mark.parametrize("line, secret", [
    ("join with token=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-xy", "AbCdEfGhIjKl"),
    ("code: 493027 sent", "493027"),
    ('{"password": "correct horse battery"}', "correct horse"),
    ("party ID 310105198001010012 joined", "19800101"),
    ("call 13812345678 now", "12345678"),
    ("https://x/join#t=Q2xhc3NpY2FsbHkgc2VjcmV0LXRva2VuLXZhbHVl", "Q2xhc3NpY2Fs"),
])
def test_secrets_and_personal_numbers_are_masked(line: str, secret: str) -> None:
    assert secret not in mask(line)


def test_object_ids_stay_readable() -> None:
    oid = "0123456789abcdef0123456789abcdef"
    assert oid in mask(f"session {oid} started")


def test_the_filter_rewrites_records_before_any_handler(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("tiaojie.test")
    log.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="tiaojie.test"):
        log.info("resume=%s phone=%s", "s3cr3t-resume-token-value-1234567890", "13912345678")
    assert "s3cr3t" not in caplog.text and "12345678" not in caplog.text
