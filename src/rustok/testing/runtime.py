"""The real app on a runtime of a test's own, for work that must really commit: races between transactions
on separate connections, a relay delivering what another connection committed. Built through the
composition root (`rustok.bootstrap.open_runtime`, `rustok.api.app.create_app`), as a process builds it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from rustok.api.app import create_app
from rustok.bootstrap import Runtime, open_runtime
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork
from rustok.outbox.registry import ConsumerRegistry
from rustok.testing.http import app_client


@dataclass(frozen=True, slots=True)
class LiveApp:
    """The app, started on its own runtime, and a client on it. Every unit of work of either commits on a
    connection of its own."""

    runtime: Runtime
    app: FastAPI
    client: httpx.AsyncClient

    def uow(self, scope: TenantScope | None, *, write: bool = True) -> UnitOfWork:
        """A unit of work of the runtime (`Runtime.uow`), outside any request."""
        return self.runtime.uow(scope, write=write)

    async def deliver(self) -> int:
        """Run the runtime's relay (its consumers, configured from its settings) until nothing is due; the
        number of events it handled."""
        return await self.runtime.relay().run_until_idle()


@asynccontextmanager
async def live_app(
    settings: Settings, *, consumers: ConsumerRegistry | None = None
) -> AsyncIterator[LiveApp]:
    """Open the runtime for ``settings`` (with ``consumers``, by default every installed module's), start
    the app on it and yield it with a client; stop and close both afterwards. ``settings`` name a database
    that really commits, usually the `isolated_settings` fixture's."""
    async with open_runtime(settings, consumers=consumers) as runtime:
        application = create_app(runtime=runtime, configure_logs=False)
        async with app_client(application) as client:
            yield LiveApp(runtime, application, client)
