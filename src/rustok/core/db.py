"""Async SQLAlchemy engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg), from one URL.

SQLite is tuned for a server: WAL (readers do not block the writer), foreign keys on, a busy timeout,
and SQLAlchemy, not the sqlite3 driver, emits BEGIN, so SAVEPOINTs and transactional DDL work. A unit of
work that writes asks for ``BEGIN IMMEDIATE``: it takes the write lock up front, so two writers queue
on the busy timeout instead of failing half-way when one tries to upgrade a read lock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from rustok.core.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Reads through a memory map of the database file (up to this many bytes) instead of a read() per page,
# and a page cache of this many KiB per connection (SQLite's default is 2 MiB): full-text searches touch
# many pages of a large index, and these halve their time (docs/search.md).
SQLITE_MMAP_BYTES = 1024**3
SQLITE_CACHE_KIB = 32 * 1024
# Execution option read by the BEGIN hook: "IMMEDIATE" for writers, "DEFERRED" (the default) for readers.
SQLITE_BEGIN_OPTION = "rustok_sqlite_begin"


def create_engine(settings: Settings, **overrides: Any) -> AsyncEngine:
    """The engine for `settings.sqlalchemy_url`; creates the SQLite file's directory when needed."""
    url = make_url(settings.sqlalchemy_url)
    options: dict[str, Any] = {"echo": settings.database_echo}
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        else:
            options["poolclass"] = StaticPool
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        options.update(overrides)
        engine = create_async_engine(url, **options)
        _install_sqlite_hooks(engine)
        return engine
    if url.get_backend_name() == "postgresql":
        options.update(
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_size,
            pool_pre_ping=True,
            connect_args={"server_settings": {"application_name": "rustok"}},
        )
    options.update(overrides)
    return create_async_engine(url, **options)


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver's own implicit BEGIN handling; the "begin" hook below does it right.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE"):
            raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")


async def ping(engine: AsyncEngine) -> None:
    """Check that the database answers (``SELECT 1`` on a connection of its own); raises what the driver
    raises when it does not."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after the unit of work commits, to shape the answer.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
