"""Alembic's environment: runs on a connection handed in by `rustok.migrations`, or opens its own from
the settings when Alembic's own command line is used (``alembic revision --autogenerate``)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from rustok.core.db import create_engine
from rustok.core.settings import get_settings
from rustok.migrations import context_options


def run_on(connection: Connection) -> None:
    context.configure(connection=connection, **context_options(connection))
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine() -> None:
    engine = create_engine(get_settings())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    run_on(given)
elif context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
else:
    asyncio.run(run_with_own_engine())
