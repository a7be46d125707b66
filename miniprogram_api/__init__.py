"""HTTP only: one blueprint module per domain under /api/v1. Parse, call one service, shape."""

from __future__ import annotations

from sanic import Blueprint
from sanic.blueprint_group import BlueprintGroup

from miniprogram_api import (
    admin,
    auth_api,
    complaints,
    complaints_staff,
    health,
    me,
    notices,
    notices_admin,
    photos,
    registry,
    voting,
    voting_admin,
)


def blueprints() -> tuple[Blueprint, BlueprintGroup]:
    """(root blueprints, the /api/v1 group)."""
    api = Blueprint.group(
        auth_api.bp,
        me.bp,
        registry.bp,
        admin.bp,
        photos.bp,
        complaints.bp,
        complaints_staff.bp,
        notices.bp,
        notices.push_bp,
        notices_admin.bp,
        voting.bp,
        voting_admin.bp,
        url_prefix="/api/v1",
    )
    return health.bp, api
