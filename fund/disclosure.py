"""Fund disclosures on the notice board (category fund_use, posted by the system): one after each
use, and the annual one of a compound — deposits, use with each project's cost split, interest,
balance, and every unit's sub-account by room (never a name). Every number is computed from the
ledger in two aggregate queries, so the board's numbers are the ledger's."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from accounts.models import Building
from audit.service import Actor
from core import clock
from fund import errors
from fund.models import AnnualDisclosure, ChainHead, SubAccount, UseApplication
from fund.rules import EMERGENCY_NAMES, ApplicationKind, ApplicationStatus, yuan
from notices import service as notices

CATEGORY = "fund_use"
FORMAT = "wuye-fund-disclosure/1"


async def post_use(application: UseApplication, rows: list[dict[str, Any]], actor: Actor) -> int:
    """The use of one application, posted when it is paid (an emergency's amount is disclosed
    here, after completion)."""
    kind = "应急维修" if application.kind is ApplicationKind.EMERGENCY else "经业主表决"
    if application.emergency is not None:
        kind += f"（{EMERGENCY_NAMES[application.emergency]}）"
    table = _block(
        ["房屋", "面积㎡", "分摊元"], [[r["room"], str(r["area"]), yuan(r["share_fen"])] for r in rows]
    )
    body = (
        f"**{application.title}**（{kind}）\n\n{application.works}\n\n"
        f"决算金额 {yuan(application.cost_fen or 0)} 元，由 {len(rows)} 户按面积分摊：\n\n" + "\n".join(table)
    )
    data = {
        "format": FORMAT,
        "type": "use",
        "application_id": application.id,
        "kind": application.kind.value,
        "emergency": application.emergency.value if application.emergency else None,
        "cost_fen": application.cost_fen,
        "motion_id": application.motion_id,
        "shares": [{"room": r["room"], "area": r["area"], "share_fen": r["share_fen"]} for r in rows],
    }
    return await notices.post_system_notice(
        compound_id=application.compound_id,
        category=CATEGORY,
        title=f"维修资金使用公示：{application.title}"[:100],
        body_markdown=body,
        actor=actor,
        subject=f"fund_application:{application.id}",
        data=data,
    )


_YEAR = """
SELECT account_id,
  SUM(CASE WHEN at < {start} THEN amount_fen ELSE 0 END) AS opening,
  SUM(CASE WHEN at >= {start} AND kind IN ('first_deposit', 'developer_deposit', 'top_up')
      THEN amount_fen ELSE 0 END) AS deposits,
  SUM(CASE WHEN at >= {start} AND kind = 'interest' THEN amount_fen ELSE 0 END) AS interest,
  SUM(CASE WHEN at >= {start} AND kind = 'use' THEN amount_fen ELSE 0 END) AS used,
  SUM(CASE WHEN at >= {start} AND kind IN ('correction', 'transfer') THEN amount_fen ELSE 0 END)
      AS corrections
FROM fund_entry
WHERE compound_id = {compound} AND at < {end}
GROUP BY account_id
"""

COLUMNS = ("opening", "deposits", "interest", "used", "corrections")


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The local (Asia/Shanghai) calendar year as UTC instants [start, end)."""
    start = datetime.combine(datetime(year, 1, 1).date(), time(0), tzinfo=clock.SHANGHAI)
    end = datetime.combine(datetime(year + 1, 1, 1).date(), time(0), tzinfo=clock.SHANGHAI)
    return start.astimezone(UTC), end.astimezone(UTC)


