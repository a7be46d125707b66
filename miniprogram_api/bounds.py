"""Bounds every request is held to before a model sees it, and the bounded types request models use.

Ids are 32-bit on PostgreSQL (``serial``): a larger id can name nothing, so it is refused at parsing
instead of reaching the database as an overflow (a 500). PostgreSQL cannot store NUL in text, so NUL
is refused in every string and key. Nesting is bounded so no walk over a body can exhaust the stack.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from core import errors

MAX_ID = 2**31 - 1
MAX_PATH_TEXT = 200
MAX_DEPTH = 32
# Beyond this no integer column of ours can hold a value; bounded fields say their own, smaller limits.
MAX_INT = 2**63 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""An id of a row, as every request body and query names one."""

IdList = Annotated[list[Id], Field(max_length=1000)]

EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, tzinfo=UTC)


def _in_range(moment: datetime) -> datetime:
    # year 1 at +01:00 is year 0 in UTC: converting it for the database overflowed (a 500)
    if not EARLIEST <= moment <= LATEST:
        raise ValueError("时间超出允许范围（1900 年至 2999 年）")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_in_range)]
"""A moment in a request: with its zone (``+08:00`` or ``Z``), between 1900 and 2999; a time
without a zone, or outside those years, is refused."""


def check_untrusted(data: Any) -> None:
    """Refuse, for the whole decoded request, what no field may hold: NUL, deep nesting, huge ints."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise errors.Invalid("内容不能包含空字符（\\u0000）", code="nul_character")
        elif isinstance(value, bool) or value is None or isinstance(value, float):
            continue
        elif isinstance(value, int):
            if not -MAX_INT <= value <= MAX_INT:
                raise errors.Invalid("数值超出允许范围", code="number_out_of_range")
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise errors.Invalid(f"内容嵌套过深（最多 {MAX_DEPTH} 层）", code="too_deep")
            if isinstance(value, dict):
                stack.extend((key, depth + 1) for key in value)
                stack.extend((item, depth + 1) for item in value.values())
            else:
                stack.extend((item, depth + 1) for item in value)


MAX_FEN = 10**13
Fen = Annotated[int, Field(ge=-MAX_FEN, le=MAX_FEN)]
"""An amount in fen (integer), signed; ±10^13 fen is far beyond any compound's books."""

Key = Annotated[str, Field(min_length=1, max_length=50)]
"""A key of a map in a request (an item id, a section name)."""


class RequestModel(BaseModel):
    """A request body (or an object inside one): only the declared fields. ``parse_json_body``
    refuses unknown fields for every body anyway; deriving from this says so where the model is read."""

    model_config = ConfigDict(extra="forbid")
