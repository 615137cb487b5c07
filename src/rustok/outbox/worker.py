"""Building the relay from settings, for the composition root (`rustok.bootstrap.Runtime.relay`): it runs
inside ``rustok serve`` on the embedded default, or as ``rustok worker`` (the production shape, several of
them against PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from rustok.core.settings import Settings
from rustok.core.uow import UnitOfWorkFactory
from rustok.outbox.registry import ConsumerRegistry
from rustok.outbox.relay import Relay, RelayConfig
from rustok.outbox.writer import OutboxWriter


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
    uows: UnitOfWorkFactory,
    writer: OutboxWriter,
    name: str = "relay",
) -> Relay:
    return Relay(
        uows,
        registry,
        writer=writer,
        config=relay_config(settings),
        engine=engine,
        lock_path=relay_lock_path(settings),
        name=name,
    )
