"""The permission matrix over every payments route: who gets through, and everyone else is refused
with nothing changed (a resident of another unit cannot see or pay your bill; a company cannot bill
a compound it has no contract with; no one reaches another compound)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest

from payments import billing, orders, refunds
from payments.models import Bill
from tests.matrix import covered, declared
from tests.payments.conftest import ACTOR, PEOPLE, SP_APPID, SP_MCHID, Fees, StubPay, counts

EVERYONE = ("anonymous", *PEOPLE)
MEMBERS = {"owner", "resident"}
READERS = {"property_staff", "committee", "community_admin", "supervisor"}
STAFF = {"property_staff"}


@pytest.fixture
async def matrix(fees: Fees, serve: Any) -> Any:
    pay = StubPay()
    server = await serve()
    server.app.ctx.wechat_pay = pay
    for period in ("2026-02", "2026-03"):
        await billing.run_billing(
            ACTOR, compound_id=fees.compound.id, period_text=period, metered_fen={}, user_id=None
        )
    march = await Bill.get(unit_id=fees.units[0].id, period="2026-03")
    created = await orders.create_order(
        pay, user_id=fees.uid("resident"), openid="openid-resident", bill_ids=[march.id]
    )
    await orders.apply_result(pay.pay_now(created.order.out_trade_no), sp_mchid=SP_MCHID, sp_appid=SP_APPID)
    receipt = await orders.receipt_of_order(created.order.id)
    failed = []
    for status in ("ABNORMAL", "CLOSED"):  # a new refund settles the order's closed ones: closed last
        refund = await refunds.request_refund(
            pay, ACTOR, order=created.order, amount_fen=200, reason="测试", user_id=None
        )
        await refunds.apply_refund_result(replace(pay.refunds[refund.out_refund_no], status=status))
        failed.insert(0, refund.id)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        yield http, pay, created.order, receipt, failed


def _routes(
    fees: Fees, order_id: int, receipt_id: int, failed: list[int] | None = None
) -> list[tuple[str, str, Any, set[str], int]]:
    u0, c = fees.units[0].id, fees.compound.id
    failed = failed or [1, 1]
    fee = f"/api/v1/admin/compounds/{c}/fees"
    return [
        ("GET", f"/api/v1/payments/units/{u0}/bills", None, MEMBERS, 200),
        ("GET", f"/api/v1/payments/units/{u0}/receipts", None, MEMBERS, 200),
        ("GET", f"/api/v1/payments/receipts/{receipt_id}", None, MEMBERS, 200),
        ("GET", f"/api/v1/payments/orders/{order_id}", None, MEMBERS, 200),
        ("GET", "/api/v1/admin/payments/price-bands", None, set(PEOPLE), 200),
        (
            "PUT",
            "/api/v1/admin/payments/price-bands",
            {"grade": 3, "base_fen": "120", "float_percent": "15", "effective_from": "2026-01-01"},
            {"supervisor"},
            200,
        ),
        ("GET", f"{fee}/contract", None, READERS, 200),
        ("GET", f"{fee}/items", None, READERS, 200),
        ("GET", f"{fee}/billing-runs", None, READERS, 200),
        ("GET", f"{fee}/arrears", None, READERS, 200),
        ("GET", f"{fee}/late-payments", None, READERS, 200),
        ("GET", f"{fee}/income?year=2026", None, READERS, 200),
        ("GET", f"{fee}/orders", None, STAFF, 200),
        ("GET", f"{fee}/orders/{order_id}/refunds", None, STAFF, 200),
        ("GET", f"{fee}/orders/{order_id}/receipt", None, STAFF, 200),
        ("GET", f"{fee}/ledger/verify", None, STAFF, 200),
        ("GET", f"{fee}/reconciliations", None, STAFF, 200),
        ("GET", f"{fee}/refunds/unsettled", None, READERS, 200),
        # before the new refund below, which settles the closed one
        ("POST", f"{fee}/refunds/{failed[0]}/retry", None, STAFF, 201),
        ("POST", f"{fee}/refunds/{failed[1]}/recheck", None, STAFF, 200),
        (
            "PUT",
            f"{fee}/contract",
            {
                "grade": 2,
                "price_fen": "160",
                "starts_on": "2030-01-01",
                "ends_on": "2031-01-01",
                "sub_mchid": "1900000109",
            },
            STAFF,
            201,
        ),
        (
            "POST",
            f"{fee}/items",
            {"name": "车位管理费", "kind": "fixed_monthly", "monthly_fen": 5000, "notice_id": fees.notice_id},
            STAFF,
            201,
        ),
        ("POST", f"{fee}/billing-runs", {"period": "2026-04"}, STAFF, 200),
        ("POST", f"{fee}/orders/{order_id}/refunds", {"amount_fen": 100, "reason": "测试"}, STAFF, 201),
        ("POST", f"{fee}/reconciliations", {"bill_date": "2026-03-01"}, STAFF, 201),
        ("DELETE", f"{fee}/items/{fees.item.id}", None, STAFF, 204),
    ]


async def test_every_route_for_every_person(fees: Fees, matrix: Any) -> None:
    http, _, order, receipt, failed = matrix
    problems = []
    for method, path, body, allowed, ok in _routes(fees, order.id, receipt.id, failed):
        # the one allowed to change things goes last, so every refusal is checked against the same state
        for who in sorted(EVERYONE, key=lambda w: w in allowed):
            before = await counts()
            r = await http.request(method, path, json=body, headers=fees.headers(who))
            expected = ok if who in allowed else 401 if who == "anonymous" else (403, 404)
            if r.status_code != expected and not (isinstance(expected, tuple) and r.status_code in expected):
                problems.append(f"{method} {path} as {who}: {r.status_code} {r.text[:120]}")
            if who not in allowed and await counts() != before:
                problems.append(f"{method} {path} as {who}: refused but changed something")
    assert problems == []


async def test_only_the_units_people_may_pay_its_bill(fees: Fees, matrix: Any) -> None:
    http, *_ = matrix
    february = await Bill.get(unit_id=fees.units[0].id, period="2026-02")
    for who in sorted(set(PEOPLE) - MEMBERS):
        before = await counts()
        r = await http.post(
            "/api/v1/payments/orders", json={"bill_ids": [february.id]}, headers=fees.headers(who)
        )
        assert (r.status_code, r.json()["code"]) == (403, "not_payer_of_unit"), who
        assert await counts() == before
    r = await http.post(
        "/api/v1/payments/orders", json={"bill_ids": [february.id]}, headers=fees.headers("anonymous")
    )
    assert r.status_code == 401
    r = await http.post(
        "/api/v1/payments/orders", json={"bill_ids": [february.id]}, headers=fees.headers("owner")
    )
    assert r.status_code == 201
    r = await http.post(
        "/api/v1/payments/orders", json={"bill_ids": [february.id]}, headers=fees.headers("resident")
    )
    assert (r.status_code, r.json()["code"]) == (409, "bills_pending")


async def test_no_company_bills_a_compound_without_its_contract(fees: Fees, matrix: Any) -> None:
    http, *_ = matrix
    far = f"/api/v1/admin/compounds/{fees.far_compound.id}/fees"
    near = f"/api/v1/admin/compounds/{fees.compound.id}/fees"
    before = await counts()
    # the other company serves the far compound but has no fee contract there
    r = await http.post(
        f"{far}/billing-runs", json={"period": "2026-03"}, headers=fees.headers("other_property_staff")
    )
    assert (r.status_code, r.json()["code"]) == (403, "no_fee_contract")
    # and no role at all over our compound; our company none over the far one
    r = await http.post(
        f"{near}/billing-runs", json={"period": "2026-05"}, headers=fees.headers("other_property_staff")
    )
    assert r.status_code == 403
    r = await http.post(
        f"{far}/billing-runs", json={"period": "2026-05"}, headers=fees.headers("property_staff")
    )
    assert r.status_code == 403
    r = await http.get(f"{far}/arrears", headers=fees.headers("committee"))
    assert r.status_code == 403
    r = await http.get(f"/api/v1/payments/units/{fees.far_unit.id}/bills", headers=fees.headers("resident"))
    assert r.status_code == 403
    assert await counts() == before


def test_every_payments_route_is_in_the_matrix(fees: Fees, server: Any) -> None:
    # the notification is WeChat Pay's (signature, not session: tests/payments/test_http.py); paying is
    # checked person by person in test_only_the_units_people_may_pay_its_bill
    outside = {("POST", "/api/v1/payments/wechatpay/notify"), ("POST", "/api/v1/payments/orders")}
    routes = declared(
        server.app, "/api/v1/payments", "/api/v1/admin/payments", "/api/v1/admin/compounds/<>/fees"
    )
    assert routes - outside == covered(_routes(fees, 1, 1))
