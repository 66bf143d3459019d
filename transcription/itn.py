"""Inverse text normalisation: amounts and dates written as a record writes them.

Whisper writes numbers sometimes as digits, sometimes as Chinese numerals, and money
as 块/块钱. A 人民调解记录 writes ``3500元``, ``2024年3月5日``, ``20%``. Only numbers
that carry a unit of money, a date or a percentage are rewritten; other numerals
(一下, 一起, 一块儿, 三个人) stay as spoken, because rewriting every 一 mangles words.

A narrow rule set of our own rather than a library: the libraries convert every numeral
they find, which turns words into digits.
"""

from __future__ import annotations

import re

_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
          "七": 7, "八": 8, "九": 9}
_UNIT = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
_NUM = "零〇一二两三四五六七八九十百千万亿"
_NUMERAL = f"[{_NUM}]+"
_AMOUNT = rf"(?:\d+(?:\.\d+)?|{_NUMERAL}(?:点[{_NUM}]+)?)"


def chinese_to_number(text: str) -> float | None:
    """``三千五百`` → 3500, ``一万五`` → 15000, ``二零二四`` → 2024, ``三点五`` → 3.5.

    None when ``text`` is not a numeral."""
    if not text:
        return None
    if "点" in text:
        whole, _, frac = text.partition("点")
        w = chinese_to_number(whole) if whole else 0
        if w is None or not frac or any(c not in _DIGIT for c in frac):
            return None
        return float(f"{int(w)}.{''.join(str(_DIGIT[c]) for c in frac)}")
    if any(c not in _DIGIT and c not in _UNIT and c not in _BIG for c in text):
        return None
    if len(text) > 1 and all(c in _DIGIT for c in text):  # read digit by digit: 二零二四
        return int("".join(str(_DIGIT[c]) for c in text))
    total, section, digit = 0, 0, None
    last_unit = 1
    for c in text:
        if c in _DIGIT:
            digit = _DIGIT[c]
        elif c in _UNIT:
            section += (1 if digit is None else digit) * _UNIT[c]
            last_unit, digit = _UNIT[c], None
        else:  # 万 / 亿
            section += digit or 0
            total = (total + section) * _BIG[c]
            section, digit = 0, None
            last_unit = _BIG[c]
    if digit is not None:
        # 一万五 = 15000, 三千五 = 3500, 两百五 = 250: a trailing digit is one unit down.
        if last_unit >= 10 and text[-2] not in _DIGIT:
            section += digit * (last_unit // 10)
        else:
            section += digit
    return total + section


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _amount(text: str) -> str | None:
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return text
    value = chinese_to_number(text)
    return None if value is None else _fmt(value)


def _money(m: re.Match[str]) -> str:
    number, wan, unit = m.group("n"), m.group("wan") or "", m.group("unit")
    value = _amount(number)
    if value is None:
        return m.group(0)
    if unit.startswith("块") and not unit.endswith("钱") and not wan and float(value) < 10:
        return m.group(0)  # 一块 (a piece, together) is not money; 三千块 is
    return f"{value}{wan}元"


def _date(m: re.Match[str]) -> str:
    year, month, day = m.group("y"), m.group("m"), m.group("d")
    out = ""
    if year:
        y = _amount(year)
        if y is None:
            return m.group(0)
        out += f"{y}年"
    if month:
        mo = _amount(month)
        if mo is None or not 1 <= float(mo) <= 12:
            return m.group(0)
        out += f"{mo}月"
    if day:
        d = _amount(day)
        if d is None or not 1 <= float(d) <= 31:
            return m.group(0)
        out += f"{d}日"
    return out


_MONEY = re.compile(rf"(?P<n>{_AMOUNT})(?P<wan>万|亿)?(?P<unit>块钱|块|元钱|元|圆)")
_DATE = re.compile(
    r"(?:(?P<y>\d{4}|[零〇一二三四五六七八九]{4})年)?"
    r"(?P<m>\d{1,2}|[一二三四五六七八九十]{1,3})月"
    r"(?:(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})(?:日|号))?")
_YEAR = re.compile(r"(?P<y>[零〇一二三四五六七八九]{4})年")
_PERCENT = re.compile(rf"百分之(?P<n>{_AMOUNT})")


def normalize(text: str, language: str = "zh") -> str:
    """Amounts, dates and percentages in record form; everything else unchanged."""
    if language != "zh" or not text:
        return text
    text = _PERCENT.sub(lambda m: f"{_amount(m.group('n')) or m.group('n')}%"
                        if _amount(m.group("n")) else m.group(0), text)
    text = _DATE.sub(_date, text)
    text = _YEAR.sub(lambda m: f"{_amount(m.group('y'))}年", text)
    return _MONEY.sub(_money, text)


_TERMINAL = "。！？!?…"


def punctuate(parts: list[str], language: str) -> str:
    """Join Whisper's segments of one utterance as a sentence: a comma between segments
    that end without punctuation, a full stop at the end (Chinese)."""
    parts = [p.strip() for p in parts if p.strip()]
    if language != "zh":
        return " ".join(parts)
    out = ""
    for i, part in enumerate(parts):
        out += part
        last = i == len(parts) - 1
        if part[-1] in "，,、；;：:" + _TERMINAL:
            continue
        out += "。" if last else "，"
    return out.replace(",", "，")


_ASCII_PUNCT = str.maketrans({",": "，", "?": "？", "!": "！", ";": "；", ":": "："})
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


def record_style(text: str, language: str, final: bool = True) -> str:
    """Text as a record writes it: full-width punctuation, a comma where Whisper left a
    pause (a space between Chinese characters), amounts and dates normalised, and a full
    stop at the end of a final caption."""
    text = text.strip()
    if language != "zh" or not text:
        return text
    text = _CJK_SPACE.sub("，", text.translate(_ASCII_PUNCT))
    text = normalize(text)
    if final and text[-1] not in _TERMINAL + "，、；：":
        text += "。"
    elif final and text[-1] in "，、；：":
        text = text[:-1] + "。"
    return text
