"""HTTP only: one blueprint module per domain under /api/v1. Parse, call one service, shape."""

from __future__ import annotations

from sanic import Blueprint
from sanic.blueprint_group import BlueprintGroup

from miniprogram_api import admin, auth_api, health, me, registry


def blueprints() -> tuple[Blueprint, BlueprintGroup]:
    """(root blueprints, the /api/v1 group)."""
    api = Blueprint.group(auth_api.bp, me.bp, registry.bp, admin.bp, url_prefix="/api/v1")
    return health.bp, api
