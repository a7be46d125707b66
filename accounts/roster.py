"""A compound's roster (花名册): import from CSV or JSON, export as CSV.

    parse_roster(data, fmt) -> list[RosterRow]       check a file alone (accounts.roster_parse)
    import_roster(compound_id, data, fmt, *, hmac_key, actor) -> ImportReport
    export_roster_csv(compound_id) -> bytes

The import is all or nothing. The whole file is checked first and every problem is reported at once
(RosterInvalid); then, in one transaction, units are matched by (building, number) and created or updated
in place, owners are matched by the keyed hash of their ID number (organisations: of their credit code)
among this compound's own owner records and created or updated, and each unit in the file ends up with
exactly the file's owners. Units absent from the file are left alone, and so are owners who no longer
hold a unit (they may be bound to a WeChat user). An empty phone or certificate cell means "not given": a
stored phone or certificate hash is kept. A roster speaks only for its own compound: it never reads,
renames or re-phones an owner record of another compound, even one with the same ID number (that person
has one record per compound, joined only by their own verified claims; see accounts.models.Owner).

ID and certificate numbers are turned into keyed hashes before anything is written; they never reach the
database, the audit log, the logs or an error. Hence the export cannot contain them, and since the ID
number is the key owners are matched by, the export is for reading only: importing it is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from accounts.errors import CompoundNotFound, RosterConflict
from accounts.identity import keyed_hash, mask_phone
from accounts.models import AreaSource, Building, Compound, Owner, OwnerKind, Ownership, Unit, UnitKind
from accounts.roster_parse import LABELS, Format, RosterRow, parse_roster, validate_roster
from audit.service import Actor, append, compound_stream
from core import tabular

__all__ = ["ImportReport", "RosterRow", "export_roster_csv", "import_roster", "parse_roster"]

log = logging.getLogger("wuye.accounts.roster")
CHUNK = 500  # rows per IN list, INSERT or UPDATE: well under SQLite's and PostgreSQL's parameter limits
# a concurrent import creating the same new owner fails on (compound, id_hash); a retry matches it
ATTEMPTS = 3
EXPORT_COLUMNS = [k for k in LABELS if k not in ("id_number", "certificate")]
_UNIT_FIELDS = ("kind", "area", "area_source", "delivered")
_OWNER_FIELDS = ("kind", "name", "phone", "is_developer")
_SHARE_FIELDS = ("votes_for_unit", "cert_hash")
_KIND_LABELS = {UnitKind.FLAT: "住宅", UnitKind.SHOP: "商铺", UnitKind.PARKING: "车位"}
_SOURCE_LABELS = {AreaSource.REGISTER: "登记", AreaSource.SURVEY: "实测", AreaSource.CONTRACT: "合同"}
_OWNER_KIND_LABELS = {OwnerKind.PERSON: "个人", OwnerKind.ORGANISATION: "单位"}
M = TypeVar("M", bound=Model)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did. A re-import of the same file reports zero for everything but unchanged."""

    rows: int
    sha256: str
    units_created: int = 0
    units_updated: int = 0
    units_unchanged: int = 0
    owners_created: int = 0
    owners_updated: int = 0
    ownerships_created: int = 0
    ownerships_updated: int = 0
    ownerships_removed: int = 0

    @property
    def changed(self) -> bool:
        return any(v for k, v in asdict(self).items() if k not in ("rows", "sha256", "units_unchanged"))


@dataclass(slots=True)
class _UnitPlan:
    values: dict[str, Any]
    owners: dict[str, tuple[bool, str | None]] = field(default_factory=dict)  # id_hash -> (votes, cert)


def _plan(
    rows: list[RosterRow], buildings: Mapping[str, int], key: bytes
) -> tuple[dict[tuple[int, str], _UnitPlan], dict[str, dict[str, Any]]]:
    """The file as the database will hold it: numbers replaced by their keyed hashes."""
    units: dict[tuple[int, str], _UnitPlan] = {}
    owners: dict[str, dict[str, Any]] = {}
    for row in rows:
        values = {
            "kind": row.kind,
            "area": row.area,
            "area_source": row.area_source,
            "delivered": row.delivered,
        }
        plan = units.setdefault((buildings[row.building], row.unit), _UnitPlan(values))
        if row.owner is None:
            continue
        o = row.owner
        id_hash = keyed_hash(key, "id" if o.kind is OwnerKind.PERSON else "org", o.number)
        owners[id_hash] = {"kind": o.kind, "name": o.name, "is_developer": o.developer}
        if o.phone:
            owners[id_hash]["phone"] = o.phone
        cert_hash = keyed_hash(key, "cert", o.certificate) if o.certificate else None
        plan.owners[id_hash] = (o.votes_for_unit, cert_hash)
    return units, owners


