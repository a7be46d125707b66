"""A finished inspection is final: the database itself refuses to change it, its scores or its
objection, whatever code (or person with a SQL prompt) tries.

PostgreSQL: row triggers refuse UPDATE and DELETE of a finished inspection, and INSERT, UPDATE and
DELETE of the scores and objection of one. TRUNCATE fires no row trigger (the test suite empties
tables with it). SQLite: the same for UPDATE and INSERT; DELETE is left to the RESTRICT foreign keys
(the credit record of a finished inspection refers to it), because SQLite's DELETE FROM fires row
triggers and the test suite empties its tables that way.

Both raise an integrity error (PostgreSQL SQLSTATE 23001 restrict_violation; SQLite RAISE(ABORT))
whose message starts with "rating_inspection_finished"."""

from __future__ import annotations

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

MESSAGE = "rating_inspection_finished: a finished inspection cannot be changed"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION rating_refuse_finished() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION rating_refuse_finished_child() RETURNS trigger AS $$
BEGIN
    IF (TG_OP <> 'INSERT' AND EXISTS (
            SELECT 1 FROM rating_inspection WHERE id = OLD.inspection_id AND status = 'finished'))
       OR (TG_OP <> 'DELETE' AND EXISTS (
            SELECT 1 FROM rating_inspection WHERE id = NEW.inspection_id AND status = 'finished')) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER rating_inspection_final BEFORE UPDATE OR DELETE ON rating_inspection
    FOR EACH ROW WHEN (OLD.status = 'finished') EXECUTE FUNCTION rating_refuse_finished();
CREATE TRIGGER rating_inspection_score_final BEFORE INSERT OR UPDATE OR DELETE ON rating_inspection_score
    FOR EACH ROW EXECUTE FUNCTION rating_refuse_finished_child();
CREATE TRIGGER rating_objection_final BEFORE INSERT OR UPDATE OR DELETE ON rating_objection
    FOR EACH ROW EXECUTE FUNCTION rating_refuse_finished_child();
"""

POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS rating_objection_final ON rating_objection;
DROP TRIGGER IF EXISTS rating_inspection_score_final ON rating_inspection_score;
DROP TRIGGER IF EXISTS rating_inspection_final ON rating_inspection;
DROP FUNCTION IF EXISTS rating_refuse_finished_child();
DROP FUNCTION IF EXISTS rating_refuse_finished();
"""


def _child(table: str, op: str, row: str) -> str:
    return (
        f"CREATE TRIGGER {table}_final_{op.lower()} BEFORE {op} ON {table} FOR EACH ROW "
        f"WHEN EXISTS (SELECT 1 FROM rating_inspection WHERE id = {row}.inspection_id AND status = 'finished') "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"
    )


SQLITE_UP = "\n".join(
    [
        "CREATE TRIGGER rating_inspection_final BEFORE UPDATE ON rating_inspection FOR EACH ROW "
        f"WHEN OLD.status = 'finished' BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
        _child("rating_inspection_score", "INSERT", "NEW"),
        _child("rating_inspection_score", "UPDATE", "OLD"),
        _child("rating_objection", "INSERT", "NEW"),
        _child("rating_objection", "UPDATE", "OLD"),
    ]
)

SQLITE_DOWN = "\n".join(
    f"DROP TRIGGER IF EXISTS {name};"
    for name in (
        "rating_inspection_final",
        "rating_inspection_score_final_insert",
        "rating_inspection_score_final_update",
        "rating_objection_final_insert",
        "rating_objection_final_update",
    )
)


def _on_sqlite(schema_editor: Any) -> bool:
    return bool(schema_editor.client.capabilities.dialect == "sqlite")


async def install(apps: Any, schema_editor: Any) -> None:
    await schema_editor.client.execute_script(SQLITE_UP if _on_sqlite(schema_editor) else POSTGRES_UP)


async def remove(apps: Any, schema_editor: Any) -> None:
    await schema_editor.client.execute_script(SQLITE_DOWN if _on_sqlite(schema_editor) else POSTGRES_DOWN)


class Migration(migrations.Migration):
    dependencies = [("ratings", "0001_initial")]

    initial = False

    operations = [ops.RunPython(install, remove)]
