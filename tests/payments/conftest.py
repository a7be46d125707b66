"""A compound with fees set up: a price band, the company's fee contract, a posted property-fee
item, and someone in every role; and ``StubPay``, an in-memory WeChatPayApi for service tests (the
HTTP tests use the fake WeChat Pay server over loopback)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import (
    Building,
    Committee,
    CommitteeMember,
    Community,
    Compound,
    Owner,
    Ownership,
    PropertyCompany,
    Resident,
    ResidentRelation,
    RoleGrant,
    ServiceContract,
    Unit,
    User,
)
from accounts.sessions import open_session
from audit.service import Actor
from core import clock
from core.cache import Cache
from notices import service as notices
from payments import setup
from payments.models import FeeContract, FeeItem
from payments.rules import ItemKind
from wechat.pay.errors import WeChatPayOrderNotFound, WeChatPayOrderPaid
from wechat.pay.protocol import BillRow, PaymentParams, PayNotification, Refund, Transaction

SP_MCHID = "1230000109"
SP_APPID = "wx0000000000000001"
SUB_MCHID = "1900000109"
ACTOR = Actor("user:test", "测试")

PEOPLE = (
    "owner",
    "resident",
    "neighbour",
    "outsider",
    "committee",
    "property_staff",
    "other_property_staff",
    "community_admin",
    "other_community_admin",
    "supervisor",
    "far_resident",
)


class StubPay:
    """WeChat Pay in memory: orders it was asked to create, a hook to pay one, refunds answered
    PROCESSING, a trade bill set by the test."""

    def __init__(self) -> None:
        self.sp_mchid = SP_MCHID
        self.sp_appid = SP_APPID
        self.orders: dict[str, Transaction] = {}
        self.closed: list[str] = []
        self.refunds: dict[str, Refund] = {}
        self.bill: list[BillRow] = []
        self.fail_prepay = False

    async def jsapi_prepay(
        self,
        *,
        sub_mchid: str,
        description: str,
        out_trade_no: str,
        amount_fen: int,
        payer_openid: str,
        time_expire: datetime,
        attach: str = "",
    ) -> str:
        if self.fail_prepay:
            from wechat.pay.errors import WeChatPayUnreachable

            raise WeChatPayUnreachable()
        self.orders[out_trade_no] = Transaction(
            sp_mchid=self.sp_mchid,
            sp_appid=self.sp_appid,
            sub_mchid=sub_mchid,
            out_trade_no=out_trade_no,
            trade_state="NOTPAY",
            trade_state_desc="未支付",
            amount_total=amount_fen,
            payer_openid=payer_openid,
        )
        return "wx" + secrets.token_hex(16)

    def payment_params(self, prepay_id: str) -> PaymentParams:
        return PaymentParams(self.sp_appid, "1700000000", "nonce", f"prepay_id={prepay_id}", "RSA", "c2ln")

    def pay_now(self, out_trade_no: str) -> Transaction:
        paid = replace(
            self.orders[out_trade_no],
            trade_state="SUCCESS",
            transaction_id="42" + secrets.token_hex(8),
            success_time=clock.now(),
            payer_total=self.orders[out_trade_no].amount_total,
        )
        self.orders[out_trade_no] = paid
        return paid

    async def query_order(self, *, sub_mchid: str, out_trade_no: str) -> Transaction:
        if out_trade_no not in self.orders:
            raise WeChatPayOrderNotFound()
        return self.orders[out_trade_no]

    async def close_order(self, *, sub_mchid: str, out_trade_no: str) -> None:
        if self.orders.get(out_trade_no) and self.orders[out_trade_no].trade_state == "SUCCESS":
            raise WeChatPayOrderPaid()
        self.closed.append(out_trade_no)

    async def refund(
        self,
        *,
        sub_mchid: str,
        out_trade_no: str,
        out_refund_no: str,
        refund_fen: int,
        total_fen: int,
        reason: str,
    ) -> Refund:
        answer = Refund(
            out_refund_no=out_refund_no,
            out_trade_no=out_trade_no,
            status="PROCESSING",
            refund_fen=refund_fen,
            total_fen=total_fen,
            refund_id="50" + secrets.token_hex(8),
            sub_mchid=sub_mchid,
        )
        self.refunds[out_refund_no] = answer
        return answer

    async def query_refund(self, *, sub_mchid: str, out_refund_no: str) -> Refund:
        return self.refunds[out_refund_no]

    async def trade_bill(self, *, bill_date: date, sub_mchid: str | None = None) -> list[BillRow]:
        return list(self.bill)

    async def parse_notification(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> PayNotification:
        raise NotImplementedError

    async def forget_notification(self, notification: PayNotification) -> None:
        return None

    async def aclose(self) -> None:
        return None


@dataclass
class Fees:
    users: dict[str, User]
    compound: Compound
    far_compound: Compound
    units: list[Unit]
    far_unit: Unit
    company: PropertyCompany
    contract: FeeContract
    item: FeeItem
    notice_id: int
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[who]}"} if who != "anonymous" else {}

    def uid(self, who: str) -> int:
        return self.users[who].id


async def post_fee_standard(compound_id: int, title: str = "物业服务收费标准") -> int:
    return await notices.post_system_notice(
        compound_id=compound_id,
        category="fee_standard",
        title=title,
        body_markdown="住宅物业费 1.50 元/㎡·月",
        actor=ACTOR,
        subject="fee_standard",
    )


@pytest.fixture
async def fees(clean_db: None, cache: Cache) -> Fees:
    east = await Community.create(name="东街社区")
    west = await Community.create(name="西街社区")
    compound = await Compound.create(community=east, name="阳光花园")
    far = await Compound.create(community=west, name="远方小区")
    building = await Building.create(compound=compound, name="1号楼")
    far_building = await Building.create(compound=far, name="1号楼")
    units = [
        await Unit.create(compound=compound, building=building, number=f"{i}01", area=Decimal("88.80"))
        for i in range(1, 4)
    ]
    far_unit = await Unit.create(compound=far, building=far_building, number="101", area=Decimal("70.00"))
    users = {
        name: await User.create(openid=f"openid-{name}", nickname=name, phone="13912345678")
        for name in PEOPLE
    }
    owner = await Owner.create(name="业主甲", user=users["owner"], compound=compound)
    await Ownership.create(unit=units[0], owner=owner)
    await Resident.create(unit=units[0], user=users["resident"], relation=ResidentRelation.TENANT)
    await Resident.create(unit=units[1], user=users["neighbour"], relation=ResidentRelation.FAMILY)
    await Resident.create(unit=far_unit, user=users["far_resident"], relation=ResidentRelation.TENANT)
    member = await Owner.create(name="委员乙", user=users["committee"], compound=compound)
    await Ownership.create(unit=units[2], owner=member)
    committee = await Committee.create(
        compound=compound, term_starts_on=date(2020, 1, 1), term_ends_on=date(2099, 1, 1)
    )
    await CommitteeMember.create(committee=committee, owner=member)
    company = await PropertyCompany.create(name="安居物业", credit_code="91510000MA0000002Y")
    other = await PropertyCompany.create(name="别家物业", credit_code="91510000MA0000003Y")
    await ServiceContract.create(
        company=company,
        compound=compound,
        starts_on=date(2020, 1, 1),
        ends_on=date(2099, 1, 1),
        price_fen_per_m2=150,
    )
    await ServiceContract.create(
        company=other,
        compound=far,
        starts_on=date(2020, 1, 1),
        ends_on=date(2099, 1, 1),
        price_fen_per_m2=150,
    )
    grants = [
        ("property_staff", "property_staff", "company", company.id),
        ("other_property_staff", "property_staff", "company", other.id),
        ("community_admin", "community_admin", "community", east.id),
        ("other_community_admin", "community_admin", "community", west.id),
        ("supervisor", "supervisor", "county", 0),
    ]
    for who, role, scope, scope_id in grants:
        await RoleGrant.create(user=users[who], role=role, scope_type=scope, scope_id=scope_id)
    await setup.set_price_band(
        ACTOR,
        grade=2,
        base_fen=Decimal(150),
        float_percent=Decimal(20),
        effective_from=date(2020, 1, 1),
        user_id=users["supervisor"].id,
    )
    contract = await setup.set_fee_contract(
        ACTOR,
        setup.ContractTerms(
            compound.id, company.id, 2, Decimal(150), date(2020, 1, 1), date(2099, 1, 1), SUB_MCHID
        ),
    )
    notice_id = await post_fee_standard(compound.id)
    item = await setup.add_fee_item(
        ACTOR, contract, setup.ItemTerms(name="物业服务费", kind=ItemKind.BY_AREA, notice_id=notice_id)
    )
    tokens = {name: (await open_session(cache, user.id, 3600)).token for name, user in users.items()}
    return Fees(users, compound, far, units, far_unit, company, contract, item, notice_id, tokens)


@pytest.fixture
def stub_pay() -> StubPay:
    return StubPay()


def counts() -> Any:
    """Row counts of every payments table, to assert that a refused action changed nothing."""
    from payments import models

    async def read() -> dict[str, int]:
        return {
            name: await getattr(models, name).all().count()
            for name in ("Bill", "PaymentOrder", "OrderBill", "LedgerEntry", "Receipt", "RefundRecord")
        }

    return read()


# --- the fake WeChat Pay over loopback, our real client, our real server ---------------------

NOTIFY_PATH = "/api/v1/payments/wechatpay/notify"


@pytest.fixture(scope="session")
def pay_keys() -> Any:
    from wechat.pay.keys import generate_key_pair

    return (
        generate_key_pair(),
        generate_key_pair("PUB_KEY_ID_0119000001002026120100000001"),
        generate_key_pair(),
    )


@dataclass
class Stack:
    server: Any
    fake: Any
    client: Any
    http: Any
    fees: Fees

    @property
    def notify_url(self) -> str:
        return self.server.url + NOTIFY_PATH


@pytest.fixture
async def stack(fees: Fees, serve: Any, cache: Cache, pay_keys: Any) -> Any:
    import httpx

    from wechat.pay.client import WeChatPayClient
    from wechat.pay.fake import FakeWeChatPay

    merchant, platform, stranger = pay_keys
    fake = FakeWeChatPay(SP_MCHID, SP_APPID, merchant=merchant, platform=platform, wrong_key=stranger)
    await fake.start()
    server = await serve()
    client = WeChatPayClient(**fake.client_options(), notify_url=server.url + NOTIFY_PATH, cache=cache)
    server.app.ctx.wechat_pay = client  # what the composition root will hold (wiring: see the report)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        yield Stack(server, fake, client, http, fees)
    await client.aclose()
    await fake.stop()
