"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL.

A table, column, type, nullability, index, unique constraint or foreign key added to a
model without its Alembic revision (or the reverse) fails here, listing each difference."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table
from sqlalchemy.engine import Connection

from signaling.db.engine import Database
from signaling.db.migrate import migrate
from signaling.db.tables import metadata


@pytest.fixture
async def migrated(database_url: str) -> AsyncIterator[Database]:
    """A fresh database brought to every head by the same call as ``tiaojie migrate``."""
    db = Database(database_url)
    try:
        await migrate(db)
        yield db
    finally:
        await db.close()


async def schema_differences(db: Database, target: MetaData) -> list[Any]:
    def compare(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, target))

    async with db.engine.connect() as conn:
        return await conn.run_sync(compare)


def describe(differences: list[Any]) -> str:
    return "\n".join(f"  {d!r}" for d in differences)


async def test_the_migrated_schema_matches_the_models(migrated: Database) -> None:
    differences = await schema_differences(migrated, metadata)
    assert not differences, (
        "the migrations and the models disagree; write a migration (chained after the "
        "current head) or fix the model:\n" + describe(differences)
    )


async def test_a_model_without_its_migration_is_reported(migrated: Database) -> None:
    """The comparison is not vacuous: a table and a column that only a model declares are
    both named."""
    target = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(target)
    target.tables["offices"].append_column(Column("drift_probe", Integer, nullable=True))
    Table("drift_probe_table", target, Column("id", Integer, primary_key=True))

    text = describe(await schema_differences(migrated, target))

    assert "drift_probe_table" in text
    assert "'add_column'" in text and "drift_probe" in text
