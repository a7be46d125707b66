"""The owner's online deposit through the fake WeChat Pay over real HTTP (our real client, our real
notify route): paid to the fund's own sub-merchant, a notification repeated 50 times (concurrently)
lands once; only the unit's owners pay; nothing is due afterwards."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.cache import Cache
from fund import ledger, subaccounts
from fund.models import FundEntry
from fund.rules import EntryKind
from payments.models import Payee, PayeeKind, PaymentOrder
from tests.fund.conftest import FundWorld
from tests.payments.conftest import NOTIFY_PATH, SP_APPID, SP_MCHID, pay_keys  # noqa: F401

FUND_SUB_MCHID = "1900000209"


@pytest.fixture
async def stack(world: FundWorld, serve: Any, cache: Cache, pay_keys: Any) -> Any:  # noqa: F811
    from wechat.pay.client import WeChatPayClient
    from wechat.pay.fake import FakeWeChatPay

    merchant, platform, stranger = pay_keys
    fake = FakeWeChatPay(SP_MCHID, SP_APPID, merchant=merchant, platform=platform, wrong_key=stranger)
    await fake.start()
    server = await serve()
    client = WeChatPayClient(**fake.client_options(), notify_url=server.url + NOTIFY_PATH, cache=cache)
    server.app.ctx.wechat_pay = client
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
        yield http, fake
    await client.aclose()
    await fake.stop()


async def test_a_deposit_notified_50_times_lands_once(world: FundWorld, stack: Any) -> None:
    http, fake = stack
    unit = world.lift_units[0]
    path = f"/api/v1/fund/units/{unit.id}/deposits"
    before_set = await http.post(path, headers=world.headers("owner"))
    assert (before_set.status_code, before_set.json()["code"]) == (409, "fund_no_special_account")
    r = await http.put(
        "/api/v1/admin/fund/special-account",
        json={"name": "县住房专项维修资金专户", "sub_mchid": FUND_SUB_MCHID},
        headers=world.headers("fund_office"),
    )
    assert r.status_code == 200, r.text
    payee = await Payee.get(sub_mchid=FUND_SUB_MCHID)
    assert payee.kind is PayeeKind.FUND_ACCOUNT and payee.company_id is None

    for who in ("resident", "outsider", "property_staff", "committee"):
        refused = await http.post(path, headers=world.headers(who))
        assert (refused.status_code, refused.json()["code"]) == (403, "not_owner_of_unit"), who
    assert not await PaymentOrder.exists()

    created = await http.post(path, headers=world.headers("owner"))
    assert created.status_code == 201, created.text
    order = created.json()["order"]
    assert (created.json()["kind"], order["amount_fen"]) == ("first_deposit", 621_600)
    stored = await PaymentOrder.get(id=order["id"])
    assert (stored.sub_mchid, stored.payee_id) == (
        FUND_SUB_MCHID,
        payee.id,
    )  # the fund's, never the company's

    await fake.pay(order["out_trade_no"], deliver=False)
    delivery = await fake.notify_transaction(order["out_trade_no"], times=50, concurrent=True)
    assert delivery.status in (200, 204)

    landed = await FundEntry.filter(ref=f"order:{order['out_trade_no']}")
    assert [(e.kind, e.amount_fen) for e in landed] == [(EntryKind.FIRST_DEPOSIT, 621_600)]
    account = await subaccounts.account_of_unit(unit.id)
    assert await ledger.balance(account.id) == 621_600
    assert (await ledger.verify(world.compound.id)).ok

    status = await http.get(f"{path}/{order['id']}", headers=world.headers("owner"))
    assert status.json()["state"] == "paid"
    mine = await http.get(f"/api/v1/fund/units/{unit.id}", headers=world.headers("owner"))
    assert (mine.json()["balance_fen"], mine.json()["first_paid"], mine.json()["due"]["amount_fen"]) == (
        621_600,
        True,
        0,
    )
    again = await http.post(path, headers=world.headers("owner"))
    assert (again.status_code, again.json()["code"]) == (409, "fund_nothing_due")
