"""A compound's public contacts (the 公示栏): who posts each one, how a name and a phone are checked,
and what the board shows.

    property company staff   项目经理 (name + phone), 投诉电话, 服务（报修）电话
    the committee            its contact (name + phone)
    the community admin      the community's contact for the compound, and its grid worker (网格员),
                             who must hold the grid worker role in the compound's community

These are work numbers posted for the public, so the board shows them in full. A person's phone
(project manager, committee, community, grid worker) is a mobile or a landline; the complaint and
service lines may also be a 400/800 number or a short hotline such as 12345. Nothing here ever reads
a person's own phone (an account's or a roster's): a number is on the board only because the role
responsible posted it for that purpose. Each section is replaced as a whole and every change is one
audit event in the compound's stream, with the section before and after.

A row speaks for something and leaves the board when that ends (see CompoundContact): the company
that no longer serves the compound, a committee whose term is over, a grid worker whose role was
withdrawn.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from accounts.errors import CompoundNotFound, RoleMissing
from accounts.models import (
    Committee,
    CommitteeMember,
    Compound,
    CompoundContact,
    ContactKind,
    RoleGrant,
    ServiceContract,
)
from accounts.roles import Role, Scope, today
from audit.service import Actor, append, compound_stream
from core import clock
from core.errors import Invalid

NAME_MAX = 20
PHONE_MAX = 24

# Han characters, Latin letters (names of minorities are often transliterated), the middle dot of
# such names, spaces and brackets ("王伟（值班）"). No digits: a phone belongs in the phone field.
_NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z·•・ （）()]+")
_LETTER = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z]")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# Area codes: 010 and 02x have three digits and eight-digit numbers; every other one has four digits
# (0 + three) and seven- or eight-digit numbers. So the area code is found without a separator too.
_LANDLINE = re.compile(r"(010|02[0-9])([2-9][0-9]{7})|(0[3-9][0-9]{2})([2-9][0-9]{6,7})")
_EXTENSION = re.compile(r"[0-9]{1,6}")
# Public service numbers, on the complaint and service lines only (never a person's phone):
# 400/800 numbers (ten digits, written 400-xxx-xxxx) and short hotlines: the 123xx government series
# (12345 市民热线, 12315, 12369 …), 95xxx and 95xxxxxx national service numbers, 96xxx(x) local ones.
_TOLL_FREE = re.compile(r"(400|800)[0-9]{7}")
_HOTLINE = re.compile(r"123[0-9]{2}|95[0-9]{3}(?:[0-9]{3})?|96[0-9]{3,4}")


class ContactNameInvalid(Invalid):
    code = "contact_name_invalid"
    message = f"联系人姓名须为 1–{NAME_MAX} 个汉字或字母（可含“·”、空格、括号），不含数字"


class ContactPhoneInvalid(Invalid):
    code = "contact_phone_invalid"
    message = "电话须为 11 位手机号，或带区号的固定电话（如 0838-2212345，分机可写作 0838-2212345-801）"


class ServicePhoneInvalid(Invalid):
    code = "service_phone_invalid"
    message = (
        "服务电话须为 11 位手机号、带区号的固定电话（如 0838-2212345，分机可写作 0838-2212345-801）、"
        "400/800 电话（如 400-123-4567）或 12345、95598、96xxx 等服务热线"
    )


class GridWorkerNotOfCommunity(Invalid):
    code = "grid_worker_not_of_community"
    message = "该用户不是本小区所在社区的网格员，请先在社区授予网格员角色"


class ContactNotYours(RoleMissing):
    """Staff of a company that is not the one the board names for the compound today (two contracts
    overlapping at a handover), or a committee member of a committee not in office today."""

    code = "contact_not_yours"
    message = "只有当前在本小区服务的物业服务企业、当前任期的业主委员会可以修改其联系方式"


def normalise_name(text: str, field: str) -> str:
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not 1 <= len(name) <= NAME_MAX or not _NAME.fullmatch(name) or not _LETTER.search(name):
        raise ContactNameInvalid(details={"field": field, "max_length": NAME_MAX})
    return name


def _written(text: str) -> str:
    raw = unicodedata.normalize("NFKC", text).strip()
    return raw.replace(" ", "").replace("(", "").replace(")", "-").removeprefix("+86")


def normalise_phone(text: str, field: str) -> str:
    """A person's phone: a mobile as its 11 digits; a landline as ``area-number`` or
    ``area-number-extension``. Spaces, full-width digits, ``(0838)`` and ``转`` for the extension are
    accepted as written."""
    raw = _written(text)
    if _MOBILE.fullmatch(raw.replace("-", "")):
        return raw.replace("-", "")
    main, separator, extension = raw.partition("转")
    if not separator and main.count("-") >= 2:
        main, separator, extension = main.rpartition("-")
    found = _LANDLINE.fullmatch(main.replace("-", ""))
    if found is None or (separator and not _EXTENSION.fullmatch(extension)):
        raise ContactPhoneInvalid(details={"field": field})
    area, number = (found.group(1), found.group(2)) if found.group(1) else (found.group(3), found.group(4))
    return f"{area}-{number}" + (f"-{extension}" if extension else "")


def normalise_service_phone(text: str, field: str) -> str:
    """A public service line (the complaint and service phones): what ``normalise_phone`` accepts, a
    400/800 number as ``400-xxx-xxxx`` (an extension after ``转`` or a last ``-``, as for a landline),
    or a short hotline as its digits (``12345``, ``95598``, ``96777``)."""
    try:
        return normalise_phone(text, field)
    except ContactPhoneInvalid:
        pass
    raw = _written(text)
    main, separator, extension = raw.partition("转")
    readings = [(main, extension)] if separator else [(main, "")]
    if not separator and "-" in main:
        head, _, tail = main.rpartition("-")
        readings.append((head, tail))  # 400-820-8820-2: the last group is the extension
    for number, ext in readings:
        digits = number.replace("-", "")
        if (separator or ext) and not _EXTENSION.fullmatch(ext):
            continue
        if _TOLL_FREE.fullmatch(digits):
            return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}" + (f"-{ext}" if ext else "")
        if not ext and not separator and "-" not in number and _HOTLINE.fullmatch(digits):
            return digits
    raise ServicePhoneInvalid(details={"field": field})


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class GridWorker:
    user_id: int
    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class Posted:
    """A contact as the board shows it."""

    name: str
    phone: str
    updated_at: datetime


def person(value: Person | None, field: str) -> Person | None:
    if value is None:
        return None
    return Person(normalise_name(value.name, f"{field}.name"), normalise_phone(value.phone, f"{field}.phone"))


def service_line(value: str | None, field: str) -> Person | None:
    return None if value is None else Person("", normalise_service_phone(value, field))


async def serving_contract(compound_id: int) -> ServiceContract | None:
    """The contract the board names today: of the contracts in force, the one that started last."""
    on = today()
    return (
        await ServiceContract.filter(compound_id=compound_id, starts_on__lte=on, ends_on__gte=on)
        .order_by("-starts_on", "-id")
        .prefetch_related("company")
        .first()
    )


async def committee_in_office(compound_id: int) -> Committee | None:
    on = today()
    return (
        await Committee.filter(compound_id=compound_id, term_starts_on__lte=on, term_ends_on__gte=on)
        .order_by("-term_starts_on", "-id")
        .first()
    )


Tie = dict[str, int | None]  # what a row speaks for: {"company": 3}, {"committee": 5}, {"user": 9}


async def _replace(
    actor: Actor, user_id: int, compound_id: int, section: str, rows: dict[ContactKind, tuple[Person | None, Tie]]
) -> None:  # fmt: skip
    """Replace ``rows`` of one board section in one transaction, logging the section when it changed."""
    async with in_transaction() as conn:
        # One writer per compound at a time (PostgreSQL row lock; SQLite serialises writers itself),
        # so two concurrent edits of a section end as one of them, never a mix.
        # (``.exists()`` would drop the FOR UPDATE: the row itself is fetched.)
        if (
            await Compound.filter(id=compound_id).using_db(conn).select_for_update().only("id").first()
            is None
        ):
            raise CompoundNotFound()
        current = {
            c.kind: c
            for c in await CompoundContact.filter(compound_id=compound_id, kind__in=list(rows)).using_db(conn)
        }
        before = {k.value: _shown(current.get(k)) for k in rows}
        after = {k.value: _shown(value) for k, (value, _) in rows.items()}
        ties = {f"{k}_id": v for _, tie in rows.values() for k, v in tie.items()}
        moved = any(getattr(current[k], f"{t}_id") != v for k in current for t, v in rows[k][1].items())
        if before == after and not moved:
            return  # nothing changes, nothing to log
        for kind, (value, tie) in rows.items():
            ids = {f"{t}_id": v for t, v in tie.items()}
            if value is None:
                await CompoundContact.filter(compound_id=compound_id, kind=kind).using_db(conn).delete()
            elif kind in current:
                await (
                    CompoundContact.filter(id=current[kind].id)
                    .using_db(conn)
                    .update(
                        name=value.name, phone=value.phone, set_by_id=user_id, updated_at=clock.now(), **ids
                    )
                )
            else:
                await CompoundContact.create(
                    using_db=conn, compound_id=compound_id, kind=kind, name=value.name, phone=value.phone,
                    set_by_id=user_id, **ids,
                )  # fmt: skip
        await append(
            compound_stream(compound_id),
            "compound.contacts_changed",
            actor=actor,
            subject=f"compound:{compound_id}",
            payload={"section": section, "from": before, "to": after, **ties},
        )


def _shown(row: CompoundContact | Person | None) -> dict[str, str] | None:
    return None if row is None else {"name": row.name, "phone": row.phone}


async def set_property_contacts(
    actor: Actor, user_id: int, compound_id: int, *, project_manager: Person | None,
    complaint_phone: str | None, service_phone: str | None,
) -> None:  # fmt: skip
    """Property staff post their section; it is tied to the company the board names today, which must
    be one the caller works for."""
    values = {
        ContactKind.PROJECT_MANAGER: person(project_manager, "project_manager"),
        ContactKind.COMPLAINT: service_line(complaint_phone, "complaint_phone"),
        ContactKind.SERVICE: service_line(service_phone, "service_phone"),
    }
    contract = await serving_contract(compound_id)
    staff_of = await RoleGrant.filter(
        user_id=user_id, role=Role.PROPERTY_STAFF, scope_type=Scope.COMPANY
    ).values_list("scope_id", flat=True)
    if contract is None or contract.company_id not in staff_of:  # type: ignore[attr-defined]
        raise ContactNotYours()
    tie: Tie = {"company": contract.company_id}  # type: ignore[attr-defined]
    await _replace(actor, user_id, compound_id, "property", {k: (v, tie) for k, v in values.items()})


async def set_committee_contact(actor: Actor, user_id: int, compound_id: int, contact: Person | None) -> None:
    """A member of the committee in office posts its contact; it is tied to that committee's term."""
    value = person(contact, "contact")
    committee = await committee_in_office(compound_id)
    if committee is None or not await CommitteeMember.exists(
        committee_id=committee.id, owner__user_id=user_id
    ):
        raise ContactNotYours()
    tie: Tie = {"committee": committee.id}
    rows = {ContactKind.COMMITTEE: (value, tie)}
    await _replace(actor, user_id, compound_id, "committee", rows)


