"""Owner records per compound (issue 10, item 1).

Until now one owner record, matched county-wide by ID number, was shared by every compound that listed
that ID, so one compound's roster could rename, re-phone or hand over an owner another compound relied
on. From here on an owner record belongs to one compound. An existing record holding units (or a
committee seat, or a place on a motion's roll) in several compounds is split: the original stays with
the first of them, every other compound gets its own copy, and the ownerships, committee seats and roll
entries of that compound move to the copy. A copy keeps the record's WeChat account, so nobody who was
verified before is logged out of a compound; from now on only the person's own claim in a compound
joins that compound's record to their account. Records holding nothing anywhere keep no compound.
"""

from typing import Any

from tortoise import connections, migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint


async def split_shared_owners(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"

    def sql(query: str) -> str:
        """The query with ? placeholders numbered for asyncpg."""
        if not postgres:
            return query
        parts = query.split("?")
        return "".join(p + (f"${i}" if i < len(parts) else "") for i, p in enumerate(parts, start=1))

    held = await client.execute_query_dict(
        "SELECT DISTINCT s.owner_id AS owner_id, u.compound_id AS compound_id"
        " FROM ownership s JOIN unit u ON u.id = s.unit_id"
        " UNION SELECT DISTINCT m.owner_id, c.compound_id"
        " FROM committee_member m JOIN committee c ON c.id = m.committee_id"
        " UNION SELECT DISTINCT v.owner_id, mo.compound_id"
        " FROM voting_voter v JOIN voting_motion mo ON mo.id = v.motion_id"
    )
    compounds: dict[int, set[int]] = {}
    for row in held:
        compounds.setdefault(int(row["owner_id"]), set()).add(int(row["compound_id"]))
    for owner_id, where in sorted(compounds.items()):
        first, *others = sorted(where)
        await client.execute_query(sql("UPDATE owner SET compound_id = ? WHERE id = ?"), [first, owner_id])
        for compound_id in others:
            copy = await client.execute_query_dict(
                sql(
                    "INSERT INTO owner (compound_id, kind, name, phone, id_hash, is_developer, user_id)"
                    " SELECT ?, kind, name, phone, id_hash, is_developer, user_id FROM owner WHERE id = ?"
                    " RETURNING id"
                ),
                [compound_id, owner_id],
            )
            new_id = int(copy[0]["id"])
            moves = (
                "UPDATE ownership SET owner_id = ? WHERE owner_id = ?"
                " AND unit_id IN (SELECT id FROM unit WHERE compound_id = ?)",
                "UPDATE committee_member SET owner_id = ? WHERE owner_id = ?"
                " AND committee_id IN (SELECT id FROM committee WHERE compound_id = ?)",
                "UPDATE voting_voter SET owner_id = ? WHERE owner_id = ?"
                " AND motion_id IN (SELECT id FROM voting_motion WHERE compound_id = ?)",
            )
            for move in moves:
                await client.execute_query(sql(move), [new_id, owner_id, compound_id])


def _on_sqlite(schema_editor: Any) -> bool:
    return bool(schema_editor.client.capabilities.dialect == "sqlite")


async def sqlite_foreign_keys_off(apps: Any, schema_editor: Any) -> None:
    if _on_sqlite(schema_editor):
        await schema_editor.client.execute_script("PRAGMA foreign_keys=OFF")


async def sqlite_foreign_keys_on(apps: Any, schema_editor: Any) -> None:
    if _on_sqlite(schema_editor):
        # the rebuild drops the table's other indexes: restore 0003's
        await schema_editor.client.execute_script(
            'CREATE INDEX IF NOT EXISTS "idx_owner_user_id_da06b3" ON "owner" ("user_id")'
        )
        await schema_editor.client.execute_script("PRAGMA foreign_keys=ON")
        problems = await schema_editor.client.execute_query_dict("PRAGMA foreign_key_check")
        if problems:
            raise RuntimeError(f"foreign keys broken by the owner table rebuild: {problems[:5]}")


class Migration(migrations.Migration):
    # voting's roll (voting_voter) refers to owners, so its tables must exist when records are split
    dependencies = [
        ('models', '0001_initial'),
        ('models', '0002_invitations_departments'),
        ('models', '0003_lookup_indexes'),
        ('voting', '0002_lookup_indexes'),
    ]

    initial = False

    @property  # type: ignore[override]
    def atomic(self) -> bool:
        """SQLite drops a column's UNIQUE only by rebuilding the table, which the RESTRICT foreign keys
        of ownership, committee_member and voting_voter refuse while enforced, and PRAGMA foreign_keys
        is ignored inside a transaction: so on SQLite this migration runs outside one, with foreign keys
        off around the rebuild and checked after it. On PostgreSQL it is one transaction."""
        return connections.get("default").capabilities.dialect != "sqlite"

    operations = [
        ops.RunPython(sqlite_foreign_keys_off, atomic=False),
        ops.AlterModelOptions(
            name='Owner',
            options={'table': 'owner', 'app': 'models', 'unique_together': (('compound', 'id_hash'),), 'indexes': [Index(fields=['user_id'])], 'pk_attr': 'id', 'table_description': "A legal owner as one compound's roster lists them: a person or an organisation (the developer"},
        ),
        ops.AlterField(
            model_name='Owner',
            name='id_hash',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Owner',
            name='compound',
            field=fields.ForeignKeyField('models.Compound', source_field='compound_id', null=True, db_constraint=True, to_field='id', related_name='owners', on_delete=OnDelete.RESTRICT),
        ),
        ops.RunPython(split_shared_owners),
        ops.AddConstraint(
            model_name='Owner',
            constraint=UniqueConstraint(fields=('compound', 'id_hash'), name=None),
        ),
        ops.AlterModelOptions(
            name='Ownership',
            options={'table': 'ownership', 'app': 'models', 'unique_together': (('unit', 'owner'),), 'indexes': [Index(fields=['owner_id'])], 'pk_attr': 'id', 'table_description': "Owner ↔ unit: one entry of the unit's roster. A co-owned unit has several rows, exactly one of"},
        ),
        ops.RunPython(sqlite_foreign_keys_on, atomic=False),
    ]
