"""The error codes each route may answer with, derived from the code itself, not written by hand.

For each handler (and the ``authorize`` of its access) this walks the bytecode of the function and of
every function of ours it names, transitively: each class of the error tree it names (``raise
errors.MotionNotFound()``, ``except``-and-reraise alike) is a code it may return, under the status its
base maps to; an explicit ``code="..."`` passed to such a class is one too. Add to that what every
route may answer (a malformed body, an outage). It over-approximates (a named error may be caught on
the way), never invents a code the code base does not hold, and the response walk in
tests/server/test_response_walk.py checks that every error answered is among the documented ones.

The codes are documented per status as an ``enum`` on the envelope's ``code``.
"""

from __future__ import annotations

import builtins
import dis
import inspect
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import CodeType, FunctionType, ModuleType
from typing import Any

from core import errors

_ROOT = Path(__file__).resolve().parent.parent
_OURS: set[str] = {p.name for p in _ROOT.iterdir() if (p / "__init__.py").exists()} - {"tests"}

# What any route may answer, whatever it does: parsing, the outage mapping, the server's own guards.
COMMON: dict[int, set[str]] = {
    400: {
        "invalid",
        "malformed_json",
        "nul_character",
        "too_deep",
        "number_out_of_range",
        "value_out_of_range",
        "bad_request",
        "unknown_query_parameter",
    },
    404: {"not_found"},
    405: {"method_not_allowed"},
    409: {"integrity_conflict"},
    503: {"unavailable", "database_unavailable", "cache_unavailable", "shutting_down"},
}
BODY: dict[int, set[str]] = {413: {"payload_too_large"}, 415: {"unsupported_media_type"}}
SIGNED_IN: dict[int, set[str]] = {401: {"unauthenticated"}, 403: {"forbidden"}}
PAGED: dict[int, set[str]] = {400: {"cursor_invalid"}}

Found = dict[type[errors.DomainError], set[str]]  # class -> explicit codes passed to it


def _ours(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module.split(".")[0] in _OURS


def _codes(code: CodeType) -> Iterator[CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _codes(const)


_memo: dict[int, Found] = {}
_in_progress: set[int] = set()


def _walk(fn: Callable[..., Any], found: Found, seen: set[int]) -> None:
    """Add to ``found`` what ``fn`` and the functions of ours it names may raise (memoised per
    function across routes; a cycle contributes what is known so far)."""
    fn = inspect.unwrap(fn)
    if not isinstance(fn, FunctionType) or id(fn) in seen:
        return
    seen.add(id(fn))
    for klass, codes in _found_of(fn).items():
        found.setdefault(klass, set()).update(codes)


def _found_of(fn: FunctionType) -> Found:
    key = id(fn)
    if key in _memo:
        return _memo[key]
    if key in _in_progress:
        return {}
    _in_progress.add(key)
    found: Found = {}
    callees: list[Callable[..., Any]] = []
    namespace = fn.__globals__
    for code in _codes(fn.__code__):
        current: Any = None
        recent: list[Any] = []  # what the last instructions loaded, for code="..." keywords
        last_error: type[errors.DomainError] | None = None
        for ins in dis.get_instructions(code):
            resolved: Any = None
            if ins.opname == "LOAD_GLOBAL":
                name = str(ins.argval)
                resolved = namespace.get(name, getattr(builtins, name, None))
            elif ins.opname in ("LOAD_ATTR", "LOAD_METHOD") and isinstance(current, ModuleType | type):
                resolved = getattr(current, str(ins.argval), None)
            elif ins.opname == "KW_NAMES" and last_error is not None and ins.arg is not None:
                names = code.co_consts[ins.arg]  # 3.11's dis does not resolve KW_NAMES itself
                if isinstance(names, tuple) and "code" in names:
                    position = len(names) - list(names).index("code")
                    if len(recent) >= position and isinstance(recent[-position], str):
                        found.setdefault(last_error, set()).add(recent[-position])
            recent.append(ins.argval if ins.opname == "LOAD_CONST" else None)
            del recent[:-16]
            current = resolved
            if isinstance(resolved, type) and issubclass(resolved, errors.DomainError):
                found.setdefault(resolved, set())
                last_error = resolved
            elif isinstance(resolved, FunctionType) and _ours(resolved):
                callees.append(resolved)
            elif inspect.ismethod(resolved) and _ours(resolved):
                callees.append(resolved.__func__)
    for callee in callees:
        callee = inspect.unwrap(callee)
        if isinstance(callee, FunctionType) and callee is not fn:
            for klass, codes in _found_of(callee).items():
                found.setdefault(klass, set()).update(codes)
    _in_progress.discard(key)
    _memo[key] = found
    return found


def derive(
    handler: Callable[..., Any],
    access: Any,
    *,
    public: bool,
    body: bool,
    paged: bool,
    status_of: Callable[[type[errors.DomainError]], int],
) -> dict[int, set[str]]:
    """Status → the codes a route may answer with."""
    found: Found = {}
    seen: set[int] = set()
    _walk(handler, found, seen)
    authorize = getattr(type(access), "authorize", None)
    if authorize is not None and _ours(authorize):
        _walk(authorize, found, seen)
    out: dict[int, set[str]] = {}
    parts = [COMMON, *([] if public else [SIGNED_IN]), *([BODY] if body else []), *([PAGED] if paged else [])]
    for part in parts:
        for status, codes in part.items():
            out.setdefault(status, set()).update(codes)
    for klass, explicit in found.items():
        if klass in (errors.DomainError,):
            continue
        status = status_of(klass)
        if status >= 500 and status != 503 and status != 502:
            continue
        out.setdefault(status, set()).update({klass.code, *explicit})
    return out


def module_of(handler: Callable[..., Any]) -> ModuleType | None:
    return sys.modules.get(getattr(inspect.unwrap(handler), "__module__", ""))