async def annual_document(compound_id: int, year: int) -> dict[str, Any]:
    """The year's figures of a compound, per unit and in total, with the projects paid in it."""
    start, end = year_bounds(year)
    conn = connections.get("default")
    pg = conn.capabilities.dialect == "postgres"
    params: list[Any]
    if pg:
        sql, params = _YEAR.format(compound="$1", start="$2", end="$3"), [compound_id, start, end]
    else:  # positional in text order: the start five times, then the compound, then the end
        sql = _YEAR.format(compound="?", start="?", end="?")
        params = [_text(start)] * 5 + [compound_id, _text(end)]
    rows = {int(r["account_id"]): r for r in await conn.execute_query_dict(sql, params)}
    accounts = (
        await SubAccount.filter(compound_id=compound_id)
        .order_by("id")
        .values("id", "building_id", "room", "area", "first_deposit_fen")
    )
    names = dict(await Building.filter(id__in={a["building_id"] for a in accounts}).values_list("id", "name"))
    units = []
    totals = dict.fromkeys((*COLUMNS, "closing"), 0)
    per_building: dict[int, dict[str, Any]] = {}
    for a in accounts:
        found = rows.get(int(a["id"]), {})
        line: dict[str, Any] = {c: int(found.get(c) or 0) for c in COLUMNS}
        line["closing"] = sum(line[c] for c in COLUMNS)
        building = per_building.setdefault(
            int(a["building_id"]),
            {"building": str(names.get(a["building_id"], "")), "units": 0, **dict.fromkeys(totals, 0)},
        )
        building["units"] += 1
        for c in totals:
            totals[c] += line[c]
            building[c] += line[c]
        units.append(
            {"room": a["room"], "area": str(a["area"]), "first_deposit_fen": a["first_deposit_fen"], **line}
        )
    projects = []
    for app in await UseApplication.filter(
        compound_id=compound_id, status=ApplicationStatus.PAID, paid_at__gte=start, paid_at__lt=end
    ).order_by("id"):
        projects.append(
            {
                "application_id": app.id,
                "title": app.title,
                "kind": app.kind.value,
                "emergency": app.emergency.value if app.emergency else None,
                "cost_fen": app.cost_fen,
                "shares": [
                    {"room": s["room"], "area": s["area"], "share_fen": s["share_fen"]} for s in app.shares
                ],
            }
        )
    head = await ChainHead.get_or_none(compound_id=compound_id)
    return {
        "format": FORMAT,
        "type": "annual",
        "compound_id": compound_id,
        "year": year,
        "entries_through": head.seq if head else 0,
        "totals": totals,
        "buildings": [per_building[b] for b in sorted(per_building)],
        "projects": projects,
        "units": units,
    }


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(" ", timespec="microseconds")


def markdown_of(document: dict[str, Any]) -> str:
    t = document["totals"]
    lines = [
        f"**{document['year']} 年度维修资金情况**",
        "",
        f"- 年初余额：{yuan(t['opening'])} 元",
        f"- 本年交存：{yuan(t['deposits'])} 元",
        f"- 本年利息：{yuan(t['interest'])} 元",
        f"- 本年使用：{yuan(-t['used'])} 元",
        f"- 本年更正：{yuan(t['corrections'])} 元",
        f"- 年末余额：{yuan(t['closing'])} 元",
        "",
        "**分楼栋**（元）",
        "",
        *_block(
            ["楼栋", "户数", "年初", "交存", "利息", "使用", "更正", "年末"],
            [
                [
                    b["building"],
                    str(b["units"]),
                    yuan(b["opening"]),
                    yuan(b["deposits"]),
                    yuan(b["interest"]),
                    yuan(-b["used"]),
                    yuan(b["corrections"]),
                    yuan(b["closing"]),
                ]
                for b in document.get("buildings", [])
            ],
        ),
        "",
    ]
    for p in document["projects"]:
        kind = "经业主表决" if p["kind"] == "ordinary" else "应急维修"
        lines.append(f"**使用项目：{p['title']}**（{kind}，{yuan(p['cost_fen'] or 0)} 元，按面积分摊）")
        lines += [
            "",
            *_block(
                ["房屋", "面积㎡", "分摊元"],
                [[s["room"], s["area"], yuan(s["share_fen"])] for s in p["shares"]],
            ),
            "",
        ]
    lines += ["**分户账**（元）", ""]
    lines += _block(
        ["房屋", "面积㎡", "年初", "交存", "利息", "使用", "更正", "年末"],
        [
            [u["room"], u["area"], yuan(u["opening"]), yuan(u["deposits"]), yuan(u["interest"]), yuan(-u["used"]),
             yuan(u["corrections"]), yuan(u["closing"])]
            for u in document["units"]
        ],
    )  # fmt: skip
    return "\n".join(lines)


def _block(header: list[str], rows: list[list[str]]) -> list[str]:
    """A long table as a fenced block of fixed columns: the board renders it as it is (a markdown
    table of 5,000 rows takes the renderer seconds; a block takes milliseconds)."""
    return ["```", " ".join(header), *(" ".join(row) for row in rows), "```"]


async def post_annual(actor: Actor, *, compound_id: int, year: int) -> AnnualDisclosure:
    """Compute the year's document and post it, once per (compound, year); only a year that is over."""
    if year >= clock.to_local(clock.now()).year:
        raise errors.InterestPeriodInvalid("只能公示已结束的年度", code="disclosure_year_open")
    document = await annual_document(compound_id, year)
    try:
        async with in_transaction():
            notice_id = await notices.post_system_notice(
                compound_id=compound_id,
                category=CATEGORY,
                title=f"{year} 年度住宅专项维修资金公示",
                body_markdown=markdown_of(document),
                actor=actor,
                subject=f"fund_annual:{compound_id}:{year}",
                data=document,
            )
            return await AnnualDisclosure.create(
                compound_id=compound_id,
                year=year,
                notice_id=notice_id,
                entries_through=document["entries_through"],
            )
    except IntegrityError as exc:
        raise errors.DisclosureExists() from exc
