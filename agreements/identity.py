"""Checks of what people type about themselves: resident ID numbers (GB 11643-1999
check digit), unified social credit codes (GB 32100-2015 check character), phone
numbers, dates and amounts. Each problem names the field (a JSON path into the
document data), a stable code and a message in Chinese and English.

The browser runs the same checks as people type (``web_client/src/identity.ts``); the
server runs these on every draft and confirmation, so nothing depends on the client.
They are kept out of the data models on purpose: a draft stored before a check existed
must still load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .models import Agent, AgreementData, PartyDetails

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(?:\+?86)?0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$")
_INTERNATIONAL = re.compile(r"^\+(?!86)\d{6,15}$")
_EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")
MAX_AMOUNT = Decimal("100000000000")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with what was typed."""

    field: str
    """Where, as a dotted path into the data, e.g. "parties.0.id_number"."""
    code: str
    """Stable code, e.g. "id_checksum"."""
    zh: str
    """The message in Chinese."""
    en: str
    """The message in English."""

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.zh, "message_en": self.en}


def resident_id_problem(value: str, birth_date: date | None = None) -> tuple[str, str, str] | None:
    """(code, zh, en) if ``value`` is not a valid 18-character resident ID number."""
    v = value.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", v):
        return ("id_format", "身份证号码应为18位，最后一位可以是数字或X",
                "A resident ID number has 18 characters; the last may be a digit or X")
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return ("id_birth_date", "身份证号码中的出生日期不存在",
                "The birth date inside the ID number does not exist")
    if born > date.today() or born.year < 1900:
        return ("id_birth_date", "身份证号码中的出生日期不合理",
                "The birth date inside the ID number is not plausible")
    total = sum(int(ch) * w for ch, w in zip(v[:17], _ID_WEIGHTS))
    if _ID_CHECK[total % 11] != v[17]:
        return ("id_checksum", "身份证号码校验位不正确，请核对每一位",
                "The ID number's check digit is wrong; check each digit")
    if birth_date is not None and born != birth_date:
        return ("id_birth_mismatch", "出生日期与身份证号码不一致",
                "The birth date does not match the ID number")
    return None


def uscc_problem(value: str) -> tuple[str, str, str] | None:
    """(code, zh, en) if ``value`` is not a valid unified social credit code."""
    v = value.strip().upper()
    if len(v) != 18 or any(ch not in _USCC_CHARS for ch in v):
        return ("uscc_format", "统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V）",
                "A unified social credit code has 18 digits or capital letters (no I, O, Z, S, V)")
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(v[:17], _USCC_WEIGHTS))
    if _USCC_CHARS[(31 - total % 31) % 31] != v[17]:
        return ("uscc_checksum", "统一社会信用代码校验位不正确，请核对",
                "The credit code's check character is wrong; check it")
    return None


def phone_problem(value: str, *, mobile: bool = False) -> tuple[str, str, str] | None:
    v = re.sub(r"[\s()]", "", value)
    if _MOBILE.match(v.replace("-", "")):
        return None
    if mobile:
        return ("phone_not_mobile", "请填写能接收短信的手机号码（11位，以1开头）",
                "Give a mobile number that receives SMS (11 digits starting with 1)")
    if _LANDLINE.match(v) or _INTERNATIONAL.match(v):
        return None
    return ("phone_format", "电话号码格式不正确：手机号为11位，座机如 021-60000000",
            "Not a phone number: a mobile has 11 digits; a landline looks like 021-60000000")


def email_problem(value: str) -> tuple[str, str, str] | None:
    if _EMAIL.match(value.strip()):
        return None
    return ("email_format", "电子邮箱格式不正确", "Not an e-mail address")


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, field: str, found: tuple[str, str, str] | None) -> None:
        if found:
            self.problems.append(Problem(field, *found))


def _check_person_id(c: _Collector, at: str, id_type: str, number: str | None,
                     birth_date: date | None = None) -> None:
    if number and id_type == "resident_id":
        c.add(f"{at}.id_number", resident_id_problem(number, birth_date))


def _check_agent(c: _Collector, at: str, a: Agent) -> None:
    _check_person_id(c, at, a.id_type, a.id_number)
    if a.phone:
        c.add(f"{at}.phone", phone_problem(a.phone))
    if a.email:
        c.add(f"{at}.email", email_problem(a.email))


def check_party(p: PartyDetails, at: str = "party") -> list[Problem]:
    """Every problem with one party's details (and their agents')."""
    c = _Collector()
    if p.kind == "organisation":
        if p.id_number:
            c.add(f"{at}.id_number", uscc_problem(p.id_number))
    else:
        _check_person_id(c, at, p.id_type, p.id_number, p.birth_date)
        if p.birth_date and (p.birth_date > date.today() or p.birth_date.year < 1900):
            c.add(f"{at}.birth_date", ("date_range", "出生日期不合理",
                                       "The birth date is not plausible"))
    if p.phone:
        c.add(f"{at}.phone", phone_problem(p.phone))
    if p.email:
        c.add(f"{at}.email", email_problem(p.email))
    for n, a in enumerate(p.agents):
        _check_agent(c, f"{at}.agents.{n}", a)
    return c.problems


def check_agreement(data: AgreementData) -> list[Problem]:
    """Every problem with what was typed into an agreement."""
    problems: list[Problem] = []
    for n, p in enumerate(data.parties):
        problems.extend(check_party(p, f"parties.{n}"))
    c = _Collector()
    for n, clause in enumerate(data.clauses):
        if clause.amount is not None and clause.amount > MAX_AMOUNT:
            c.add(f"clauses.{n}.amount", ("amount_range", "金额过大，请核对",
                                          "The amount is too large; check it"))
        if clause.amount is not None and clause.amount.as_tuple().exponent < -2:  # type: ignore[operator]
            c.add(f"clauses.{n}.amount", ("amount_cents", "金额最多保留两位小数",
                                          "An amount has at most two decimals"))
        if clause.obligor == clause.obligee:
            c.add(f"clauses.{n}.obligee", ("same_party", "义务人和权利人不能是同一方",
                                           "The obligor and the obligee must differ"))
    for who in ("mediator", "recorder"):
        person = getattr(data, who)
        if person is not None and person.phone:
            c.add(f"{who}.phone", phone_problem(person.phone))
    return problems + c.problems
