"""Races that happen every time: concurrent requests lined up at their commit before any of them commits.

On PostgreSQL, transactions overlap (READ COMMITTED), but whether two requests really race depends on luck.
`at_once` takes the luck out: it holds the tenant's outbox lock (the advisory lock the ``sys_events``
trigger takes just before a writer commits, see migration 0002), so every request does its reads and
writes and then waits, on that lock or on a row lock another request holds, until all of them are waiting
on a lock; then it lets them go. Every request has thus read the data before any other committed.

On SQLite a writing unit of work takes the write lock up front (``BEGIN IMMEDIATE``), so writers queue and
no barrier is needed (or possible): the requests are simply run concurrently.

The requests must run on connections of their own (an app on a database whose transactions really commit,
such as one on `isolated_database_url`), not inside the test's one rolled-back transaction.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")

OUTBOX_LOCK_CLASS = 7201  # pg_advisory_xact_lock(7201, hashtext(tenant_id::text)) in migration 0002
LINE_UP_TIMEOUT = 60.0  # seconds for every request to reach the barrier; a guard, not a measurement


async def at_once(
    engine: AsyncEngine,
    tenant_id: uuid.UUID,
    requests: Sequence[Awaitable[T]],
    *,
    line_up_seconds: float = LINE_UP_TIMEOUT,
) -> list[T]:
    """Run ``requests`` (writes of the tenant ``tenant_id``) concurrently and return their results in
    order. On PostgreSQL, hold them all at their commit until each one waits on a lock, then let them go;
    the barrier's connection comes from ``engine`` (the app's, so its pool must hold one more connection
    than there are requests). Fails the test when they do not all line up within ``line_up_seconds``."""
    if engine.dialect.name != "postgresql":
        return list(await asyncio.gather(*requests))
    lined_up = False
    async with engine.connect() as connection:
        transaction = await connection.begin()
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:lock_class, hashtext(:tenant))"),
            {"lock_class": OUTBOX_LOCK_CLASS, "tenant": str(tenant_id)},
        )
        running = asyncio.gather(*requests)
        try:
            async with asyncio.timeout(line_up_seconds):
                while True:  # polled: PostgreSQL does not announce that a session started waiting
                    if await waiting_on_locks(connection) >= len(requests):
                        break
                    await asyncio.sleep(0.02)
            lined_up = True
        except TimeoutError:
            pass
        finally:
            await transaction.rollback()  # releases the lock
    results = list(await running)
    assert lined_up, f"the requests did not all reach the barrier within {line_up_seconds} s: {results}"
    return results


async def waiting_on_locks(connection: AsyncConnection) -> int:
    """How many other sessions on this PostgreSQL database are waiting on a lock."""
    await connection.execute(text("SELECT pg_stat_clear_snapshot()"))  # the view is cached per transaction
    found = await connection.execute(
        text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
    )
    return int(found.scalar_one())
