"""HTTP only: one blueprint module per domain under /api/v1. Parse, call one service, shape."""

from __future__ import annotations

from sanic import Blueprint
from sanic.blueprint_group import BlueprintGroup

from miniprogram_api import (
    admin,
    auth_api,
    bookings,
    bookings_admin,
    bookings_photos,
    bookings_provider,
    complaints,
    complaints_staff,
    compound_contacts,
    console_login,
    discovery,
    fund,
    fund_admin,
    fund_office,
    health,
    me,
    notices,
    notices_admin,
    notify,
    open311,
    organisation_claims,
    payments,
    payments_admin,
    photos,
    ratings,
    ratings_admin,
    registry,
    supervision,
    supervision_dashboard,
    voting,
    voting_admin,
)
from miniprogram_api.endpoint import document_errors
from miniprogram_api.openapi_schema import components


def install_openapi() -> None:
    """Put the request and response models into the OpenAPI document's components (after every
    route is declared, so all models are generated together with unique names)."""
    from sanic_ext.extensions.openapi.builders import SpecificationBuilder

    builder = SpecificationBuilder()
    for name, schema in components().items():
        builder.add_component("schemas", name, schema)
    document_errors()
    open311.document_spec_errors()


def blueprints() -> tuple[Blueprint, BlueprintGroup]:
    """(root blueprints, the /api/v1 group)."""
    api = Blueprint.group(
        auth_api.bp,
        me.bp,
        registry.bp,
        discovery.bp,
        compound_contacts.bp,
        compound_contacts.grid_workers_bp,
        admin.bp,
        photos.bp,
        payments.bp,
        payments_admin.bands_bp,
        payments_admin.bp,
        fund.bp,
        fund_admin.bp,
        fund_office.bp,
        complaints.bp,
        complaints_staff.bp,
        notices.bp,
        notices.push_bp,
        notices_admin.bp,
        notify.bp,
        notify.admin_bp,
        voting.bp,
        voting_admin.bp,
        voting_admin.settings_bp,
        organisation_claims.bp,
        console_login.bp,
        supervision.bp,
        supervision.community_bp,
        supervision_dashboard.community_bp,
        supervision_dashboard.county_bp,
        open311.bp,
        ratings.bp,
        ratings_admin.templates_bp,
        ratings_admin.inspections_bp,
        ratings_admin.companies_bp,
        ratings_admin.lists_bp,
        bookings.bp,
        bookings_provider.bp,
        bookings_photos.bp,
        bookings_admin.bp,
        url_prefix="/api/v1",
    )
    return health.bp, api
