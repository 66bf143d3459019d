"""What people type about themselves is checked with clear messages: resident ID check
digits (GB 11643), credit code check characters (GB 32100), phones, dates, amounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from agreements.demo import demo_agreement
from agreements.identity import (
    check_agreement,
    check_party,
    phone_problem,
    resident_id_problem,
    uscc_problem,
)
from agreements.models import Agent, Clause, PartyDetails


@pytest.mark.parametrize("number", ["310105196803140013", "11010519491231002X",
                                    "11010519491231002x"])
def test_a_resident_id_with_the_right_check_digit_passes(number: str) -> None:
    assert resident_id_problem(number) is None


@pytest.mark.parametrize("number, code", [
    ("310105196803140012", "id_checksum"),
    ("31010519680314001", "id_format"),
    ("310105196802300013", "id_birth_date"),
    ("3101051968031400AB", "id_format"),
])
def test_a_wrong_resident_id_is_named_with_its_fault(number: str, code: str) -> None:
    found = resident_id_problem(number)
    assert found is not None and found[0] == code and found[1] and found[2]


def test_the_birth_date_must_match_the_id_number() -> None:
    found = resident_id_problem("310105196803140013", date(1968, 3, 15))
    assert found is not None and found[0] == "id_birth_mismatch"


def test_unified_social_credit_codes_are_checked() -> None:
    assert uscc_problem("91310105MA1FL00004") is None
    assert uscc_problem("91310105MA1FL00000") is not None
    found = uscc_problem("91310105MA1FL0000I")
    assert found is not None and found[0] == "uscc_format"


@pytest.mark.parametrize("phone", ["13800000001", "+86 138 0000 0001", "021-60000000",
                                   "0571-88888888-123", "+4420123456"])
def test_mobiles_landlines_and_international_numbers_pass(phone: str) -> None:
    assert phone_problem(phone) is None


def test_a_signing_phone_must_be_a_mobile() -> None:
    found = phone_problem("021-60000000", mobile=True)
    assert found is not None and found[0] == "phone_not_mobile"
    assert phone_problem("1380000", mobile=False) is not None


def test_a_partys_problems_name_the_field_they_are_in() -> None:
    party = PartyDetails(party_id="P1", name="张三", id_number="310105196803140012",
                         phone="12345", email="nope", agents=(
                             Agent(name="王五", id_number="123", phone="13800000002"),))
    fields = {(p.field, p.code) for p in check_party(party, "parties.0")}
    assert fields == {("parties.0.id_number", "id_checksum"), ("parties.0.phone", "phone_format"),
                      ("parties.0.email", "email_format"),
                      ("parties.0.agents.0.id_number", "id_format")}


def test_the_demo_agreement_has_no_problem_and_bad_clauses_are_found() -> None:
    assert check_agreement(demo_agreement()) == []
    bad = demo_agreement().model_copy(update={"clauses": (
        Clause(obligor="P1", obligee="P1", obligation="x", amount=Decimal("1.234"),
               deadline=date(2026, 1, 1)),)})
    assert {(p.field, p.code) for p in check_agreement(bad)} == {
        ("clauses.0.amount", "amount_cents"), ("clauses.0.obligee", "same_party")}
