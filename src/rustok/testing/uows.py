"""Units of work for tests that stand outside the app: on an engine of their own (a database where every
transaction really commits), with the outbox writer they choose; and, for unit tests, one with no database."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

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


def uow_without_database(scope: TenantScope | None, *, write: bool = True) -> UnitOfWork:
    """A unit of work in ``scope`` that has no database, for unit tests (no I/O) of code that reads only
    a unit of work's scope, such as the request context's checks. Entering it fails the test."""

    def no_database() -> AsyncSession:
        raise AssertionError(
            "a unit of work without a database (rustok.testing.uow_without_database) was entered"
        )

    return UnitOfWork(no_database, scope, write=write)
