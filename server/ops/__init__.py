"""Running the system for a county: backups and restore, migration checks, metrics, structured logs.

Part of the composition root (it reads Settings and knows Sanic); domain packages never import it.
"""

from __future__ import annotations

from sanic import Sanic

from config.settings import Settings


def install(app: Sanic, settings: Settings) -> None:
    """Structured logs and the access line always; metrics when METRICS_TOKEN is set."""
    from server.ops import logs, metrics

    logs.install(app, settings)
    metrics.install(app, settings)