def _check_and_plan(
    data: bytes, fmt: Format, buildings: dict[str, int], key: bytes
) -> tuple[list[RosterRow], tuple[dict[tuple[int, str], _UnitPlan], dict[str, dict[str, Any]]]]:
    rows = validate_roster(data, fmt, buildings=buildings)
    return rows, _plan(rows, buildings, key)


async def import_roster(
    compound_id: int, data: bytes, fmt: Format, *, hmac_key: bytes, actor: Actor
) -> ImportReport:
    """Check the whole file, then apply it in one transaction with one "roster.imported" audit event.

    Raises CompoundNotFound, RosterInvalid (nothing changed; details list every problem by row and
    field), RosterConflict (a concurrent change kept failing; nothing changed)."""
    if not await Compound.exists(id=compound_id):
        raise CompoundNotFound()
    buildings = dict(await Building.filter(compound_id=compound_id).values_list("name", "id"))
    # Up to a second of pure Python for 20,000 rows: in a thread, so the event loop keeps serving.
    rows, (units, owners) = await asyncio.to_thread(_check_and_plan, data, fmt, buildings, hmac_key)
    sha256 = hashlib.sha256(data).hexdigest()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with in_transaction() as conn:
                # Imports of one compound queue here (PostgreSQL; SQLite serialises writers anyway).
                await Compound.filter(id=compound_id).using_db(conn).select_for_update().first()
                counts = await _apply(conn, compound_id, units, owners)
                report = ImportReport(rows=len(rows), sha256=sha256, **counts)
                await append(
                    compound_stream(compound_id),
                    "roster.imported",
                    actor=actor,
                    subject=f"compound:{compound_id}",
                    payload={"format": fmt, **asdict(report)},
                )
        except IntegrityError:
            if attempt == ATTEMPTS:
                raise RosterConflict() from None
            continue
        log.info("roster imported into compound %s: %s", compound_id, counts)
        return report
    raise AssertionError("unreachable")


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _changed(stored: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any] | None:
    """The stored values with the wanted ones applied, or None when they already hold."""
    if all(stored[name] == value for name, value in wanted.items()):
        return None
    return {**stored, **wanted}


async def _write(model: type[M], new: list[M], changed: list[M], fields: tuple[str, ...], conn: Any) -> None:
    if new:
        await model.bulk_create(new, batch_size=CHUNK, using_db=conn)
    if changed:
        await model.bulk_update(changed, fields, batch_size=CHUNK, using_db=conn)


