"""JSON encoding: UTF-8 kept (no \\u escapes for Chinese), Decimal as text, datetimes as ISO 8601."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(value: Any, **_: Any) -> str:
    # Extra keyword arguments are accepted (and ignored) because Sanic passes json.dumps-style ones.
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()


def dumpb(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


def loads(data: str | bytes) -> Any:
    return orjson.loads(data)


def canonical(value: Any) -> bytes:
    """Canonical encoding for hashing: sorted keys, no spaces, UTF-8, no floats.

    Floats are refused because two platforms may print them differently; amounts are integer fen and
    areas Decimal (encoded as their exact text).
    """
    _reject_floats(value)
    return orjson.dumps(value, default=_default, option=orjson.OPT_SORT_KEYS)


def _reject_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("floats are not allowed in hashed data; use int fen or Decimal")
    if isinstance(value, dict):
        for item in value.values():
            _reject_floats(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _reject_floats(item)
