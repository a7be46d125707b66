"""The owner's online deposit through the fake WeChat Pay over real HTTP (our real client, our real
notify route): paid to the fund's own sub-merchant, a notification repeated 50 times (concurrently)
lands once; only the unit's owners pay; nothing is due afterwards. The same for a top-up due after a
use took a balance below 30 % of the first deposit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.cache import Cache
from fund import applications, ledger, subaccounts
from fund.models import FundEntry
from fund.rules import EmergencyCategory, EntryKind
from notify.models import Notification
from payments.models import Payee, PayeeKind, PaymentOrder
from tests.fund.conftest import ACTOR, FundWorld, deposit_all
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


async def test_a_top_up_due_after_a_use_is_paid_online_once(world: FundWorld, stack: Any) -> None:
    """Given a unit whose first deposit the developer paid, an emergency use over its building takes
    it below 30 %: the owner is told and sees the top-up due, pays it through WeChat Pay (the signed
    notification delivered 50 times over HTTP, then again later), the balance rises by exactly that
    once, back to the first deposit, and nothing is due any more; a second fall is a second round."""
    http, fake = stack
    await deposit_all(world)
    r = await http.put(
        "/api/v1/admin/fund/special-account",
        json={"name": "县住房专项维修资金专户", "sub_mchid": FUND_SUB_MCHID},
        headers=world.headers("fund_office"),
    )
    assert r.status_code == 200, r.text
    unit = world.lift_units[0]
    account = await subaccounts.account_of_unit(unit.id)
    first = account.first_deposit_fen
    assert first == 621_600  # 88.80 m² × 7000 fen
    path = f"/api/v1/fund/units/{unit.id}"
    nothing = await http.post(f"{path}/deposits", headers=world.headers("owner"))
    assert (nothing.status_code, nothing.json()["code"]) == (409, "fund_nothing_due")

    # the lift building's four flats share 2,000,000 fen by area: 101 is left with about 22 %
    fund = f"/api/v1/admin/compounds/{world.compound.id}/fund"
    body = {
        "title": "1号楼电梯困人抢修",
        "works": "更换电梯主板",
        "budget_fen": 2_000_000,
        "scope": {"buildings": [world.lift.id]},
        "category": "lift_fault",
    }
    app = await http.post(f"{fund}/applications/emergency", json=body, headers=world.headers("committee"))
    assert app.status_code == 201, app.text
    app_id = app.json()["id"]
    done = await http.post(
        f"{fund}/applications/{app_id}/completion",
        json={"cost_fen": 2_000_000},
        headers=world.headers("committee"),
    )
    assert done.status_code == 200, done.text
    paid_out = await http.post(
        f"/api/v1/admin/fund/applications/{app_id}/payout", headers=world.headers("fund_office")
    )
    assert paid_out.status_code == 200, paid_out.text

    (use,) = await FundEntry.filter(account_id=account.id, kind=EntryKind.USE)
    balance = first + use.amount_fen
    assert balance > 0 and balance * 100 < first * 30  # below the threshold
    due = first - balance  # what brings it back to the first deposit
    told = await Notification.filter(event="fund.topup_due", user_id=world.uid("owner"))
    assert [n.key for n in told] == [f"fund.topup_due:fund:unit:{unit.id}:1:{world.uid('owner')}"]

    seen = await http.get(path, headers=world.headers("owner"))
    assert (seen.json()["balance_fen"], seen.json()["due"]) == (
        balance,
        {"kind": "top_up", "amount_fen": due},
    )
    listed = await http.get(f"{fund}/arrears", headers=world.headers("committee"))
    owing = {row["unit_id"]: row for row in listed.json()["items"]}
    assert (owing[unit.id]["due_kind"], owing[unit.id]["due_fen"]) == ("top_up", due)

    tenant = await http.post(f"{path}/deposits", headers=world.headers("resident"))
    assert (tenant.status_code, tenant.json()["code"]) == (403, "not_owner_of_unit")
    created = await http.post(f"{path}/deposits", headers=world.headers("owner"))
    assert created.status_code == 201, created.text
    order = created.json()["order"]
    assert (created.json()["kind"], order["amount_fen"]) == ("top_up", due)
    stored = await PaymentOrder.get(id=order["id"])
    assert (stored.sub_mchid, stored.reference) == (FUND_SUB_MCHID, f"topup:{account.id}:1")
    again = await http.post(f"{path}/deposits", headers=world.headers("owner"))
    assert (again.status_code, again.json()["order"]["id"]) == (201, order["id"])  # the same live order

    await fake.pay(order["out_trade_no"], deliver=False)
    delivery = await fake.notify_transaction(order["out_trade_no"], times=50, concurrent=True)
    assert delivery.status in (200, 204)
    late = await fake.notify_transaction(order["out_trade_no"], times=3)
    assert late.status in (200, 204)

    landed = await FundEntry.filter(ref=f"order:{order['out_trade_no']}")
    assert [(e.kind, e.amount_fen, e.account_id) for e in landed] == [(EntryKind.TOP_UP, due, account.id)]
    assert await ledger.balance(account.id) == balance + due == first
    assert (await ledger.verify(world.compound.id)).ok

    status = await http.get(f"{path}/deposits/{order['id']}", headers=world.headers("owner"))
    assert status.json()["state"] == "paid"
    after = await http.get(path, headers=world.headers("owner"))
    assert (after.json()["balance_fen"], after.json()["due"]) == (first, {"kind": None, "amount_fen": 0})
    shown = await http.get(f"{path}/entries", headers=world.headers("owner"))
    assert [(e["kind"], e["amount_fen"]) for e in shown.json()["items"][:2]] == [
        ("top_up", due),
        ("use", use.amount_fen),
    ]
    listed = await http.get(f"{fund}/arrears", headers=world.headers("committee"))
    assert unit.id not in [row["unit_id"] for row in listed.json()["items"]]
    more = await http.post(f"{path}/deposits", headers=world.headers("owner"))
    assert (more.status_code, more.json()["code"]) == (409, "fund_nothing_due")

    # a second use takes it below again: a second round, told and payable once more
    scope = applications.Scope([], [unit.id])
    proposal = applications.Proposal("101 户内管道抢修", "更换立管", 500_000, scope)
    app2 = await applications.apply_emergency(
        ACTOR, compound_id=world.compound.id, user_id=world.uid("committee"), proposal=proposal,
        category=EmergencyCategory.WATER_PUMP_MAIN, as_committee=True,
    )  # fmt: skip
    app2 = await applications.complete(ACTOR, app2, cost_fen=500_000)
    await applications.pay_out(ACTOR, app2, user_id=world.uid("fund_office"))
    told = await Notification.filter(event="fund.topup_due", user_id=world.uid("owner")).order_by("id")
    assert [n.key for n in told][-1] == f"fund.topup_due:fund:unit:{unit.id}:2:{world.uid('owner')}"
    second = await http.post(f"{path}/deposits", headers=world.headers("owner"))
    assert second.status_code == 201, second.text
    assert (second.json()["kind"], second.json()["order"]["amount_fen"]) == ("top_up", 500_000)
    assert (await PaymentOrder.get(id=second.json()["order"]["id"])).reference == f"topup:{account.id}:2"
    await fake.pay(second.json()["order"]["out_trade_no"])
    assert await ledger.balance(account.id) == first
    tops = await FundEntry.filter(account_id=account.id, kind=EntryKind.TOP_UP).order_by("seq")
    assert [e.amount_fen for e in tops] == [due, 500_000]
    assert (await ledger.verify(world.compound.id)).ok
