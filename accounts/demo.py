"""The demo county of DOMAIN.md: six communities with their compound counts, and three compounds
filled with buildings, units, owners (a multi-unit owner, a co-owned unit, the developer's unsold
units), a committee and a property company. Every row is found by its natural key before it is
created, so loading twice changes nothing."""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal
from typing import Any

from tortoise.transactions import in_transaction

from accounts import contacts
from accounts.identity import certificate_hash, id_hash, make_id_number
from accounts.models import (
    AreaSource,
    Building,
    Committee,
    CommitteeMember,
    Community,
    Compound,
    FilingStatus,
    Owner,
    OwnerKind,
    Ownership,
    PropertyCompany,
    RoleGrant,
    ServiceContract,
    Unit,
    UnitKind,
    User,
)
from audit.service import SYSTEM, append, compound_stream

# (community, compounds, stand-alone buildings or courtyards) from the county plan
COMMUNITIES: tuple[tuple[str, int, int], ...] = (
    ("东街社区", 25, 9),
    ("西街社区", 53, 15),
    ("北城社区", 50, 0),
    ("新北社区", 29, 7),
    ("紫荆社区", 20, 1),
    ("南城社区", 7, 0),
)
_WORDS = [
    "阳光",
    "锦绣",
    "翠苑",
    "和平",
    "幸福",
    "金桂",
    "银杏",
    "滨河",
    "春晖",
    "紫荆",
    "华府",
    "书香",
    "康乐",
    "龙湾",
    "御景",
    "丽都",
    "泰和",
    "瑞园",
]
_SUFFIX = ["花园", "家园", "小区", "新村", "苑", "公寓"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗".replace("", " ").split()
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "华",
    "平",
]
FILLED = ("阳光花园", "锦绣家园", "翠苑小区")  # the first three compounds of 东街社区
DEVELOPER = ("县城投置业有限公司", "91510000MA0000001F")  # a valid GB 32100 check character
COMPANY = ("县安居物业服务有限公司", "91510000MA0000002Y", "0816-1234567")


