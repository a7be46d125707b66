"""`python -m server bootstrap FILE` as an operator runs it on an empty migrated database: the county,
its communities and compounds, departments and the first supervisor; twice changes nothing; a bad
file is refused with Chinese messages naming the field and line and nothing is written; then the
supervisor logs in over HTTP (fake WeChat code test:<openid>) and does supervisor work."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from accounts.bootstrap import BootstrapInvalid, parse
from accounts.models import Community, Compound, Department, RoleGrant, User
from audit.models import AuditEvent
from complaints.models import Category
from tests.conftest import run_cli

OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
GOOD = f"""
[county]
name = "某县"

[supervisor]
openid = "{OPENID}"
nickname = "县住建局"

[[communities]]
name = "东街社区"
compounds = ["阳光花园", {{ name = "锦绣家园", address = "东街 8 号" }}, {{ name = "东街独栋楼院1号", standalone = true }}]

[[communities]]
name = "西街社区"

[[departments]]
name = "县应急管理局"
"""


def _bootstrap(database_url: str, path: Path) -> tuple[int, str, str]:
    result = run_cli(
        "bootstrap", str(path), env={"DATABASE_URL": database_url, "REDIS_URL": "", "APP_ENV": "development"}
    )
    return result.returncode, result.stdout, result.stderr


async def _rows() -> tuple[object, ...]:
    return (
        sorted(await Community.all().values_list("name", flat=True)),
        sorted(await Compound.all().values_list("community__name", "name", "address", "standalone")),
        sorted(await Department.all().values_list("name", flat=True)),
        await User.all().values_list("openid", "nickname"),
        await RoleGrant.all().values_list("user__openid", "role", "scope_type", "scope_id"),
        await AuditEvent.all().order_by("id").values_list("stream", "action", "actor"),
    )


async def test_bootstrap_twice_then_the_supervisor_logs_in(
    clean_db: None, database_url: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    file = tmp_path / "county.toml"
    file.write_text(GOOD, encoding="utf-8")
    code, out, err = _bootstrap(database_url, file)
    assert code == 0, err
    assert out.startswith("新建 9 项，已存在 0 项\n")
    assert "新建：小区：东街社区 / 锦绣家园" in out and "投诉类别与责任单位：新增 17 类" in out
    communities, compounds, departments, users, grants, events = await _rows()
    assert communities == ["东街社区", "西街社区"]
    assert compounds == [
        ("东街社区", "东街独栋楼院1号", "", True),
        ("东街社区", "锦绣家园", "东街 8 号", False),
        ("东街社区", "阳光花园", "", False),
    ]
    assert "县应急管理局" in departments and "执法局" in departments  # the catalogue's departments too
    assert users == [(OPENID, "县住建局")]
    assert grants == [(OPENID, "supervisor", "county", 0)]
    assert [a for _, a, _ in events] == [
        "county.bootstrapped", "community.created", "compound.created", "compound.created",
        "compound.created", "community.created", "department.created", "user.bootstrapped", "role.granted",
    ]  # fmt: skip
    assert {actor for *_, actor in events} == {"system"}
    assert await Category.all().count() == 17

    before = await _rows()
    code, out, err = _bootstrap(database_url, file)
    assert code == 0, err
    assert out.startswith("新建 0 项，已存在 9 项\n") and "已存在：社区：东街社区" in out
    assert await _rows() == before  # nothing changed, nothing logged

    login = await client.post("/api/v1/auth/login", json={"code": f"test:{OPENID}"})
    assert login.status_code == 200, login.text
    assert login.json()["new_user"] is False
    headers = {"authorization": f"Bearer {login.json()['token']}"}
    me = await client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert (me.json()["nickname"], me.json()["roles"]) == (
        "县住建局",
        [{"role": "supervisor", "scope_type": "county", "scope_id": 0}],
    )
    community = await Community.get(name="西街社区")
    created = await client.post(
        f"/api/v1/admin/communities/{community.id}/compounds",
        json={"name": "和平家园", "address": "", "standalone": False},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert await Compound.filter(community=community, name="和平家园").exists()

    extended = tmp_path / "more.json"  # a later file may add communities; JSON works too
    document = {
        "county": {"name": "某县"},
        "supervisor": {"openid": OPENID},
        "communities": [{"name": "西街社区", "compounds": ["和平家园"]}, {"name": "北城社区"}],
    }
    extended.write_text(
        json.dumps(document, ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    code, out, err = _bootstrap(database_url, extended)
    assert code == 0, err
    assert out.startswith("新建 1 项，已存在 5 项\n") and "新建：社区：北城社区" in out


async def test_another_county_is_refused_and_changes_nothing(
    clean_db: None, database_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "county.toml"
    file.write_text(GOOD, encoding="utf-8")
    assert _bootstrap(database_url, file)[0] == 0
    before = await _rows()
    file.write_text(GOOD.replace("某县", "另一县").replace("西街社区", "新北社区"), encoding="utf-8")
    code, out, err = _bootstrap(database_url, file)
    assert (code, out) == (1, "")
    assert err.strip() == "本数据库已初始化为“某县”，文件中为“另一县”"
    assert await _rows() == before


async def test_a_bad_file_lists_every_problem_in_chinese_and_writes_nothing(
    clean_db: None, database_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "bad.toml"
    file.write_text(
        '[county]\nname = ""\n\n[supervisor]\nopenid = "x"\nrole = "admin"\n\n'
        '[[communities]]\nname = "东街社区"\ncompounds = ["阳光花园", "阳光花园", { name = 3 }]\n',
        encoding="utf-8",
    )
    code, out, err = _bootstrap(database_url, file)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "bad.toml 有 5 处错误",
        "  第 2 行，county.name：不能为空",
        "  第 6 行，supervisor.role：不认识的字段（可用：nickname、openid）",
        "  第 5 行，supervisor.openid：应为微信 openid（6–64 位字母、数字、- 或 _）",
        "  第 10 行，communities[0].compounds[1].name：小区“阳光花园”在本社区重复",
        "  第 10 行，communities[0].compounds[2].name：应为文字",
    ]
    assert await Community.all().count() == 0 and await AuditEvent.all().count() == 0


@pytest.mark.parametrize(
    ("source", "filename", "message"),
    [
        ('[county\nname = "某县"\n', "x.toml", "x.toml：TOML 格式错误（第 1 行第 8 列）"),
        (
            '{"county": {"name": "某县"},\n "supervisor": }',
            "x.json",
            "x.json：JSON 格式错误（第 2 行第 16 列）",
        ),
        ('[county]\nname = "某县"\n', "x.toml", "x.toml 有 2 处错误"),
    ],
)
def test_syntax_and_missing_sections(source: str, filename: str, message: str) -> None:
    with pytest.raises(BootstrapInvalid) as raised:
        parse(source, filename=filename)
    assert raised.value.user_message.startswith(message)
    if "处错误" in message:
        assert raised.value.details == ["supervisor：必填", "communities：必填：至少列出一个社区"]
