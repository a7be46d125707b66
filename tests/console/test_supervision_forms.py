"""The supervision forms of the console over plain HTTP through the real app: the community admin
inspects the compound's property company item by item and submits, the company objects once, the
inspector decides; a grid worker records a patrol with findings and turns one into a complaint, the
community reads the patrols. Errors show the API's Chinese message; a form without the CSRF token is
refused and changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from complaints.models import Complaint
from core import clock
from ratings.demo import seed_ratings
from ratings.models import Inspection, InspectionScore
from supervision.models import Finding, Patrol
from tests.console.conftest import Demo, sign_in

POINTS = re.compile(r'name="points-([^"]+)" min="0" max="(\d+)"')


def _local(minutes_ago: int) -> str:
    """A datetime-local value (Beijing wall clock, to the minute) ``minutes_ago`` before now."""
    moment = clock.to_local(clock.now()) - timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%dT%H:%M")


async def test_an_inspection_scored_submitted_objected_to_and_decided(demo: Demo) -> None:
    await seed_ratings()  # the daily and annual templates
    base = f"/console/compounds/{demo.compound.id}/inspections"
    async with (
        httpx.AsyncClient(base_url=demo.url, timeout=30) as inspector,
        httpx.AsyncClient(base_url=demo.url, timeout=30) as company,
    ):
        csrf = await sign_in(inspector, "demo-community")
        listing = await inspector.get(base)
        assert listing.status_code == 200 and 'id="open-form"' in listing.text
        opened = await inspector.post(base, data={"csrf": csrf, "kind": "daily", "inspected_on": ""})
        assert opened.status_code == 303
        url = opened.headers["location"]
        row = await Inspection.get(id=int(url.rsplit("/", 1)[1]))
        assert (row.status, row.compound_id) == ("draft", demo.compound.id)  # type: ignore[attr-defined]

        page = await inspector.get(url)
        items = POINTS.findall(page.text)
        assert page.status_code == 200 and len(items) > 5
        first, first_max = items[0]
        over = await inspector.post(
            f"{url}/scores", data={"csrf": csrf, f"points-{first}": str(int(first_max) + 1)}
        )
        assert over.status_code == 400 and "评分超出该项分值范围" in over.text
        assert not await InspectionScore.filter(inspection_id=row.id).exists()
        early = await inspector.post(f"{url}/submit", data={"csrf": csrf})
        assert early.status_code == 400  # the service's: not every item is scored
        scores = {f"points-{code}": top for code, top in items}
        scores[f"points-{first}"] = "0"
        scores[f"points_note-{first}"] = "消防通道堆放杂物"
        assert (await inspector.post(f"{url}/scores", data={"csrf": csrf, **scores})).status_code == 303
        noted = await InspectionScore.get(inspection_id=row.id, item_code=first)
        assert (noted.points, noted.note) == (0, "消防通道堆放杂物")
        assert await InspectionScore.filter(inspection_id=row.id).count() == len(items)

        # the company does not see a draft; submitting asks first and without the token does nothing
        company_csrf = await sign_in(company, "demo-property")
        assert (await company.get(url)).status_code == 404
        assert "不能再修改评分" in (await inspector.get(url)).text
        forged = await inspector.post(f"{url}/submit", data={})
        assert forged.status_code == 403 and "页面已过期或请求来源不明" in forged.text
        assert (await Inspection.get(id=row.id)).status == "draft"
        assert (await inspector.post(f"{url}/submit", data={"csrf": csrf})).status_code == 303
        submitted = await Inspection.get(id=row.id)
        assert submitted.status == "submitted" and submitted.total is not None and submitted.stars is not None

        # the company objects once, naming the item
        seen = await company.get(url)
        assert seen.status_code == 200 and 'id="objection-form"' in seen.text
        objection = {"csrf": company_csrf, "reasons": "检查当日通道已清理，有照片为证", "item_code": first}
        assert (await company.post(f"{url}/objection", data=objection)).status_code == 303
        assert (await Inspection.get(id=row.id)).status == "objected"
        twice = await company.post(f"{url}/objection", data=objection)
        assert twice.status_code == 409
        assert (await company.post(f"{url}/decision", data={"csrf": company_csrf, "upheld": "yes", "note": "x"})).status_code == 403  # fmt: skip

        # the inspector upholds it and revises that item: finished, no more changes
        decision = {"csrf": csrf, "upheld": "yes", "note": "经复核，采纳异议", f"revised-{first}": first_max}
        assert (await inspector.post(f"{url}/decision", data=decision)).status_code == 303
        finished = await Inspection.get(id=row.id)
        assert finished.status == "finished" and float(finished.total) > float(submitted.total)  # type: ignore[arg-type]
        assert (await InspectionScore.get(inspection_id=row.id, item_code=first)).points == int(first_max)
        late = await inspector.post(f"{url}/scores", data={"csrf": csrf, f"points-{first}": "1"})
        assert late.status_code == 409
        shown = await inspector.get(url)
        assert "采纳异议" in shown.text and "经复核，采纳异议" in shown.text and "已完成" in shown.text


async def test_a_grid_worker_records_a_patrol_and_turns_a_finding_into_a_complaint(demo: Demo) -> None:
    listing = f"/console/communities/{demo.community.id}/patrols"
    async with (
        httpx.AsyncClient(base_url=demo.url, timeout=30) as grid,
        httpx.AsyncClient(base_url=demo.url, timeout=30) as community,
        httpx.AsyncClient(base_url=demo.url, timeout=30) as company,
    ):
        csrf = await sign_in(grid, "demo-grid")
        assert f'href="{listing}"' in (await grid.get("/console/")).text  # from the home page
        form = await grid.get(listing)
        assert form.status_code == 200 and 'id="patrol-form"' in form.text
        patrol = {
            "csrf": csrf, "compound_id": str(demo.compound.id), "started_at": _local(60), "ended_at": _local(5),
            "note": "例行巡查", "finding-0": "消防通道被电动车堵塞", "place-0": "3号楼东侧",
            "finding-1": "", "place-1": "", "finding-2": "垃圾桶满溢",
        }  # fmt: skip
        backwards = await grid.post("/console/patrols", data={**patrol, "ended_at": _local(90)})
        assert backwards.status_code == 400 and "巡查结束时间早于开始时间" in backwards.text
        forged = await grid.post("/console/patrols", data={k: v for k, v in patrol.items() if k != "csrf"})
        assert forged.status_code == 403 and "页面已过期或请求来源不明" in forged.text
        assert not await Patrol.exists()
        recorded = await grid.post("/console/patrols", data=patrol)
        assert recorded.status_code == 303
        url = recorded.headers["location"]
        row = await Patrol.get(id=int(url.rsplit("/", 1)[1]))
        findings = await Finding.filter(patrol_id=row.id).order_by("seq")
        assert [(f.seq, f.text, f.place_note) for f in findings] == [
            (1, "消防通道被电动车堵塞", "3号楼东侧"),
            (2, "垃圾桶满溢", ""),
        ]

        # the property company is no grid worker: the service refuses it
        company_csrf = await sign_in(company, "demo-property")
        refused = await company.post("/console/patrols", data={**patrol, "csrf": company_csrf})
        assert refused.status_code == 403 and "只有本社区的网格员可以记录巡查" in refused.text
        assert await Patrol.all().count() == 1

        # the community sees the patrol, but only the recorder turns a finding into a complaint
        community_csrf = await sign_in(community, "demo-community")
        seen = await community.get(listing)
        assert seen.status_code == 200 and f'href="/console/patrols/{row.id}"' in seen.text
        assert 'id="patrol-form"' not in seen.text
        detail = await community.get(url)
        assert (
            detail.status_code == 200
            and "消防通道被电动车堵塞" in detail.text
            and "转为投诉" not in detail.text
        )
        theirs = await community.post(
            f"{url}/findings/1/complaint", data={"csrf": community_csrf, "category": "repair"}
        )
        assert theirs.status_code == 403 and "只有记录该巡查的网格员可以把问题转为投诉" in theirs.text
        assert not await Complaint.exists()
        assert (await company.get(url)).status_code == 404  # not a reader of patrols

        mine = await grid.get(url)
        assert "转为投诉后按所选类别进入投诉处理流程" in mine.text  # asks first
        filed = await grid.post(f"{url}/findings/1/complaint", data={"csrf": csrf, "category": "repair"})
        assert filed.status_code == 303
        complaint_id = (await Finding.get(patrol_id=row.id, seq=1)).complaint_id  # type: ignore[attr-defined]
        complaint = await Complaint.get(id=complaint_id)
        assert complaint.text == "消防通道被电动车堵塞"
        again = await grid.post(f"{url}/findings/1/complaint", data={"csrf": csrf, "category": "repair"})
        assert again.status_code == 409 and "该问题已转为投诉" in again.text
        assert await Complaint.all().count() == 1
        assert f'href="/console/complaints/{complaint_id}"' in (await grid.get(url)).text
