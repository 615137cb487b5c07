"""The composition root: the one place the process's world is built.

`open_runtime(settings)` builds a `Runtime` — the engine and its sessions, the outbox writer, the consumer
registry (every installed module's consumers, and the NATS publisher when configured), Redis when
configured, the tenant cache, the media storage (the local directory or S3) — and closes what it built when
the block ends. Everything that runs RusToK gets its world here: the app's lifespan (`rustok.api.app`),
``rustok worker`` and every CLI command (`rustok.cli`), the benches and the test kit. Parts may be handed in
instead of built (an engine, a session factory, a registry, a media storage): that is how the test kit puts
the app on its rolled-back transaction.

Code below this root never constructs a `UnitOfWork` or an engine (a test enforces it): it is given
`Runtime.uow`, a `rustok.core.uow.UnitOfWorkFactory`, or the request's unit of work.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import InitVar, dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from rustok import modules
from rustok.content.media.storage import MediaStorage, build_storage
from rustok.core.db import create_engine, create_sessionmaker
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import SessionFactory, UnitOfWork
from rustok.outbox.registry import ConsumerRegistry
from rustok.outbox.relay import Relay
from rustok.outbox.worker import build_relay
from rustok.outbox.writer import OutboxWriter
from rustok.tenants.cache import TenantCache
from rustok.tenants.service import build_tenant_cache


@dataclass(eq=False, slots=True)
class Runtime:
    """What a RusToK process runs on. Build it with `open_runtime`."""

    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    outbox: OutboxWriter
    consumers: ConsumerRegistry
    redis: Any | None = None  # redis.asyncio.Redis, when RUSTOK_REDIS_URL is set
    media: InitVar[MediaStorage | None] = None  # default: the backend the settings name
    tenant_cache: TenantCache = field(init=False)
    media_storage: MediaStorage = field(init=False)

    def __post_init__(self, media: MediaStorage | None) -> None:
        self.tenant_cache = build_tenant_cache(self.settings, self.uow, self.redis)
        self.media_storage = media if media is not None else build_storage(self.settings)

    def uow(self, scope: TenantScope | None, *, write: bool = True) -> UnitOfWork:
        """A unit of work in ``scope`` (a tenant's, or `TenantScope.all_tenants` for platform work) that
        writes its events to the outbox. ``write=False`` for read-only work (SQLite then takes no write
        lock at BEGIN)."""
        return UnitOfWork(self.sessions, scope, write=write, events=self.outbox)

    def platform(self, *, write: bool = False) -> UnitOfWork:
        """A unit of work across every tenant: operators' commands, the relay's bookkeeping."""
        return self.uow(TenantScope.all_tenants(), write=write)

    def relay(self, *, name: str = "relay") -> Relay:
        """The relay of this runtime's consumers, configured from its settings."""
        return build_relay(
            self.settings, self.consumers, engine=self.engine, uows=self.uow, writer=self.outbox, name=name
        )

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    session_factory: SessionFactory | None = None,
    consumers: ConsumerRegistry | None = None,
    redis: bool = True,
    media_storage: MediaStorage | None = None,
) -> AsyncIterator[Runtime]:
    """Build the runtime for ``settings``; on leaving, dispose of what was built here (not of an engine or
    registry handed in). ``redis=False`` leaves Redis out even when configured (one-shot commands);
    ``media_storage`` replaces the backend the settings name."""
    async with AsyncExitStack() as stack:
        if engine is None:
            engine = create_engine(settings)
            stack.push_async_callback(engine.dispose)
        sessions = session_factory or create_sessionmaker(engine)
        if consumers is None:
            consumers = modules.consumers(settings)
            stack.push_async_callback(consumers.close)
        client = connect_redis(settings.redis_url) if redis and settings.redis_url else None
        if client is not None:
            stack.push_async_callback(client.aclose)
        yield Runtime(settings, engine, sessions, OutboxWriter(), consumers, client, media_storage)


def connect_redis(url: str) -> Any:
    try:
        from redis.asyncio import Redis
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError(
            "RUSTOK_REDIS_URL is set but the redis extra is not installed: pip install 'rustok[redis]'"
        ) from exc
    return Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0, health_check_interval=30)


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """``rustok worker``: run the relay until SIGTERM or SIGINT (or ``stop``), then finish the round in
    progress and exit."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with open_runtime(settings, redis=False) as runtime:
            await runtime.relay(name="worker").run(stop)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
