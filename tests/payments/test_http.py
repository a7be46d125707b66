"""Residents pay over real HTTP: our server, our real WeChat Pay client, the fake WeChat Pay on
loopback sending signed, encrypted notifications to our notify route."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import replace
from datetime import timedelta
from typing import Any

from core import clock
from payments import billing
from payments.models import Bill, LedgerEntry, PaymentOrder, Receipt, RefundRecord
from tests.payments.conftest import ACTOR, NOTIFY_PATH, Stack, counts


async def _bill_run(stack: Stack, period: str = "2026-03") -> None:
    await billing.run_billing(
        ACTOR, compound_id=stack.fees.compound.id, period_text=period, metered_fen={}, user_id=None
    )


async def _pay_order(stack: Stack, who: str = "resident") -> dict[str, Any]:
    await _bill_run(stack)
    bill = await Bill.get(unit_id=stack.fees.units[0].id)
    r = await stack.http.post(
        "/api/v1/payments/orders", json={"bill_ids": [bill.id]}, headers=stack.fees.headers(who)
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_resident_sees_bills_pays_and_gets_a_receipt(stack: Stack) -> None:
    fees = stack.fees
    await _bill_run(stack)
    r = await stack.http.get(
        f"/api/v1/payments/units/{fees.units[0].id}/bills", headers=fees.headers("resident")
    )
    assert r.status_code == 200
    body = r.json()
    assert body["arrears"] == {"bills": 1, "owed_fen": 13320}
    assert [(b["item"], b["period"], b["amount_fen"], b["status"]) for b in body["items"]] == [
        ("物业服务费", "2026-03", 13320, "unpaid")
    ]
    r = await stack.http.post(
        "/api/v1/payments/orders",
        json={"bill_ids": [body["items"][0]["id"]]},
        headers=fees.headers("resident"),
    )
    assert r.status_code == 201
    paid = r.json()
    assert paid["order"]["state"] == "created" and paid["order"]["amount_fen"] == 13320
    params = paid["payment"]
    assert params["appId"] == stack.fake.sp_appid and params["signType"] == "RSA"
    assert params["package"].startswith("prepay_id=") and base64.b64decode(params["paySign"])
    no = paid["order"]["out_trade_no"]
    delivery = await stack.fake.pay(no)
    assert delivery.status == 204
    r = await stack.http.get(
        f"/api/v1/payments/orders/{paid['order']['id']}", headers=fees.headers("resident")
    )
    assert r.json()["state"] == "paid"
    r = await stack.http.get(
        f"/api/v1/payments/units/{fees.units[0].id}/receipts", headers=fees.headers("owner")
    )
    [receipt] = r.json()["items"]
    assert (receipt["amount_fen"], receipt["payee"], receipt["out_trade_no"]) == (13320, "安居物业", no)
    assert receipt["lines"][0]["period"] == "2026-03"
    r = await stack.http.get(f"/api/v1/payments/receipts/{receipt['id']}", headers=fees.headers("resident"))
    assert r.status_code == 200 and r.json()["number"] == receipt["number"]
    r = await stack.http.get(
        f"/api/v1/payments/units/{fees.units[0].id}/bills", headers=fees.headers("resident")
    )
    assert r.json()["arrears"] == {"bills": 0, "owed_fen": 0}


async def test_fifty_concurrent_notifications_pay_once(stack: Stack) -> None:
    paid = await _pay_order(stack)
    no = paid["order"]["out_trade_no"]
    await stack.fake.pay(no, deliver=False)
    await stack.fake.notify_transaction(no, times=50, concurrent=True)
    statuses = [d.status for d in stack.fake.deliveries if d.key == no]
    assert statuses == [204] * 50
    assert await LedgerEntry.all().count() == 1
    assert await Receipt.all().count() == 1
    order = await PaymentOrder.get(out_trade_no=no)
    assert order.state.value == "paid"


async def test_notification_racing_the_status_query(stack: Stack) -> None:
    paid = await _pay_order(stack)
    no, order_id = paid["order"]["out_trade_no"], paid["order"]["id"]
    await stack.fake.pay(no, deliver=False)
    headers = stack.fees.headers("resident")
    results = await asyncio.gather(
        stack.fake.notify_transaction(no, times=10, concurrent=True),
        *(stack.http.get(f"/api/v1/payments/orders/{order_id}", headers=headers) for _ in range(10)),
    )
    assert [r.json()["state"] for r in results[1:]] == ["paid"] * 10
    assert [d.status for d in stack.fake.deliveries if d.key == no] == [204] * 10
    assert await LedgerEntry.all().count() == 1


async def _post_notification(stack: Stack, headers: dict[str, str], body: bytes) -> Any:
    return await stack.http.post(
        NOTIFY_PATH, content=body, headers={**headers, "Content-Type": "application/json"}
    )


async def _refused(stack: Stack, change: dict[str, Any] | None = None, **signing: Any) -> Any:
    """Pay at the fake without telling us, then send a notification altered as asked; return our answer."""
    paid = await _pay_order(stack)
    no = paid["order"]["out_trade_no"]
    await stack.fake.pay(no, deliver=False)
    payload = stack.fake.transaction_json(stack.fake.order(no))
    for key, value in (change or {}).items():
        if key == "amount":
            payload["amount"] = {**payload["amount"], "total": value}
        else:
            payload[key] = value
    before = await counts()
    headers, body = stack.fake.signed_notification("TRANSACTION.SUCCESS", payload, **signing)
    answer = await _post_notification(stack, headers, body)
    assert await counts() == before
    assert (await PaymentOrder.get(out_trade_no=no)).state.value == "created"
    assert await Bill.filter(status="paid").count() == 0
    assert answer.json()["code"] == "FAIL" and answer.json()["message"]
    return answer


async def test_wrong_amount_refused(stack: Stack) -> None:
    assert (await _refused(stack, {"amount": 13319})).status_code == 400


async def test_wrong_mchid_refused(stack: Stack) -> None:
    assert (await _refused(stack, {"sp_mchid": "1230000999"})).status_code == 400
    assert await LedgerEntry.all().count() == 0


async def test_wrong_sub_mchid_refused(stack: Stack) -> None:
    assert (await _refused(stack, {"sub_mchid": "1900000999"})).status_code == 400


async def test_unknown_order_refused(stack: Stack) -> None:
    assert (await _refused(stack, {"out_trade_no": "WY20260301000000deadbeef00"})).status_code == 404


async def test_forged_signature_refused(stack: Stack) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert (await _refused(stack, key=stranger)).status_code == 401


async def test_stale_notification_refused(stack: Stack) -> None:
    stale = str(int(clock.now().timestamp()) - 301)
    assert (await _refused(stack, timestamp=stale)).status_code == 401


async def test_probe_refused(stack: Stack) -> None:
    delivery = await stack.fake.probe(stack.notify_url)
    assert delivery.status == 401


async def test_notify_body_bounded(stack: Stack) -> None:
    r = await stack.http.post(
        NOTIFY_PATH, content=b"{" + b" " * 20000 + b"}", headers={"Content-Type": "application/json"}
    )
    assert (r.status_code, r.json()["code"]) == (413, "FAIL")
    r = await stack.http.post(NOTIFY_PATH, content=b"x=1", headers={"Content-Type": "text/plain"})
    assert (r.status_code, r.json()["code"]) == (415, "FAIL")


async def test_company_refunds_part_and_the_notification_settles_it(stack: Stack) -> None:
    fees = stack.fees
    paid = await _pay_order(stack)
    await stack.fake.pay(paid["order"]["out_trade_no"])
    base = f"/api/v1/admin/compounds/{fees.compound.id}/fees"
    r = await stack.http.post(
        f"{base}/orders/{paid['order']['id']}/refunds",
        json={"amount_fen": 3000, "reason": "多收车位费"},
        headers=fees.headers("property_staff"),
    )
    assert r.status_code == 201, r.text
    refund = r.json()
    assert (refund["state"], refund["amount_fen"]) == ("processing", 3000)
    delivery = await stack.fake.complete_refund(refund["out_refund_no"], "SUCCESS")
    assert delivery.status == 204
    record = await RefundRecord.get(id=refund["id"])
    assert record.state.value == "success"
    order = await PaymentOrder.get(id=paid["order"]["id"])
    assert (order.state.value, order.refunded_fen) == ("partially_refunded", 3000)
    kinds = [str(k) for k in await LedgerEntry.all().order_by("id").values_list("kind", flat=True)]
    assert kinds == ["payment", "refund"]
    r = await stack.http.post(
        f"{base}/orders/{paid['order']['id']}/refunds",
        json={"amount_fen": 10321, "reason": "超额"},
        headers=fees.headers("property_staff"),
    )
    assert r.status_code == 400 and r.json()["code"] == "refund_invalid"
    r = await stack.http.get(f"{base}/ledger/verify", headers=fees.headers("property_staff"))
    assert r.json() == {"ok": True, "entries": 2, "problems": []}


async def test_reconciliation_report_lists_differences(stack: Stack) -> None:
    fees = stack.fees
    paid = await _pay_order(stack)
    no = paid["order"]["out_trade_no"]
    await stack.fake.pay(no, deliver=False)
    # paid yesterday (today's bill is still being made, as WeChat Pay answers until the morning after)
    yesterday = clock.now() - timedelta(days=1)
    stack.fake.order(no).success_time = yesterday
    assert (await stack.fake.notify_transaction(no)).status == 204
    day = clock.to_local(yesterday).date()
    base = f"/api/v1/admin/compounds/{fees.compound.id}/fees"
    r = await stack.http.post(
        f"{base}/reconciliations", json={"bill_date": day.isoformat()}, headers=fees.headers("property_staff")
    )
    assert r.status_code == 201, r.text
    assert (r.json()["matched"], r.json()["differences"]) == (1, [])
    stack.fake.edit_bill(day, lambda rows: [replace(rows[0], order_total_fen=13000)])
    r = await stack.http.post(
        f"{base}/reconciliations", json={"bill_date": day.isoformat()}, headers=fees.headers("property_staff")
    )
    assert [(d["difference"], d["bill_fen"], d["ledger_fen"]) for d in r.json()["differences"]] == [
        ("amount_differs", 13000, 13320)
    ]
    assert await LedgerEntry.all().count() == 1  # listed, not fixed


async def test_company_bills_by_http_and_repeat_creates_nothing(stack: Stack) -> None:
    fees = stack.fees
    base = f"/api/v1/admin/compounds/{fees.compound.id}/fees"
    r = await stack.http.post(
        f"{base}/billing-runs", json={"period": "2026-05"}, headers=fees.headers("property_staff")
    )
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["total_fen"], r.json()["units"]) == (3, 39960, 3)
    r = await stack.http.post(
        f"{base}/billing-runs", json={"period": "2026-05"}, headers=fees.headers("property_staff")
    )
    assert (r.json()["created"], r.json()["total_fen"]) == (0, 39960)
    r = await stack.http.post(
        f"{base}/billing-runs", json={"period": "2026-13"}, headers=fees.headers("property_staff")
    )
    assert r.status_code == 400 and r.json()["code"] == "period_invalid"
    r = await stack.http.get(f"{base}/arrears?limit=2", headers=fees.headers("committee"))
    page = r.json()
    assert (page["units_in_arrears"], page["owed_fen"], len(page["items"])) == (3, 39960, 2)
    r = await stack.http.get(
        f"{base}/arrears?limit=2&cursor={page['next_cursor']}", headers=fees.headers("committee")
    )
    assert [u["unit_id"] for u in r.json()["items"]] == [fees.units[2].id] and r.json()["next_cursor"] is None


async def test_income_and_late_payments_for_the_committee(stack: Stack) -> None:
    fees = stack.fees
    paid = await _pay_order(stack)
    await stack.fake.pay(paid["order"]["out_trade_no"])
    year = clock.to_local(clock.now()).year
    base = f"/api/v1/admin/compounds/{fees.compound.id}/fees"
    r = await stack.http.get(f"{base}/income?year={year}", headers=fees.headers("committee"))
    assert r.status_code == 200
    [row] = r.json()["items"]
    assert (row["received_fen"], row["refunded_fen"], row["net_fen"], row["payments"]) == (13320, 0, 13320, 1)
    r = await stack.http.get(f"{base}/late-payments", headers=fees.headers("community_admin"))
    # the 2026-03 bills of the two other units are overdue now; unit 0 paid
    assert (r.json()["units_in_arrears"], r.json()["owed_fen"]) == (2, 26640)
    assert fees.units[0].id not in [u["unit_id"] for u in r.json()["items"]]


async def test_notify_route_without_wechat_pay_asks_for_a_retry(fees: Any, serve: Any) -> None:
    import httpx

    server = await serve()
    server.app.ctx.wechat_pay = None  # as before the start (or where WeChat Pay is not opened)
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.post(NOTIFY_PATH, content=b"{}", headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (503, "FAIL")
