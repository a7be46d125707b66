"""The dashboards' cache. An answer is kept under a key that includes a watermark of every table the
dashboards read, taken by one cheap statement per request: any write that can change a figure changes
the watermark, so the next request misses and recomputes. Nothing has to remember to invalidate it,
and supervision needs no hook in the domains below it (complaints, accounts, ratings).

What moves the watermark, per table (checked against how each domain writes; none deletes rows):
- rows only added (communities, compounds, companies, contracts, templates, credit records, patrols,
  complaints): max(id), and count(*) where the table is small;
- a complaint's every change (step, escalation, moderation verdict, rating) bumps its version and
  appends a complaint_event in the same transaction (complaints.workflow): max(id) of the events, an
  index lookup where sum(version) would read the whole table;
- inspections (a few per compound a year): every write is ``UPDATE … SET version = version + 1``
  (ratings.inspections): count and sum(version);
- committees: added, or filed (the only change the dashboard reads; accounts.admin.set_filing): count,
  max(id) and how many are filed.
The figures also depend on the date they are computed for, which is part of the key (``until``).
The watermark is read before the answer is computed: a write landing meanwhile may leave a newer
answer under the older mark, never an older answer under the newer one. TTL only bounds how long an
unused answer occupies the cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise import connections

from core.cache import Cache
from core.jsonutil import dumpb, loads

TTL = 300.0

_WATERMARK = (
    "SELECT "
    "(SELECT count(*) FROM community), "
    "(SELECT max(id) FROM community), "
    "(SELECT count(*) FROM compound), "
    "(SELECT max(id) FROM compound), "
    "(SELECT count(*) FROM property_company), "
    "(SELECT max(id) FROM property_company), "
    "(SELECT count(*) FROM service_contract), "
    "(SELECT max(id) FROM service_contract), "
    "(SELECT count(*) FROM committee), "
    "(SELECT max(id) FROM committee), "
    "(SELECT count(*) FROM committee WHERE filing_status = 'filed'), "
    "(SELECT max(id) FROM patrol), "
    "(SELECT max(id) FROM complaint), "
    "(SELECT max(id) FROM complaint_event), "
    "(SELECT count(*) FROM rating_template), "
    "(SELECT max(id) FROM rating_template), "
    "(SELECT count(*) FROM rating_inspection), "
    "(SELECT sum(version) FROM rating_inspection), "
    "(SELECT max(id) FROM rating_credit_record)"
)


async def watermark() -> str:
    """A short digest of the state of every table the dashboards read."""
    _, rows = await connections.get("default").execute_query(_WATERMARK)
    values = [None if v is None else int(v) for v in tuple(rows[0])]
    return hashlib.sha256(dumpb(values)).hexdigest()[:16]


def key(name: str, params: dict[str, Any], mark: str) -> str:
    digest = hashlib.sha256(dumpb(sorted(params.items(), key=lambda kv: kv[0]))).hexdigest()[:24]
    return f"supervision:{name}:{mark}:{digest}"


async def cached(
    cache: Cache,
    name: str,
    params: dict[str, Any],
    compute: Callable[[], Awaitable[Any]],
    *,
    mark: str | None = None,
) -> Any:
    """The cached answer for (name, params) at the current watermark (or ``mark``, one the caller
    took in this request), computing and storing it when absent."""
    k = key(name, params, mark or await watermark())
    raw = await cache.get(k)
    if raw is not None:
        return loads(raw)
    value = await compute()
    await cache.set(k, dumpb(value), ttl=TTL)
    return loads(dumpb(value))  # the same JSON types whether fresh or cached


async def cached_bytes(
    cache: Cache,
    name: str,
    params: dict[str, Any],
    build: Callable[[str], Awaitable[bytes]],
) -> bytes:
    """A whole answer (bytes, e.g. the JSON body the HTTP layer wrote) kept like ``cached``: a hit
    skips shaping and encoding too. ``build`` gets the watermark, to pass on to ``cached``."""
    mark = await watermark()
    k = key(name, params, mark)
    raw = await cache.get(k)
    if raw is not None:
        return raw
    value = await build(mark)
    await cache.set(k, value, ttl=TTL)
    return value
