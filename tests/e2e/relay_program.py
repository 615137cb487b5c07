"""A program the relay's process tests run as a subprocess (``python relay_program.py COMMAND``), so that a
process can really die, with SIGKILL, at a chosen point. It is configured as rustok is, by ``RUSTOK_*``
environment variables (``RUSTOK_DATABASE_URL``), and logs one JSON line per result on stdout.

Commands:

- ``emit TENANTS PER_TENANT [--die-after-commit]``: commits ``PER_TENANT`` ``node.created`` events for each
  of ``TENANTS`` new tenants, one unit of work per tenant, and logs ``committed`` with their ids after each
  commit. With ``--die-after-commit`` the process kills itself (SIGKILL) once the last one has committed.
- ``relay``: runs the real relay (`rustok.bootstrap.Runtime.relay`, as ``rustok worker`` builds it) with the
  `apply_effect` consumer until nothing is due, then logs ``relayed`` with the number of events handled. With
  ``RELAY_PROGRAM_DIE_AFTER_EFFECT=1`` in the environment the consumer kills the process once its first
  unit of work has committed: after the effect, before the relay has recorded the outcome.

Each command builds its world through the composition root (`rustok.bootstrap.open_runtime`), as rustok does.
The tests import this module for the consumer and its effect table; it imports nothing from ``tests``, so
it also runs as a plain script.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from rustok.bootstrap import open_runtime
from rustok.content.events import NodeCreated
from rustok.core.events import Envelope
from rustok.core.logging import configure_logging, get_logger
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork
from rustok.outbox.registry import ConsumerRegistry, consumer

CONSUMER = "test.effects"
EFFECTS_TABLE = "test_effects"
DIE_AFTER_EFFECT = "RELAY_PROGRAM_DIE_AFTER_EFFECT"

log = get_logger("relay_program")


def effects_table_ddl(dialect: str) -> str:
    """The consumer's effect table: one row per application of an event (no unique key, so a second
    application shows), with ``seq`` numbering the rows in the order they were inserted."""
    seq = (
        "INTEGER PRIMARY KEY AUTOINCREMENT"
        if dialect == "sqlite"
        else "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    )
    return (
        f"CREATE TABLE IF NOT EXISTS {EFFECTS_TABLE} ("
        f"seq {seq}, "
        "consumer VARCHAR(100) NOT NULL, "
        "event_id VARCHAR(36) NOT NULL, "
        "tenant_id VARCHAR(36) NOT NULL, "
        "event_position BIGINT NOT NULL)"
    )


async def create_effects_table(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(effects_table_ddl(engine.dialect.name)))


async def _die(_: UnitOfWork) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@consumer(CONSUMER, NodeCreated.event_type)
async def apply_effect(event: Envelope[Any], uow: UnitOfWork) -> None:
    """Writes one effect row in the relay's unit of work (the transaction that records the event as
    processed)."""
    await uow.session.execute(
        text(
            f"INSERT INTO {EFFECTS_TABLE} (consumer, event_id, tenant_id, event_position) "  # noqa: S608
            "VALUES (:consumer, :event_id, :tenant_id, :position)"
        ),
        {
            "consumer": CONSUMER,
            "event_id": str(event.id),
            "tenant_id": str(event.tenant_id),
            "position": event.position,
        },
    )
    if os.environ.get(DIE_AFTER_EFFECT) == "1":
        uow.after_commit(_die)


def registry() -> ConsumerRegistry:
    return ConsumerRegistry([apply_effect])


async def emit(tenants: int, per_tenant: int, *, die_after_commit: bool) -> None:
    async def report(uow: UnitOfWork) -> None:
        log.info(
            "committed",
            tenant_id=str(uow.scope.tenant_id if uow.scope else None),
            event_ids=[str(e.id) for e in uow.events],
        )

    async with open_runtime(Settings(), consumers=ConsumerRegistry(), redis=False) as runtime:
        for index in range(tenants):
            async with runtime.uow(TenantScope.of(uuid.uuid4())) as uow:
                for _ in range(per_tenant):
                    uow.record(NodeCreated(node_id=uuid.uuid4(), kind="post"))
                uow.after_commit(report)
                if die_after_commit and index == tenants - 1:
                    uow.after_commit(_die)


async def relay() -> None:
    async with open_runtime(Settings(), consumers=registry(), redis=False) as runtime:
        handled = await runtime.relay().run_until_idle()
    log.info("relayed", handled=handled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    emit_parser = commands.add_parser("emit")
    emit_parser.add_argument("tenants", type=int)
    emit_parser.add_argument("per_tenant", type=int)
    emit_parser.add_argument("--die-after-commit", action="store_true")
    commands.add_parser("relay")
    args = parser.parse_args()
    configure_logging("json")
    if args.command == "emit":
        asyncio.run(emit(args.tenants, args.per_tenant, die_after_commit=args.die_after_commit))
    else:
        asyncio.run(relay())


if __name__ == "__main__":
    main()
