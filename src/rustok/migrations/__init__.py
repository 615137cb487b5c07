"""Alembic migrations, one linear history, and the functions that apply and check them.

`rustok migrate` and the embedded default's start-up call `upgrade`; the test kit calls `upgrade_async`
on its own engine. Both hand Alembic an open connection, so this works inside a running event loop.
Every other command first asks `revision_state` whether the database is at the script's head.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from rustok.core.db import create_engine
from rustok.core.settings import Settings
from rustok.core.types import UTCDateTime

SCRIPT_LOCATION = Path(__file__).parent
# Serializes concurrent `rustok migrate` runs against one PostgreSQL database.
_PG_MIGRATION_LOCK = 7_301_202_601


def target_metadata() -> MetaData:
    from rustok.core.models import Base
    from rustok.modules import load_models

    load_models()
    return Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations spell our column types in plain SQLAlchemy, so old revisions never import app code.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# Search structures the migrations make per backend and the ORM does not map (see rustok.index.models):
# SQLite's FTS5 tables (and their shadow tables), PostgreSQL's search_vector, head_vector and phrase_keys
# columns.
_UNMAPPED_TABLE_PREFIXES = ("index_content_fts", "index_products_fts")
_UNMAPPED_COLUMNS = frozenset({"search_vector", "head_vector", "phrase_keys"})


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """What autogenerate (and the drift check) compares: everything but the unmapped search structures."""
    if type_ == "table" and name is not None and name.startswith(_UNMAPPED_TABLE_PREFIXES):
        return False
    if type_ == "column" and reflected and compare_to is None and name in _UNMAPPED_COLUMNS:
        return False
    return not (type_ == "index" and reflected and compare_to is None and name and name.endswith("_search"))


def context_options(connection: Connection) -> dict[str, Any]:
    """The options env.py and the drift check both configure Alembic with."""
    return {
        "target_metadata": target_metadata(),
        "compare_type": True,
        "compare_server_default": True,
        "render_as_batch": connection.dialect.name == "sqlite",
        # rustok.core.db makes SQLAlchemy emit BEGIN on SQLite, so its DDL is transactional too.
        "transactional_ddl": True,
        "render_item": _render_item,
        "include_object": include_object,
    }


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade_on(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    command.upgrade(alembic_config(connection), revision)


async def upgrade_async(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_on, revision)


def upgrade(settings: Settings, revision: str = "head") -> None:
    async def run() -> None:
        engine = create_engine(settings)
        try:
            await upgrade_async(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _diff_on(connection: Connection, metadata: MetaData | None) -> list[Any]:
    opts = context_options(connection)
    if metadata is not None:
        opts["target_metadata"] = metadata
    context = MigrationContext.configure(connection, opts=opts)
    return list(compare_metadata(context, opts["target_metadata"]))


async def schema_drift(engine: AsyncEngine, metadata: MetaData | None = None) -> list[Any]:
    """What autogenerate would put in a new migration for this (migrated) database: empty when the
    models (`metadata`, by default every module's tables) and the migrations agree."""
    async with engine.connect() as connection:
        return await connection.run_sync(_diff_on, metadata)


@dataclass(frozen=True, slots=True)
class RevisionState:
    """Where a database is in the migration history, against the history this code ships."""

    current: tuple[str, ...]  # the database's revisions (empty: never migrated)
    heads: tuple[str, ...]  # the script's newest revision (one: the history is a line)
    known: frozenset[str]  # every revision of the script

    @property
    def is_current(self) -> bool:
        return set(self.current) == set(self.heads)

    @property
    def unknown(self) -> tuple[str, ...]:
        """Revisions of the database that this code does not have (a newer release migrated it)."""
        return tuple(revision for revision in self.current if revision not in self.known)


def _current_on(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


async def revision_state(engine: AsyncEngine) -> RevisionState:
    """The database's revisions and the script's head. Only reads (an unmigrated database stays as it
    is); raises what connecting raises when the database cannot be reached."""
    script = ScriptDirectory.from_config(alembic_config())
    async with engine.connect() as connection:
        current = await connection.run_sync(_current_on)
    known = frozenset(revision.revision for revision in script.walk_revisions())
    return RevisionState(current=current, heads=tuple(script.get_heads()), known=known)


def check_revision(settings: Settings, *, timeout: float) -> RevisionState:
    """`revision_state` of the database ``settings`` name, on an engine of its own; `TimeoutError` when
    connecting takes longer than ``timeout`` seconds."""

    async def run() -> RevisionState:
        engine = create_engine(settings)
        try:
            return await asyncio.wait_for(revision_state(engine), timeout)
        finally:
            await engine.dispose()

    return asyncio.run(run())
