"""The company's reconciliation reports (a route on payments_admin's blueprint).

/admin/compounds/<compound_id>/fees/reconciliations   GET: the reports of the company's payee, newest
                                                      first: the daily job's (one per day, made by
                                                      itself once WeChat Pay's bill is ready) and
                                                      those staff asked for (POST, payments_admin)

Every difference stays listed here for a person to look into; nothing is corrected by the system."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from sanic import Request

from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.payments import _NEXT, PageQuery, cursor_of, next_cursor
from miniprogram_api.payments_admin import STAFF, DifferenceOut, _own_contract, bp
from payments import reconcile
from payments.models import Reconciliation


class ReportOut(BaseModel):
    id: int
    bill_date: date
    daily: bool = Field(description="每日自动对账（否则为人工发起）")
    matched: int
    differences: list[DifferenceOut] = Field(description="每一处差异，留待人工核对，系统不自动更正")
    at: datetime


class ReportListOut(BaseModel):
    items: list[ReportOut]
    next_cursor: str | None = _NEXT


def _report_out(r: Reconciliation) -> ReportOut:
    return ReportOut(
        id=r.id,
        bill_date=r.bill_date,
        daily=r.daily_key is not None,
        matched=r.matched,
        differences=[DifferenceOut(**d) for d in r.differences],
        at=r.at,
    )


@endpoint(
    bp,
    "GET",
    "/reconciliations",
    summary="本公司收款的对账记录（每日自动对账与人工对账）",
    access=STAFF,
    query=PageQuery,
    response=ReportListOut,
)
async def list_reconciliations(
    request: Request, call: Call[None, PageQuery], compound_id: int
) -> ReportListOut:
    contract = await _own_contract(call.principal, compound_id)
    rows = await reconcile.reports(
        contract.payee_id,
        limit=call.query.limit,
        before_id=cursor_of(call.query.cursor),
    )
    return ReportListOut(
        items=[_report_out(r) for r in rows], next_cursor=next_cursor([r.id for r in rows], call.query.limit)
    )
