"""The dashboards as tables for a spreadsheet (plan item 6: CSV/XLSX beside the JSON): the compound
list, the figures per community and the complaints month by month. Each table is made from the very
answer the JSON routes give (supervision.dashboard, cached alike), so the two cannot disagree; the
HTTP layer writes it through core.tabular, which defuses formula-like text in every cell.

Shares are written as the JSON gives them (0–1, four places); yes/no as 是/否; times in Beijing time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ratings.rules import GRADE_EDGES, LOWEST_GRADE

Table = tuple[list[str], list[list[Any]]]

_YES = {True: "是", False: "否"}
CREDIT_GRADES = (*(grade for grade, _ in GRADE_EDGES), LOWEST_GRADE)

COMPLAINT_HEADER = ("投诉数", "已办结", "超时占比", "办结时长中位数（小时）", "平均评价", "评价数")

COMPOUND_HEADER = (
    "小区编号", "小区", "社区", "独栋楼院", "物业服务企业", "业主委员会已成立", "业主委员会已备案",
    "专业化物业服务", "统计周数", "巡查覆盖周数", "上周已巡查", "最近巡查（北京时间）",
    *COMPLAINT_HEADER, "星级", "星级得分", "信用等级", "信用分",
)  # fmt: skip


def _complaints(figures: dict[str, Any]) -> list[Any]:
    return [
        figures["count"],
        figures["resolved"],
        figures["overdue_share"],
        figures["median_hours_to_resolve"],
        figures["average_rating"],
        figures["ratings"],
    ]


def compound_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """The compound list (the dashboard's "compounds"), a row per compound under COMPOUND_HEADER."""
    return [
        [
            r["compound_id"],
            r["name"],
            r["community"],
            _YES[bool(r["standalone"])],
            r["company"] or "",
            _YES[bool(r["committee_formed"])],
            _YES[bool(r["committee_filed"])],
            _YES[bool(r["professional_service"])],
            r["weeks"],
            r["weeks_patrolled"],
            _YES[bool(r["patrolled_last_week"])],
            datetime.fromisoformat(r["last_patrol_at"]) if r["last_patrol_at"] else None,
            *_complaints(r["complaints"]),
            r["star_grade"],
            r["star_score"],
            r["credit_grade"],
            r["credit_score"],
        ]
        for r in rows
    ]


def _star_keys(summaries: list[dict[str, Any]]) -> list[str]:
    """The star grades any row counts (the templates' thresholds decide how many there are)."""
    return sorted({k for s in summaries for k in s["star_grades"]}, key=int)


def community_table(data: dict[str, Any]) -> Table:
    """The figures of each community of the dashboard ``data``, then a last row 合计 (its "county":
    every compound the filters kept). Committee targets are columns, as many as the community with
    the most targets has; star and credit grades a column per grade, counting compounds."""
    communities: list[dict[str, Any]] = data["communities"]
    summaries = [*communities, data["county"]]
    stars = _star_keys(summaries)
    targets = max((len(c["committee_targets"]) for c in communities), default=0)
    header = [
        "社区编号", "社区", "小区数", "业主委员会在任", "其中已备案", "业主委员会覆盖率", "业主委员会覆盖达标",
        "专业化物业服务小区数", "专业化物业服务占比", "专业化物业服务达标（≥50%）", "巡查覆盖率",
        "上周已巡查小区数", "上周巡查占比", *COMPLAINT_HEADER,
        *(f"{k}星小区数" if k != "0" else "未达星级小区数" for k in stars),
        *(f"信用{g}小区数" for g in CREDIT_GRADES),
    ]  # fmt: skip
    for n in range(1, targets + 1):
        header += [f"目标{n}期限", f"目标{n}业委会数", f"目标{n}统计日", f"目标{n}已成立", f"目标{n}已备案",
                   f"目标{n}已达成", f"目标{n}已到期"]  # fmt: skip

    def row(community_id: Any, name: str, s: dict[str, Any], plan: list[dict[str, Any]]) -> list[Any]:
        cells = [
            community_id, name, s["compounds"], s["committees_formed"], s["committees_filed"],
            s["committee_share"], _YES[bool(s["committee_share_met"])], s["professional_service"],
            s["professional_service_share"], _YES[bool(s["professional_service_met"])], s["patrol_coverage"],
            s["patrolled_last_week"], s["patrolled_last_week_share"], *_complaints(s["complaints"]),
            *(s["star_grades"].get(k, 0) for k in stars),
            *(s["credit_grades"].get(g, 0) for g in CREDIT_GRADES),
        ]  # fmt: skip
        for t in plan:
            cells += [t["deadline"], t["target"], t["as_of"], t["formed"], t["filed"], _YES[bool(t["met"])],
                      _YES[bool(t["due"])]]  # fmt: skip
        return cells + [None] * (len(header) - len(cells))

    rows = [row(c["community_id"], c["name"], c, c["committee_targets"]) for c in communities]
    rows.append(row(None, "合计", data["county"], []))
    return header, rows


MONTH_HEADER = ("月份", *COMPLAINT_HEADER)


def month_table(data: dict[str, Any]) -> Table:
    """The complaints of the dashboard ``data`` month by month (Beijing months of the period)."""
    return list(MONTH_HEADER), [[m["month"], *_complaints(m)] for m in data["months"]]
