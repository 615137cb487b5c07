"""Building and running the relay from settings: inside ``rustok serve`` on the embedded default, or as
``rustok worker`` (the production shape, several of them against PostgreSQL)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from rustok.core.db import create_engine, create_sessionmaker
from rustok.core.logging import get_logger
from rustok.core.settings import Settings
from rustok.core.uow import SessionFactory
from rustok.outbox.registry import ConsumerRegistry
from rustok.outbox.relay import Relay, RelayConfig
from rustok.outbox.writer import OutboxWriter

log = get_logger("rustok.worker")


def relay_config(settings: Settings) -> RelayConfig:
    return RelayConfig(
        batch_size=settings.relay_batch_size,
        max_attempts=settings.relay_max_attempts,
        retry_base_seconds=settings.relay_retry_base_seconds,
        retry_max_seconds=settings.relay_retry_max_seconds,
        poll_seconds=settings.relay_poll_seconds,
    )


def relay_lock_path(settings: Settings) -> Path | None:
    """The file that lets one relay at a time run on a SQLite database file (None for other backends)."""
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.database.startswith("file:"):
        return None
    return Path(url.database).with_name(Path(url.database).name + ".relay.lock")


def build_relay(
    settings: Settings,
    registry: ConsumerRegistry,
    *,
    engine: AsyncEngine,
    session_factory: SessionFactory,
    writer: OutboxWriter,
    name: str = "relay",
) -> Relay:
    return Relay(
        session_factory,
        registry,
        writer=writer,
        config=relay_config(settings),
        engine=engine,
        lock_path=relay_lock_path(settings),
        name=name,
    )


async def run_worker(
    settings: Settings, registry: ConsumerRegistry, stop: asyncio.Event | None = None
) -> None:
    """Run the relay until SIGTERM or SIGINT (or ``stop``), then finish the round in progress and exit."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    engine = create_engine(settings)
    try:
        relay = build_relay(
            settings,
            registry,
            engine=engine,
            session_factory=create_sessionmaker(engine),
            writer=OutboxWriter(),
            name="worker",
        )
        await relay.run(stop)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await engine.dispose()
