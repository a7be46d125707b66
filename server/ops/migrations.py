"""What an operator asks before and after an upgrade: which migrations are applied, which are pending."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.executor import MigrationExecutor

from server import db


@dataclass(frozen=True)
class Pending:
    app: str
    name: str
    backward: bool  # the plan would unapply it (the database is ahead of the code)

    def __str__(self) -> str:
        return f"{'unapply' if self.backward else 'apply'} {self.app}.{self.name}"


async def pending(url: str) -> list[Pending]:
    """The plan `python -m server migrate` would run, in order; empty when the schema is current."""
    db.ensure_sqlite_dir(url)
    config = db.tortoise_config(url)
    await Tortoise.init(config=config, init_connections=False)
    try:
        executor = MigrationExecutor(get_connection("default"), config["apps"])
        steps = await executor.plan(None)
    finally:
        await Tortoise.close_connections()
    return [Pending(s.migration.app_label, s.migration.name, s.backward) for s in steps]
