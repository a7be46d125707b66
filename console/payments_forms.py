"""The property company's fee set-up forms: its fee contract with the compound (the price is refused
outside the grade's government-guided band, the band named in the message) and the compound's fee
items (each bound to a fee-standard notice posted on the board; an item not posted is refused), and
stopping an item. The Access objects, request models and services are those of
miniprogram_api.payments_admin (PUT /contract, POST /items, DELETE /items/<id>).

A fee item is never edited in place: its standard is the notice it was posted with, so a changed
standard is a new item (with its new notice) and the old one is stopped, as the API offers it."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from console.web import PREFIX, form_model, form_text, page, see_other
from miniprogram_api import payments_admin as api
from miniprogram_api.auth import Principal
from payments import setup

bp = Blueprint("console_payments_forms")
BASE = "/compounds/<compound_id:int>/fees"


def _optional(request: Request, name: str) -> str | None:
    """An optional form field: an empty one is absent (the model's default), not an empty value."""
    return form_text(request, name) or None


@page(bp, "POST", BASE + "/contract", access=api.STAFF)
async def set_contract(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    body = form_model(
        request,
        api.ContractIn,
        {
            "grade": form_text(request, "grade"),
            "price_fen": form_text(request, "price_fen"),
            "starts_on": form_text(request, "starts_on"),
            "ends_on": form_text(request, "ends_on"),
            "sub_mchid": form_text(request, "sub_mchid"),
        },
    )
    company = await setup.acting_company(await api._companies(who), compound_id, api.today())
    await setup.set_fee_contract(
        who.actor,
        setup.ContractTerms(
            compound_id, company, body.grade, body.price_fen, body.starts_on, body.ends_on, body.sub_mchid
        ),
    )
    return see_other(f"{PREFIX}/compounds/{compound_id}/fees#contract")


@page(bp, "POST", BASE + "/items", access=api.STAFF)
async def add_item(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    body = form_model(
        request,
        api.ItemIn,
        {
            "name": form_text(request, "name"),
            "kind": form_text(request, "kind"),
            "notice_id": form_text(request, "notice_id"),
            "price_fen": _optional(request, "price_fen"),
            "monthly_fen": _optional(request, "monthly_fen"),
            "unit_kind": _optional(request, "unit_kind"),
        },
    )
    contract = await api._own_contract(who, compound_id)
    await setup.add_fee_item(
        who.actor,
        contract,
        setup.ItemTerms(
            body.name, body.kind, body.notice_id, body.price_fen, body.monthly_fen, body.unit_kind
        ),
    )
    return see_other(f"{PREFIX}/compounds/{compound_id}/fees#items")


@page(bp, "POST", BASE + "/items/<item_id:int>/deactivate", access=api.STAFF)
async def deactivate_item(request: Request, who: Principal, compound_id: int, item_id: int) -> HTTPResponse:
    await api._own_contract(who, compound_id)
    await setup.deactivate_item(who.actor, compound_id, item_id)
    return see_other(f"{PREFIX}/compounds/{compound_id}/fees#items")