def compound_names(community_index: int, count: int) -> list[str]:
    names: list[str] = []
    i = 0
    while len(names) < count:
        word = _WORDS[(i + community_index * 5) % len(_WORDS)]
        suffix = _SUFFIX[(i // len(_WORDS) + community_index) % len(_SUFFIX)]
        name = f"{word}{suffix}" if i < len(_WORDS) else f"{word}{suffix}{i // len(_WORDS) + 1}期"
        if community_index == 0 and i < len(FILLED):
            name = FILLED[i]
        if name not in names:
            names.append(name)
        i += 1
    return names


def demo_person(index: int) -> dict[str, str]:
    """Deterministic demo identity number ``index`` (fake but well-formed: valid check digit)."""
    name = SURNAMES[index % len(SURNAMES)] + GIVEN[(index // len(SURNAMES) + index) % len(GIVEN)]
    birth = date(1960 + index % 40, 1 + index % 12, 1 + index % 28)
    prefix = f"511000{birth:%Y%m%d}{index % 1000:03d}"
    return {
        "name": name,
        "phone": f"139{index:08d}",
        "id_number": make_id_number(prefix),
        "certificate": f"川(2021)某县不动产权第{index:07d}号",
    }


def unit_area(building: int, floor: int, room: int) -> Decimal:
    # Areas with two decimals that binary floating point cannot represent exactly.
    base = (Decimal("89.37"), Decimal("126.53"), Decimal("72.19"))[(building + room) % 3]
    return base + Decimal(floor % 3) * Decimal("0.11")


async def _get_or_create(model: Any, defaults: dict[str, Any] | None = None, **keys: Any) -> tuple[Any, bool]:
    row = await model.get_or_none(**keys)
    if row is not None:
        return row, False
    return await model.create(**keys, **(defaults or {})), True


async def seed_demo(*, hmac_key: bytes, only_if_empty: bool = False) -> str:
    if only_if_empty and await Community.exists():
        return "registry not empty: demo data not loaded"
    created = 0
    async with in_transaction():
        for index, (name, compounds, standalone) in enumerate(COMMUNITIES):
            community, _ = await _get_or_create(Community, name=name)
            for cname in compound_names(index, compounds):
                _, new = await _get_or_create(Compound, community=community, name=cname)
                created += new
            for n in range(1, standalone + 1):
                _, new = await _get_or_create(
                    Compound,
                    defaults={"standalone": True},
                    community=community,
                    name=f"{name[:2]}独栋楼院{n}号",
                )
                created += new
        company, _ = await _get_or_create(
            PropertyCompany,
            defaults={"name": COMPANY[0], "contact_phone": COMPANY[2]},
            credit_code=COMPANY[1],
        )
        east = await Community.get(name=COMMUNITIES[0][0])
        person = 0
        for position, cname in enumerate(FILLED):
            compound = await Compound.get(community=east, name=cname)
            # owner records belong to one compound: the developer has one in each
            developer, _ = await _get_or_create(
                Owner,
                defaults={"name": DEVELOPER[0], "kind": OwnerKind.ORGANISATION, "is_developer": True},
                compound=compound,
                id_hash=id_hash_org(hmac_key, DEVELOPER[1]),
            )
            person, units_created = await _fill_compound(compound, position, person, developer, hmac_key)
            created += units_created
            await _get_or_create(
                ServiceContract,
                defaults={"ends_on": date(2027, 12, 31), "price_fen_per_m2": 120 + 10 * position},
                company=company,
                compound=compound,
                starts_on=date(2025, 1, 1),
            )
            committee, new_committee = await _get_or_create(
                Committee,
                defaults={"term_ends_on": date(2030, 5, 31), "filing_status": FilingStatus.FILED},
                compound=compound,
                term_starts_on=date(2025, 6, 1),
            )
            if new_committee:
                owners = await Owner.filter(
                    ownerships__unit__compound=compound, is_developer=False
                ).distinct()
                for seat, owner in enumerate(sorted(owners, key=lambda o: o.id)[:5]):
                    await CommitteeMember.create(
                        committee=committee, owner=owner, position="主任" if seat == 0 else "委员"
                    )
            if units_created:
                await append(
                    compound_stream(compound.id),
                    "registry.demo_loaded",
                    actor=SYSTEM,
                    subject=f"compound:{compound.id}",
                    payload={"units_created": units_created},
                )
        await _demo_users(east, company)
        await _demo_board(east)
    return f"demo data loaded: {created} new rows of compounds and units"


# In fake WeChat mode a login code "test:<openid>" logs in as that openid (see README).
DEMO_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("demo-supervisor", "县住建局", "supervisor", "county"),
    ("demo-community", "东街社区管理员", "community_admin", "community"),
    ("demo-grid", "东街网格员", "grid_worker", "community"),
    ("demo-property", "安居物业客服", "property_staff", "company"),
)


async def _demo_users(east: Community, company: PropertyCompany) -> None:
    scope_ids = {"county": 0, "community": east.id, "company": company.id}
    for openid, nickname, role, scope in DEMO_USERS:
        user, _ = await _get_or_create(User, defaults={"nickname": nickname}, openid=openid)
        await _get_or_create(RoleGrant, user=user, role=role, scope_type=scope, scope_id=scope_ids[scope])
    # the chair of 阳光花园's committee, already verified as the owner of 1号楼 101 and 102
    chair_user, _ = await _get_or_create(
        User, defaults={"nickname": "阳光花园业委会主任"}, openid="demo-committee"
    )
    chair = (
        await Owner.filter(ownerships__unit__compound__name=FILLED[0], is_developer=False)
        .order_by("id")
        .first()
    )
    if chair is not None and chair.user_id is None:  # type: ignore[attr-defined]
        chair.user = chair_user
        await chair.save(update_fields=["user_id"])


# What each filled compound's 公示栏 shows (position in FILLED): the project manager, the complaint
# line, the company's 400 service line with the compound's extension.
DEMO_MANAGERS = (("王建国", "13808160001"), ("李红梅", "13808160002"), ("张志强", "13808160003"))
DEMO_COMMUNITY_CONTACT = ("赵干事", "0816-2301234")
DEMO_GRID_WORKER = ("刘晓东", "13808160100")
DEMO_COMMITTEE_PHONE = "13808160200"


async def _demo_board(east: Community) -> None:
    """The board's contacts of the filled compounds, each section posted through accounts.contacts by
    the demo account responsible for it (audited, and unchanged sections are left alone on a second
    load). The committee contact is posted only for 阳光花园, whose chair has a demo account; a section
    whose poster no longer holds the role (the demo contract or term ended) is left empty."""
    users = {
        u.openid: u for u in await User.filter(openid__in=["demo-property", "demo-community", "demo-grid"])
    }
    for position, cname in enumerate(FILLED):
        compound = await Compound.get(community=east, name=cname)
        name, phone = DEMO_MANAGERS[position]
        with contextlib.suppress(contacts.ContactNotYours):
            await contacts.set_property_contacts(
                SYSTEM, users["demo-property"].id, compound.id, project_manager=contacts.Person(name, phone),
                complaint_phone=f"0816-22{position + 1}0000", service_phone=f"400-816-1234转{position + 1}",
            )  # fmt: skip
        await contacts.set_community_contacts(
            SYSTEM, users["demo-community"].id, compound.id, contact=contacts.Person(*DEMO_COMMUNITY_CONTACT),
            grid_worker=contacts.GridWorker(users["demo-grid"].id, *DEMO_GRID_WORKER),
        )  # fmt: skip
    chair = await User.get_or_none(openid="demo-committee")
    owner = await Owner.get_or_none(user=chair, compound__name=FILLED[0]) if chair else None
    if chair is not None and owner is not None:
        sunny = await Compound.get(community=east, name=FILLED[0])
        with contextlib.suppress(contacts.ContactNotYours):
            await contacts.set_committee_contact(
                SYSTEM, chair.id, sunny.id, contacts.Person(owner.name, DEMO_COMMITTEE_PHONE)
            )


def id_hash_org(key: bytes, credit_code: str) -> str:
    from accounts.identity import keyed_hash

    return keyed_hash(key, "org", credit_code)


async def _fill_compound(
    compound: Compound, position: int, person: int, developer: Owner, key: bytes
) -> tuple[int, int]:
    """3 buildings x 6 floors x 2 rooms, plus 4 parking spaces. The last two flats of building 3 are
    unsold (the developer's); person 0 of each compound also owns the next flat and a parking space;
    flat 1-101 is co-owned by two people, the first designated to vote."""
    created = 0
    flats: list[Unit] = []
    for b in range(1, 4):
        building, _ = await _get_or_create(Building, compound=compound, name=f"{b}号楼")
        for floor in range(1, 7):
            for room in (1, 2):
                unit, new = await _get_or_create(
                    Unit,
                    defaults={
                        "compound": compound,
                        "area": unit_area(b, floor, room),
                        "area_source": AreaSource.REGISTER if floor < 6 else AreaSource.SURVEY,
                    },
                    building=building,
                    number=f"{floor}0{room}",
                )
                created += new
                flats.append(unit)
    garage, _ = await _get_or_create(Building, compound=compound, name="地下车库")
    spaces = []
    for n in range(1, 5):
        space, new = await _get_or_create(
            Unit,
            defaults={"compound": compound, "area": Decimal("13.20"), "kind": UnitKind.PARKING},
            building=garage,
            number=f"P{n:03d}",
        )
        created += new
        spaces.append(space)

    base = position * 100
    unsold = flats[-2:]
    for unit in unsold:
        unit.delivered = False
        await unit.save(update_fields=["delivered"])
        await _own(unit, developer, None, key)
    owner_index = 0
    i = 0
    while i < len(flats) - len(unsold):
        identity = demo_person(base + owner_index)
        owner = await _owner(compound, identity, key)
        await _own(flats[i], owner, identity["certificate"], key)
        if owner_index == 0:
            # the multi-unit owner: this flat, the next one, and a parking space
            i += 1
            await _own(flats[i], owner, identity["certificate"] + "-2", key)
            await _own(spaces[0], owner, identity["certificate"] + "-P", key)
        if owner_index == 1:
            partner = demo_person(base + 99)
            co_owner = await _owner(compound, partner, key)
            await _own(flats[i], co_owner, partner["certificate"], key, votes=False)
        owner_index += 1
        i += 1
    return person + owner_index, created


async def _owner(compound: Compound, identity: dict[str, str], key: bytes) -> Owner:
    owner, _ = await _get_or_create(
        Owner,
        defaults={"name": identity["name"], "phone": identity["phone"]},
        compound=compound,
        id_hash=id_hash(key, identity["id_number"]),
    )
    return owner


async def _own(unit: Unit, owner: Owner, certificate: str | None, key: bytes, *, votes: bool = True) -> None:
    await _get_or_create(
        Ownership,
        defaults={
            "votes_for_unit": votes,
            "cert_hash": certificate_hash(key, certificate) if certificate else None,
        },
        unit=unit,
        owner=owner,
    )
