"""A real deployment's first data, from a small file (TOML or JSON), without any demo code:

    [county]
    name = "某县"

    [supervisor]                      # the first supervisor (县住建局), who grants everyone else
    openid = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
    nickname = "县住建局"             # optional, at most 20 characters

    [[communities]]
    name = "东街社区"
    compounds = ["阳光花园", { name = "锦绣家园", address = "东街 8 号" }, { name = "东街独栋楼院1号", standalone = true }]

    [[departments]]                   # optional: departments beyond the complaint catalogue's
    name = "县住建局"

Idempotent: every row is found by its natural key (community name, compound name within its
community, department name, the supervisor's openid) and created only when missing; a second run
creates nothing, writes no audit event and reports what exists. Every row created is audit-logged as
a system action. The registry has no county table: the county's name is recorded in the county
stream's "county.bootstrapped" event, and a later file naming another county is refused.

Problems are all reported at once, in Chinese, with the field path and (TOML, JSON) the line.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from accounts.admin import COUNTY_STREAM, community_stream
from accounts.models import Community, Compound, Department, RoleGrant, User
from accounts.roles import Role, Scope
from audit.models import AuditEvent
from audit.service import Actor, append
from core.errors import Conflict, Invalid

ACTOR = Actor("system", "系统（初始化）")
OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
MAX_COMMUNITIES = 100
MAX_COMPOUNDS = 1000
MAX_DEPARTMENTS = 100
MAX_FILE_BYTES = 1_000_000


class BootstrapInvalid(Invalid):
    code = "bootstrap_invalid"
    message = "初始化文件有误"


class OtherCounty(Conflict):
    code = "bootstrap_other_county"
    message = "本数据库已初始化为另一个县"


@dataclass(frozen=True, slots=True)
class CompoundSpec:
    name: str
    address: str = ""
    standalone: bool = False


@dataclass(frozen=True, slots=True)
class CommunitySpec:
    name: str
    compounds: list[CompoundSpec] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Plan:
    county: str
    supervisor_openid: str
    supervisor_nickname: str
    communities: list[CommunitySpec]
    departments: list[str]


@dataclass(slots=True)
class Report:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"新建 {len(self.created)} 项，已存在 {len(self.existing)} 项"]
        lines += [f"  新建：{line}" for line in self.created]
        lines += [f"  已存在：{line}" for line in self.existing]
        return "\n".join(lines)


# --- reading and checking the file (pure) ---------------------------------------------------------


class _Problems:
    def __init__(self, source: str, toml: bool) -> None:
        self.items: list[str] = []
        self.lines = source.splitlines()
        self.toml = toml

    def add(self, path: str, text: str) -> None:
        line = self._line(path)
        self.items.append(f"{'第 ' + str(line) + ' 行，' if line else ''}{path}：{text}")

    def _line(self, path: str) -> int | None:
        """Best effort: the line of ``path`` (e.g. communities[1].compounds[0]) in the source text."""
        parts = re.findall(r"([A-Za-z_]+)(?:\[(\d+)\])?", path)
        start = 0
        found: int | None = None
        for key, index in parts:
            if self.toml and index:
                header = re.compile(rf"^\s*\[\[\s*{key}\s*\]\]")
                hits = [n for n in range(start, len(self.lines)) if header.match(self.lines[n])]
                if len(hits) > int(index):
                    start = hits[int(index)]
                    found = start + 1
                    continue
            pattern = re.compile(rf'^\s*(\[\s*{key}\s*\]|"?{key}"?\s*[=:])')
            for n in range(start, len(self.lines)):
                if pattern.match(self.lines[n]):
                    start, found = n, n + 1
                    break
            else:
                return found
        return found


def _text(problems: _Problems, value: Any, path: str, *, max_length: int, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        problems.add(path, "应为文字" if value is not None else "必填")
        return ""
    text = value.strip()
    if required and not text:
        problems.add(path, "不能为空")
    elif len(text) > max_length:
        problems.add(path, f"最多 {max_length} 个字（现有 {len(text)} 个）")
    elif any(ord(ch) < 32 for ch in text):
        problems.add(path, "含有控制字符")
    return text


def _table(problems: _Problems, value: Any, path: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        problems.add(path, "应为一个表（键值对）" if value is not None else "必填")
        return {}
    for key in sorted(set(value) - allowed):
        problems.add(f"{path}.{key}" if path else key, f"不认识的字段（可用：{'、'.join(sorted(allowed))}）")
    return value


def _list(problems: _Problems, value: Any, path: str, limit: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(path, "应为列表")
        return []
    if len(value) > limit:
        problems.add(path, f"最多 {limit} 项")
        return []
    return value


def parse(source: str, *, filename: str = "bootstrap.toml") -> Plan:
    """The plan the file describes, or BootstrapInvalid listing every problem (details: the list)."""
    toml = not filename.lower().endswith(".json")
    try:
        raw: Any = tomllib.loads(source) if toml else json.loads(source)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"at line (\d+), column (\d+)", str(exc))
        at = f"第 {where.group(1)} 行第 {where.group(2)} 列" if where else "文件中"
        raise BootstrapInvalid(f"{filename}：TOML 格式错误（{at}）：{exc}", details=[str(exc)]) from None
    except json.JSONDecodeError as exc:
        text = f"{filename}：JSON 格式错误（第 {exc.lineno} 行第 {exc.colno} 列）：{exc.msg}"
        raise BootstrapInvalid(text, details=[text]) from None
    problems = _Problems(source, toml)
    top = _table(problems, raw, "", {"county", "supervisor", "communities", "departments"})
    county = _table(problems, top.get("county"), "county", {"name"})
    county_name = _text(problems, county.get("name"), "county.name", max_length=50) if county else ""
    sup = _table(problems, top.get("supervisor"), "supervisor", {"openid", "nickname"})
    openid = ""
    nickname = ""
    if sup:
        openid = _text(problems, sup.get("openid"), "supervisor.openid", max_length=64)
        if openid and not OPENID.match(openid):
            problems.add("supervisor.openid", "应为微信 openid（6–64 位字母、数字、- 或 _）")
        nickname = _text(problems, sup.get("nickname"), "supervisor.nickname", max_length=20, required=False)
    communities: list[CommunitySpec] = []
    seen_communities: set[str] = set()
    raw_communities = _list(problems, top.get("communities"), "communities", MAX_COMMUNITIES)
    if "communities" not in top or (isinstance(top.get("communities"), list) and not raw_communities):
        problems.add("communities", "必填：至少列出一个社区")
    total_compounds = 0
    for i, item in enumerate(raw_communities):
        path = f"communities[{i}]"
        row = _table(problems, item, path, {"name", "compounds"})
        name = _text(problems, row.get("name"), f"{path}.name", max_length=50) if row else ""
        if name and name in seen_communities:
            problems.add(f"{path}.name", f"社区“{name}”重复")
        seen_communities.add(name)
        compounds: list[CompoundSpec] = []
        seen_compounds: set[str] = set()
        for j, spec in enumerate(_list(problems, row.get("compounds"), f"{path}.compounds", MAX_COMPOUNDS)):
            cpath = f"{path}.compounds[{j}]"
            if isinstance(spec, str):
                spec = {"name": spec}
            crow = _table(problems, spec, cpath, {"name", "address", "standalone"})
            if not crow:
                continue
            cname = _text(problems, crow.get("name"), f"{cpath}.name", max_length=100)
            address = _text(problems, crow.get("address"), f"{cpath}.address", max_length=200, required=False)
            standalone = crow.get("standalone", False)
            if not isinstance(standalone, bool):
                problems.add(f"{cpath}.standalone", "应为 true 或 false")
                standalone = False
            if cname and cname in seen_compounds:
                problems.add(f"{cpath}.name", f"小区“{cname}”在本社区重复")
            seen_compounds.add(cname)
            compounds.append(CompoundSpec(cname, address, standalone))
        total_compounds += len(compounds)
        communities.append(CommunitySpec(name, compounds))
    if total_compounds > MAX_COMPOUNDS:
        problems.add("communities", f"小区合计最多 {MAX_COMPOUNDS} 个")
    departments: list[str] = []
    for i, item in enumerate(_list(problems, top.get("departments"), "departments", MAX_DEPARTMENTS)):
        path = f"departments[{i}]"
        if isinstance(item, str):
            item = {"name": item}
        row = _table(problems, item, path, {"name"})
        dname = _text(problems, row.get("name"), f"{path}.name", max_length=50) if row else ""
        if dname in departments:
            problems.add(f"{path}.name", f"部门“{dname}”重复")
        departments.append(dname)
    if problems.items:
        raise BootstrapInvalid(f"{filename} 有 {len(problems.items)} 处错误", details=problems.items)
    return Plan(county_name, openid, nickname, communities, departments)


def read(path: Path) -> Plan:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BootstrapInvalid(f"无法读取初始化文件 {path}：{exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise BootstrapInvalid(f"初始化文件过大（最多 {MAX_FILE_BYTES} 字节）")
    try:
        source = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BootstrapInvalid(f"初始化文件须为 UTF-8 编码（第 {exc.start} 字节处无法解码）") from None
    return parse(source, filename=path.name)


# --- applying it ----------------------------------------------------------------------------------


async def _recorded_county() -> str | None:
    event = (
        await AuditEvent.filter(stream=COUNTY_STREAM, action="county.bootstrapped").order_by("seq").first()
    )
    return None if event is None else str(event.payload.get("county"))


async def apply(plan: Plan) -> Report:
    """Create what is missing, in one transaction, each creation audit-logged as a system action."""
    report = Report()
    async with in_transaction():
        recorded = await _recorded_county()
        if recorded is not None and recorded != plan.county:
            raise OtherCounty(f"本数据库已初始化为“{recorded}”，文件中为“{plan.county}”")
        if recorded is None:
            await append(COUNTY_STREAM, "county.bootstrapped", actor=ACTOR, payload={"county": plan.county})
            report.created.append(f"县：{plan.county}")
        else:
            report.existing.append(f"县：{plan.county}")
        for spec in plan.communities:
            community = await Community.get_or_none(name=spec.name)
            if community is None:
                community = await Community.create(name=spec.name)
                await append(
                    community_stream(community.id), "community.created", actor=ACTOR,
                    subject=f"community:{community.id}", payload={"name": community.name},
                )  # fmt: skip
                report.created.append(f"社区：{spec.name}")
            else:
                report.existing.append(f"社区：{spec.name}")
            for cspec in spec.compounds:
                label = f"小区：{spec.name} / {cspec.name}"
                if await Compound.exists(community_id=community.id, name=cspec.name):
                    report.existing.append(label)
                    continue
                compound = await Compound.create(
                    community_id=community.id, name=cspec.name, address=cspec.address, standalone=cspec.standalone
                )  # fmt: skip
                payload = {"compound_id": compound.id, "name": compound.name, "standalone": cspec.standalone}
                await append(community_stream(community.id), "compound.created", actor=ACTOR, payload=payload)
                report.created.append(label)
        for name in plan.departments:
            if await Department.exists(name=name):
                report.existing.append(f"部门：{name}")
                continue
            department = await Department.create(name=name)
            await append(
                COUNTY_STREAM, "department.created", actor=ACTOR, subject=f"department:{department.id}",
                payload={"name": name},
            )  # fmt: skip
            report.created.append(f"部门：{name}")
        await _supervisor(plan, report)
    return report


async def _supervisor(plan: Plan, report: Report) -> None:
    user = await User.get_or_none(openid=plan.supervisor_openid)
    label = f"用户：openid {plan.supervisor_openid}"
    if user is None:
        user = await User.create(openid=plan.supervisor_openid, nickname=plan.supervisor_nickname)
        await append(
            COUNTY_STREAM, "user.bootstrapped", actor=ACTOR, subject=f"user:{user.id}",
            payload={"openid": user.openid, "nickname": user.nickname},
        )  # fmt: skip
        report.created.append(label)
    else:
        report.existing.append(label)
    grant: dict[str, Any] = {
        "user_id": user.id,
        "role": Role.SUPERVISOR.value,
        "scope_type": Scope.COUNTY.value,
        "scope_id": 0,
    }
    if await RoleGrant.exists(**grant):
        report.existing.append(f"主管部门角色：用户 {user.id}")
        return
    await RoleGrant.create(**grant)
    await append(COUNTY_STREAM, "role.granted", actor=ACTOR, subject=f"user:{user.id}", payload=grant)
    report.created.append(f"主管部门角色：用户 {user.id}")
