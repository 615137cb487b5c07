"""The database layer: SQLite tuned for a server, and write units of work that serialize on it.

The subject is `rustok.core.db.create_engine`'s tuning, so these tests call it themselves (an allowance of
tests/unit/test_composition.py) on a SQLite file of their own, and take units of work on that engine from the
test kit (`rustok.testing.uows_on`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from rustok.core.db import create_engine
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.testing import uows_on
from tests.integration.scratch import ScratchBase, Widget

TENANT = uuid.UUID("01900000-0000-7000-8000-0000000000c1")


@pytest_asyncio.fixture(loop_scope="session")
async def sqlite_file_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A SQLite file of this test's own, where units of work really commit."""
    engine = create_engine(Settings(_env_file=None, data_dir=tmp_path))
    async with engine.begin() as connection:
        await connection.run_sync(ScratchBase.metadata.create_all)
    yield engine
    await engine.dispose()


async def test_sqlite_connections_are_tuned(sqlite_file_engine: AsyncEngine) -> None:
    async with sqlite_file_engine.connect() as connection:
        pragmas = {
            name: (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000}


async def test_the_default_database_is_a_file_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "nested" / "data")
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert (tmp_path / "nested" / "data" / "rustok.db").exists()


async def test_concurrent_read_modify_write_units_of_work_serialize_on_sqlite(
    sqlite_file_engine: AsyncEngine,
) -> None:
    """Each unit of work reads the count and writes a row named after it. Writers take the lock at BEGIN,
    so they run one after another: every name is distinct and none fails with 'database is locked'."""
    uows = uows_on(sqlite_file_engine)

    async def read_then_write() -> None:
        async with uows(TenantScope.of(TENANT)) as uow:
            seen = (await uow.session.execute(select(func.count(Widget.id)))).scalar_one()
            await asyncio.sleep(0.005)  # let the others run in between, if they could
            uow.session.add(Widget(name=f"after-{seen}"))

    await asyncio.gather(*(read_then_write() for _ in range(10)))

    async with uows(TenantScope.of(TENANT), write=False) as uow:
        names = sorted((await uow.session.scalars(select(Widget.name))).all())
    assert names == sorted(f"after-{n}" for n in range(10))


async def test_readers_are_not_blocked_by_an_open_writer(sqlite_file_engine: AsyncEngine) -> None:
    uows = uows_on(sqlite_file_engine)
    async with uows(TenantScope.of(TENANT)) as writer:
        writer.session.add(Widget(name="uncommitted"))
        await writer.session.flush()

        async with uows(TenantScope.of(TENANT), write=False) as reader:
            visible = (await reader.session.scalars(select(Widget.name))).all()

        assert visible == []  # WAL: the reader sees the last commit, and does not wait for the writer