async def _apply(
    conn: BaseDBAsyncClient,
    compound_id: int,
    units: dict[tuple[int, str], _UnitPlan],
    owners: dict[str, dict[str, Any]],
) -> dict[str, int]:
    """Three reads, then bulk writes in chunks: the query count does not grow with the rows. Rows are
    read as tuples (building ORM objects costs more than the rest); an update needs only an instance
    holding the primary key and the updated fields."""
    building_ids = sorted({building_id for building_id, _ in units})
    in_buildings = Unit.filter(building_id__in=building_ids).using_db(conn)
    stored_units = {
        (b, n): (i, dict(zip(_UNIT_FIELDS, rest, strict=True)))
        for b, n, i, *rest in await in_buildings.values_list("building_id", "number", "id", *_UNIT_FIELDS)
    }
    new_units: list[Unit] = []
    changed_units: list[Unit] = []
    for (building_id, number), plan in units.items():
        if (building_id, number) not in stored_units:
            new_units.append(
                Unit(compound_id=compound_id, building_id=building_id, number=number, **plan.values)
            )
        else:
            unit_id, stored = stored_units[(building_id, number)]
            if (values := _changed(stored, plan.values)) is not None:
                changed_units.append(Unit(id=unit_id, **values))
    await _write(Unit, new_units, changed_units, _UNIT_FIELDS, conn)
    unit_ids = {key: unit_id for key, (unit_id, _) in stored_units.items()}
    if new_units:
        unit_ids = {(b, n): i for b, n, i in await in_buildings.values_list("building_id", "number", "id")}

    stored_owners: dict[str, tuple[int, dict[str, Any]]] = {}
    for chunk in _chunks(list(owners)):
        in_chunk = Owner.filter(compound_id=compound_id, id_hash__in=chunk).using_db(conn)
        for h, i, *rest in await in_chunk.values_list("id_hash", "id", *_OWNER_FIELDS):
            stored_owners[h] = (i, dict(zip(_OWNER_FIELDS, rest, strict=True)))
    new_owners = [
        Owner(compound_id=compound_id, id_hash=h, **v) for h, v in owners.items() if h not in stored_owners
    ]
    changed_owners: list[Owner] = []
    for h, (owner_id, stored) in stored_owners.items():
        if (values := _changed(stored, owners[h])) is not None:
            changed_owners.append(Owner(id=owner_id, **values))
    await _write(Owner, new_owners, changed_owners, _OWNER_FIELDS, conn)
    owner_ids = {h: owner_id for h, (owner_id, _) in stored_owners.items()}
    for chunk in _chunks([o.id_hash for o in new_owners]):
        created = Owner.filter(compound_id=compound_id, id_hash__in=chunk).using_db(conn)
        owner_ids |= dict(await created.values_list("id_hash", "id"))

    held: dict[int, dict[int, tuple[int, dict[str, Any]]]] = {}
    shares = Ownership.filter(unit__building_id__in=building_ids).using_db(conn)
    for i, unit_id, owner_id, *rest in await shares.values_list("id", "unit_id", "owner_id", *_SHARE_FIELDS):
        held.setdefault(unit_id, {})[owner_id] = (i, dict(zip(_SHARE_FIELDS, rest, strict=True)))
    removed: list[int] = []
    new_shares: list[Ownership] = []
    changed_shares: list[Ownership] = []
    for key, plan in units.items():
        unit_id = unit_ids[key]
        current = held.get(unit_id, {})
        wanted = {owner_ids[h]: held_as for h, held_as in plan.owners.items()}
        removed += [share_id for owner_id, (share_id, _) in current.items() if owner_id not in wanted]
        for owner_id, (votes, cert_hash) in wanted.items():
            want = {"votes_for_unit": votes, **({"cert_hash": cert_hash} if cert_hash else {})}
            if owner_id not in current:
                new_shares.append(Ownership(unit_id=unit_id, owner_id=owner_id, **want))
            elif (values := _changed(current[owner_id][1], want)) is not None:
                changed_shares.append(Ownership(id=current[owner_id][0], **values))
    for chunk in _chunks(removed):
        await Ownership.filter(id__in=chunk).using_db(conn).delete()
    await _write(Ownership, new_shares, changed_shares, _SHARE_FIELDS, conn)
    return {
        "units_created": len(new_units),
        "units_updated": len(changed_units),
        "units_unchanged": len(units) - len(new_units) - len(changed_units),
        "owners_created": len(new_owners),
        "owners_updated": len(changed_owners),
        "ownerships_created": len(new_shares),
        "ownerships_updated": len(changed_shares),
        "ownerships_removed": len(removed),
    }


def _natural(text: str) -> list[Any]:
    """Sort key putting 2号楼 before 10号楼 and 901 before 1001."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


async def export_roster_csv(compound_id: int) -> bytes:
    """The roster as UTF-8 CSV with a BOM (so Excel reads the Chinese), one row per unit and owner, in
    the import's columns with Chinese headers and values, phones masked. It cannot hold ID or
    certificate numbers, since only their keyed hashes are stored; so it is for reading, not re-import."""
    if not await Compound.exists(id=compound_id):
        raise CompoundNotFound()
    units = await Unit.filter(compound_id=compound_id).values(
        "id", "number", "kind", "area", "area_source", "delivered", "building__name"
    )
    holders: dict[int, list[dict[str, Any]]] = {}
    for s in await Ownership.filter(unit__compound_id=compound_id).values(
        "unit_id",
        "owner_id",
        "votes_for_unit",
        "owner__kind",
        "owner__name",
        "owner__phone",
        "owner__is_developer",
    ):
        holders.setdefault(s["unit_id"], []).append(s)
    lines: list[list[str]] = []
    for u in sorted(units, key=lambda u: (_natural(u["building__name"]), _natural(u["number"]))):
        unit_cells = [
            u["building__name"],
            u["number"],
            _KIND_LABELS[u["kind"]],
            f"{Decimal(u['area']):.2f}",
            _SOURCE_LABELS[u["area_source"]],
            _yes_no(u["delivered"]),
        ]
        shares = sorted(holders.get(u["id"], []), key=lambda s: (not s["votes_for_unit"], s["owner_id"]))
        if not shares:
            lines.append(unit_cells + [""] * (len(EXPORT_COLUMNS) - len(unit_cells)))
        for s in shares:
            owner_cells = [
                _OWNER_KIND_LABELS[s["owner__kind"]],
                s["owner__name"],
                mask_phone(s["owner__phone"]) or "",
                _yes_no(s["votes_for_unit"]),
                _yes_no(s["owner__is_developer"]),
            ]
            lines.append(unit_cells + owner_cells)
    return tabular.csv_bytes([LABELS[k] for k in EXPORT_COLUMNS], lines)  # every cell defused
