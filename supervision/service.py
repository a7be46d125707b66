"""The use cases of supervision for the HTTP layer. Importing it registers supervision as the owner
of photos attached to "finding:<id>" (supervision.patrols)."""

from __future__ import annotations

from supervision import open311
from supervision.cache_keys import cached_bytes
from supervision.dashboard import EXPORT_HEADER, Filters, dashboard, export_rows, filter_params, filters
from supervision.patrols import NewFinding, NewPatrol, coverage, detail, escalate, of_community, record

__all__ = [
    "EXPORT_HEADER",
    "Filters",
    "NewFinding",
    "NewPatrol",
    "cached_bytes",
    "coverage",
    "dashboard",
    "detail",
    "escalate",
    "export_rows",
    "filter_params",
    "filters",
    "of_community",
    "open311",
    "record",
]
