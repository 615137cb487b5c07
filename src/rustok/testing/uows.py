"""Units of work for tests that stand outside the app: on an engine of their own (a database where every
transaction really commits), with the outbox writer they choose."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from rustok.core.db import create_sessionmaker
from rustok.core.tenancy import TenantScope
from rustok.core.uow import SessionFactory, UnitOfWork, UnitOfWorkFactory
from rustok.outbox.writer import OutboxWriter


def uows_on(source: AsyncEngine | SessionFactory, writer: OutboxWriter | None = None) -> UnitOfWorkFactory:
    """A `UnitOfWorkFactory` on ``source`` (an engine, or a session factory) writing events through
    ``writer`` (a new outbox writer by default), as `rustok.bootstrap.Runtime.uow` does for the app."""
    sessions = create_sessionmaker(source) if isinstance(source, AsyncEngine) else source
    events = writer if writer is not None else OutboxWriter()

    def uow(scope: TenantScope | None, *, write: bool = True) -> UnitOfWork:
        return UnitOfWork(sessions, scope, write=write, events=events)

    return uow