async def set_community_contacts(
    actor: Actor, user_id: int, compound_id: int, *, contact: Person | None, grid_worker: GridWorker | None
) -> None:
    """The community admin posts the community's contact for the compound and names its grid worker,
    one of the community's grid workers (RoleGrant), with the work phone they give residents."""
    community = person(contact, "contact")
    worker = person(Person(grid_worker.name, grid_worker.phone), "grid_worker") if grid_worker else None
    if grid_worker is not None:
        compound = await Compound.get_or_none(id=compound_id).only("id", "community_id")
        if compound is None:
            raise CompoundNotFound()
        if not await RoleGrant.exists(
            user_id=grid_worker.user_id, role=Role.GRID_WORKER, scope_type=Scope.COMMUNITY,
            scope_id=compound.community_id,  # type: ignore[attr-defined]
        ):  # fmt: skip
            raise GridWorkerNotOfCommunity(details={"field": "grid_worker.user_id"})
    rows: dict[ContactKind, tuple[Person | None, Tie]] = {
        ContactKind.COMMUNITY: (community, {}),
        ContactKind.GRID_WORKER: (worker, {"user": grid_worker.user_id if grid_worker else None}),
    }
    await _replace(actor, user_id, compound_id, "community", rows)


@dataclass(frozen=True, slots=True)
class Board:
    project_manager: Posted | None
    complaint_phone: Posted | None
    service_phone: Posted | None
    committee: Posted | None
    community: Posted | None
    grid_worker: Posted | None


