"""The migrations are the one source of the schema, and they agree with the models."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncEngine

from rustok.migrations import alembic_config, schema_drift, target_metadata


def test_the_history_is_one_line() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


async def test_the_models_and_the_migrations_agree(db_engine: AsyncEngine) -> None:
    assert await schema_drift(db_engine) == []


async def test_the_database_is_at_the_head_revision(db_engine: AsyncEngine) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    async with db_engine.connect() as connection:
        current = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    assert current == head


async def test_the_drift_check_sees_a_table_the_migrations_lack(db_engine: AsyncEngine) -> None:
    """Guards the guard: a model with no migration must show up as drift."""
    models = MetaData()
    for table in target_metadata().tables.values():
        table.to_metadata(models)
    Table("unmigrated_things", models, Column("id", Integer, primary_key=True))

    drift = await schema_drift(db_engine, models)

    assert [(op, table.name) for op, table, *_ in drift] == [("add_table", "unmigrated_things")]
