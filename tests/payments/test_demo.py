"""The demo fees: loading twice adds nothing, and the demo committee chair (an owner in 阳光花园) pays
a demo bill through the fake WeChat Pay over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from accounts.demo import seed_demo
from accounts.models import User
from accounts.sessions import open_session
from core.cache import Cache
from notices.demo import seed_notices
from payments.demo import seed_payments
from payments.models import Bill, LedgerEntry
from tests.payments.conftest import NOTIFY_PATH


async def test_demo_resident_pays_a_demo_bill(serve: Any, cache: Cache, pay_keys: Any) -> None:
    from wechat.pay.client import WeChatPayClient
    from wechat.pay.fake import FakeWeChatPay

    await seed_demo(hmac_key=b"k" * 32)
    await seed_notices()
    first = await seed_payments()
    bills = await Bill.all().count()
    assert bills > 0 and first.startswith(f"demo fees: {bills} new bills")
    assert (await seed_payments()).startswith("demo fees: 0 new bills")
    merchant, platform, stranger = pay_keys
    fake = FakeWeChatPay(
        "1230000109", "wx0000000000000001", merchant=merchant, platform=platform, wrong_key=stranger
    )
    await fake.start()
    server = await serve()
    server.app.ctx.wechat_pay = WeChatPayClient(
        **fake.client_options(), notify_url=server.url + NOTIFY_PATH, cache=cache
    )
    try:
        chair = await User.get(openid="demo-committee")
        token = (await open_session(cache, chair.id, 3600)).token
        headers = {"authorization": f"Bearer {token}"}
        unit_id = (await chair.owner_records.all().prefetch_related("ownerships"))[0].ownerships[0].unit_id  # type: ignore[attr-defined]
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            r = await http.get(f"/api/v1/payments/units/{unit_id}/bills?status=unpaid", headers=headers)
            assert r.status_code == 200 and r.json()["arrears"]["bills"] >= 1
            bill = r.json()["items"][0]
            r = await http.post("/api/v1/payments/orders", json={"bill_ids": [bill["id"]]}, headers=headers)
            assert r.status_code == 201, r.text
            assert (await fake.pay(r.json()["order"]["out_trade_no"])).status == 204  # type: ignore[union-attr]
            r = await http.get(f"/api/v1/payments/orders/{r.json()['order']['id']}", headers=headers)
            assert r.json()["state"] == "paid"
        assert await LedgerEntry.all().count() == 1
    finally:
        await server.app.ctx.wechat_pay.aclose()
        await fake.stop()


async def _demo_order(serve: Any, cache: Cache, *, auto_pay: bool = True) -> tuple[Any, dict[str, str], int]:
    """The demo county loaded, a server as `make run` builds it (no client put on it by the test), and
    an order for one of the demo chair's bills: (server, the chair's headers, the order's id)."""
    await seed_demo(hmac_key=b"k" * 32)
    await seed_notices()
    await seed_payments()
    server = await serve()
    if not auto_pay:  # the fake would pay it by itself a few seconds later
        server.app.ctx.fake_wechat_pay.auto_pay_after = None
    chair = await User.get(openid="demo-committee")
    headers = {"authorization": f"Bearer {(await open_session(cache, chair.id, 3600)).token}"}
    unit_id = (await chair.owner_records.all().prefetch_related("ownerships"))[0].ownerships[0].unit_id  # type: ignore[attr-defined]
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        r = await http.get(f"/api/v1/payments/units/{unit_id}/bills?status=unpaid", headers=headers)
        bill_ids = [r.json()["items"][0]["id"]]
        r = await http.post("/api/v1/payments/orders", json={"bill_ids": bill_ids}, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["payment"]["package"].startswith("prepay_id=")
    return server, headers, r.json()["order"]["id"]


async def test_the_composition_root_s_fake_wechat_pay_takes_a_demo_payment_by_itself(
    serve: Any, cache: Cache
) -> None:
    """What `make run` does: the app starts the fake WeChat Pay and our real client; the fake pays a
    new order by itself and notifies our notify URL."""
    import asyncio

    server, headers, order_id = await _demo_order(serve, cache)
    assert server.app.ctx.fake_wechat_pay is not None
    state = "created"
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        for _ in range(60):
            await asyncio.sleep(0.5)
            state = (await http.get(f"/api/v1/payments/orders/{order_id}", headers=headers)).json()["state"]
            if state == "paid":
                break
    assert state == "paid"
    deliveries = server.app.ctx.fake_wechat_pay.deliveries
    assert deliveries and all(d.url == server.url + NOTIFY_PATH for d in deliveries)
    assert await LedgerEntry.all().count() == 1


async def test_the_periodic_job_closes_an_expired_order_at_the_fake_and_here(
    serve: Any, cache: Cache
) -> None:
    """The registered payment_orders job (run by the clock or `python -m server worker`)."""
    from datetime import timedelta

    from core import clock
    from payments.models import PaymentOrder
    from server import jobs

    server, _, order_id = await _demo_order(serve, cache, auto_pay=False)
    await PaymentOrder.filter(id=order_id).update(expires_at=clock.now() - timedelta(seconds=1))
    (job,) = [j for j in jobs.PERIODIC if j.name == "payment_orders"]
    assert await job.run(jobs.JobContext(server.app.ctx.wechat, server.app.ctx.wechat_pay)) == 1
    assert (await PaymentOrder.get(id=order_id)).state.value == "closed"
    fake = server.app.ctx.fake_wechat_pay
    assert [c for c in fake.calls if "close" in str(c)], fake.calls
    assert await job.run(jobs.JobContext(server.app.ctx.wechat)) == 0  # no WeChat Pay: nothing to do
    assert await LedgerEntry.all().count() == 0
