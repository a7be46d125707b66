"""Pure rules: WeChat's subscribe-message field limits, retry backoff, and which errors are worth
another attempt."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from core import clock


class Kind(StrEnum):
    """Subscribe-message field kinds and what WeChat accepts in each (it answers 47003 otherwise)."""

    THING = "thing"  # ≤ 20 characters of any kind
    NAME = "name"  # ≤ 10 characters
    PHRASE = "phrase"  # ≤ 5 characters, Chinese only
    CHARACTER_STRING = "character_string"  # ≤ 32 letters, digits and symbols
    NUMBER = "number"  # ≤ 32 digits
    AMOUNT = "amount"  # ≤ 10 digits with up to 2 decimals, optional currency sign
    TIME = "time"  # "2026-12-01 08:30"
    DATE = "date"  # "2026-12-01"


LIMITS: dict[Kind, int] = {
    Kind.THING: 20,
    Kind.NAME: 10,
    Kind.PHRASE: 5,
    Kind.CHARACTER_STRING: 32,
    Kind.NUMBER: 32,
    Kind.AMOUNT: 14,
    Kind.TIME: 16,
    Kind.DATE: 10,
}


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())  # WeChat shows one line; newlines and runs of spaces go
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def fit(kind: Kind, value: object) -> str:
    """``value`` as WeChat accepts it in a field of ``kind``: cut to length (with an ellipsis for
    text), times in Asia/Shanghai, amounts from integer fen."""
    if kind is Kind.TIME:
        assert isinstance(value, datetime)
        return f"{clock.to_local(value):%Y-%m-%d %H:%M}"
    if kind is Kind.DATE:  # a moment (its Beijing day) or a calendar date
        if isinstance(value, datetime):
            return f"{clock.to_local(value):%Y-%m-%d}"
        assert isinstance(value, date)
        return f"{value:%Y-%m-%d}"
    if kind is Kind.AMOUNT:
        assert isinstance(value, int)  # fen
        return f"{value // 100}.{value % 100:02d}元"
    text = str(value)
    if kind is Kind.NUMBER:
        return "".join(c for c in text if c.isdigit())[: LIMITS[kind]] or "0"
    if kind is Kind.CHARACTER_STRING:
        return "".join(c for c in text if c.isascii() and c.isprintable())[: LIMITS[kind]]
    if kind is Kind.PHRASE:
        return "".join(c for c in text if "\u4e00" <= c <= "\u9fff")[: LIMITS[kind]]
    return _cut(text, LIMITS[kind]) or "-"


MAX_ATTEMPTS = 6
BASE_DELAY = timedelta(seconds=5)
MAX_DELAY = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: 5 s, 10 s, 20 s, ... at most an hour."""
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def page_with_params(page: str, params: dict[str, object]) -> str:
    return page.format(**params)