async def board(
    compound_id: int, community_id: int, company_id: int | None, committee_id: int | None
) -> Board:
    """The contacts shown today: each only while what it speaks for still holds."""
    rows = {c.kind: c for c in await CompoundContact.filter(compound_id=compound_id)}
    worker = rows.get(ContactKind.GRID_WORKER)
    if worker is not None and not await RoleGrant.exists(
        user_id=worker.user_id, role=Role.GRID_WORKER, scope_type=Scope.COMMUNITY,  # type: ignore[attr-defined]
        scope_id=community_id,
    ):  # fmt: skip
        worker = None

    def posted(kind: ContactKind, **tie: int | None) -> Posted | None:
        row = rows.get(kind)
        if row is None or any(getattr(row, f"{k}_id") != v for k, v in tie.items()):
            return None
        return Posted(row.name, row.phone, row.updated_at)

    return Board(
        project_manager=posted(ContactKind.PROJECT_MANAGER, company=company_id) if company_id else None,
        complaint_phone=posted(ContactKind.COMPLAINT, company=company_id) if company_id else None,
        service_phone=posted(ContactKind.SERVICE, company=company_id) if company_id else None,
        committee=posted(ContactKind.COMMITTEE, committee=committee_id) if committee_id else None,
        community=posted(ContactKind.COMMUNITY),
        grid_worker=Posted(worker.name, worker.phone, worker.updated_at) if worker else None,
    )


async def current_board(compound_id: int) -> Board:
    compound = await Compound.get_or_none(id=compound_id).only("id", "community_id")
    if compound is None:
        raise CompoundNotFound()
    contract = await serving_contract(compound_id)
    committee = await committee_in_office(compound_id)
    return await board(
        compound_id,
        compound.community_id,  # type: ignore[attr-defined]
        contract.company_id if contract else None,  # type: ignore[attr-defined]
        committee.id if committee else None,
    )
