"""The use cases of supervision for the HTTP layer. Importing it registers supervision as the owner
of photos attached to "finding:<id>" (supervision.patrols)."""

from __future__ import annotations

from supervision import open311
from supervision.cache_keys import cached_bytes
from supervision.dashboard import Filters, dashboard, filter_params, filters
from supervision.exports import COMPOUND_HEADER, community_table, compound_rows, month_table
from supervision.patrols import NewFinding, NewPatrol, coverage, detail, escalate, of_community, record

__all__ = [
    "COMPOUND_HEADER",
    "Filters",
    "NewFinding",
    "NewPatrol",
    "cached_bytes",
    "community_table",
    "compound_rows",
    "coverage",
    "dashboard",
    "detail",
    "escalate",
    "filter_params",
    "filters",
    "month_table",
    "of_community",
    "open311",
    "record",
]
