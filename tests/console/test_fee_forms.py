"""The property company's fee set-up forms (console.payments_forms), over HTTP through the real app:
a fee item with its posted standard, an item whose standard is not on the board refused with the
domain's message, the contract price inside and outside the band, stopping an item, the items list
paged on the server, and a form without its CSRF token refused. A refused form changes nothing."""

from __future__ import annotations

import re

import httpx

from accounts.models import Compound
from audit.service import SYSTEM
from notices import service as notices
from notices.demo import seed_notices
from payments import setup
from payments.demo import seed_payments
from payments.models import FeeContract, FeeItem
from payments.rules import ItemKind
from tests.console.conftest import Demo, sign_in

NOT_POSTED = "该收费项目的收费标准未在本小区公示栏公示，不得收取"


async def _world(demo: Demo) -> tuple[str, int]:
    """The demo board and fees; the fees page's URL and the compound's posted fee standard."""
    await seed_notices()
    await seed_payments()
    posted = await notices.live_notice_ids(compound_id=demo.compound.id, category=setup.FEE_STANDARD)
    assert posted
    return f"/console/compounds/{demo.compound.id}/fees", posted[0]


async def test_the_company_adds_a_fee_item_with_its_posted_standard(
    demo: Demo, http: httpx.AsyncClient
) -> None:
    fees, posted = await _world(demo)
    csrf = await sign_in(http, "demo-property")
    page = await http.get(fees)
    assert page.status_code == 200 and 'id="item-form"' in page.text and f'value="{posted}"' in page.text

    added = await http.post(
        fees + "/items",
        data={"csrf": csrf, "name": "电梯运行费", "kind": "fixed_monthly", "notice_id": str(posted),
              "price_fen": "", "monthly_fen": "1500", "unit_kind": "flat"},
    )  # fmt: skip
    assert added.status_code == 303 and added.headers["location"].endswith("/fees#items")
    item = await FeeItem.get(compound_id=demo.compound.id, name="电梯运行费")
    assert (item.kind, item.monthly_fen, item.unit_kind, item.notice_id, item.active) == (
        ItemKind.FIXED_MONTHLY, 1500, "flat", posted, True,
    )  # fmt: skip
    shown = await http.get(fees)
    assert "电梯运行费" in shown.text and "¥15.00/月" in shown.text

    stopped = await http.post(fees + f"/items/{item.id}/deactivate", data={"csrf": csrf})
    assert stopped.status_code == 303
    assert not (await FeeItem.get(id=item.id)).active
    again = await http.post(fees + f"/items/{item.id}/deactivate", data={"csrf": csrf})
    assert again.status_code == 404 and "收费项目不存在" in again.text


async def test_an_item_whose_standard_is_not_posted_is_refused_with_the_domains_message(
    demo: Demo, http: httpx.AsyncClient
) -> None:
    fees, _ = await _world(demo)
    other = await notices.live_notice_ids(compound_id=demo.other.id, category=setup.FEE_STANDARD)
    csrf = await sign_in(http, "demo-property")
    before = await FeeItem.all().count()
    for notice_id in [*other[:1], 999_999]:  # another compound's board, and no notice at all
        refused = await http.post(
            fees + "/items",
            data={"csrf": csrf, "name": "装修垃圾清运费", "kind": "by_area", "notice_id": str(notice_id)},
        )
        assert refused.status_code == 409, refused.text
        assert NOT_POSTED in refused.text
    bad = await http.post(
        fees + "/items", data={"csrf": csrf, "name": "", "kind": "by_area", "notice_id": "x"}
    )
    assert bad.status_code == 400 and "填写的内容有误" in bad.text
    assert await FeeItem.all().count() == before


async def test_the_contract_price_outside_the_band_is_refused_with_the_band(
    demo: Demo, http: httpx.AsyncClient
) -> None:
    fees, _ = await _world(demo)
    csrf = await sign_in(http, "demo-property")
    current = await FeeContract.get(compound_id=demo.compound.id)
    page = await http.get(fees)
    assert 'id="contract-form"' in page.text
    assert "<td>二级</td><td>150.00</td><td>±20.00%</td><td>120.00–180.00</td>" in page.text
    form = {"csrf": csrf, "grade": "2", "starts_on": current.starts_on.isoformat(),
            "ends_on": current.ends_on.isoformat(), "sub_mchid": "1900000109"}  # fmt: skip

    refused = await http.post(fees + "/contract", data={**form, "price_fen": "200"})
    assert refused.status_code == 400, refused.text
    assert "超出二级服务的政府指导价区间 1.20–1.80 元/㎡·月" in refused.text
    assert await FeeContract.filter(compound_id=demo.compound.id).count() == 1

    done = await http.post(fees + "/contract", data={**form, "price_fen": "170"})
    assert done.status_code == 303 and done.headers["location"].endswith("/fees#contract")
    newest = await FeeContract.filter(compound_id=demo.compound.id).order_by("-id").first()
    assert newest is not None and newest.id != current.id and newest.price_fen == 170
    assert "合同单价 170" in (await http.get(fees)).text


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    demo: Demo, http: httpx.AsyncClient
) -> None:
    fees, posted = await _world(demo)
    await sign_in(http, "demo-property")
    before = await FeeItem.all().count()
    for data in ({}, {"csrf": "0" * 64}):
        refused = await http.post(
            fees + "/items", data={**data, "name": "电梯运行费", "kind": "by_area", "notice_id": str(posted)}
        )
        assert refused.status_code == 403 and "页面已过期或请求来源不明" in refused.text
    assert await FeeItem.all().count() == before


async def test_readers_see_the_items_without_forms_and_may_not_post(
    demo: Demo, http: httpx.AsyncClient
) -> None:
    fees, posted = await _world(demo)
    csrf = await sign_in(http, "demo-committee")
    page = await http.get(fees)
    assert page.status_code == 200 and "物业服务费" in page.text
    assert 'id="item-form"' not in page.text and 'id="contract-form"' not in page.text
    refused = await http.post(
        fees + "/items",
        data={"csrf": csrf, "name": "电梯运行费", "kind": "by_area", "notice_id": str(posted)},
    )
    assert refused.status_code == 403 and "您没有执行此操作的权限" in refused.text


async def test_the_items_list_pages_on_the_server(demo: Demo, http: httpx.AsyncClient) -> None:
    fees, posted = await _world(demo)
    compound = await Compound.get(id=demo.compound.id)
    contract = await FeeContract.get(compound_id=compound.id)
    for n in range(55):
        await setup.add_fee_item(
            SYSTEM,
            contract,
            setup.ItemTerms(f"测试项目{n:02d}", ItemKind.FIXED_MONTHLY, posted, monthly_fen=100),
        )
    names = [i.name for i in await setup.fee_items(compound.id)]
    assert len(names) == 57  # the demo's two and these
    await sign_in(http, "demo-property")
    first = await http.get(fees)
    link = re.search(r'href="[^"]*/fees\?items_cursor=([A-Za-z0-9_-]+)#items"', first.text)
    assert link, first.text
    second = await http.get(f"{fees}?items_cursor={link.group(1)}")
    assert second.status_code == 200 and "下一页收费项目" not in second.text
    assert all(name in first.text for name in names[:50]) and names[50] not in first.text
    assert all(name in second.text for name in names[50:]) and names[49] not in second.text
    forged = await http.get(f"{fees}?items_cursor={link.group(1)[:-2]}AA")
    assert forged.status_code == 400 and "分页参数无效" in forged.text
    carried = await http.get(f"{fees}?cursor={link.group(1)}")  # to the arrears list: not its cursor
    assert carried.status_code == 400
