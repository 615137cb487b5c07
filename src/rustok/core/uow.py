"""The unit of work: the one place a transaction begins and ends.

A request (or a job) opens one; services receive its session, add and flush, and never commit. Leaving
the block commits when it ended normally and rolls back when it raised. The session refuses a commit from
anywhere else, so a service cannot end the transaction early and split one change into two.

Services announce their changes with `record(event)`. The recorded events are handed to the unit of work's
`EventSink` (the outbox) just before the commit, after a final flush, so they are written in the same
transaction as the change: a rollback leaves neither. This is the only way an event is published. A unit of
work that has recorded events but was given no sink refuses to commit rather than drop them.

Hooks let other parts join the transaction without the services knowing: ``before_commit`` callbacks run
inside it, ``after_commit`` callbacks run once it is durable. Work collected over the transaction (the index
rebuilds each document its events touched once, at the end) is a typed `TransactionWork` the unit of work
keeps one of per kind (``uow.work(Kind)``), not a key in the session's ``info``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from rustok.core.db import SQLITE_BEGIN_OPTION
from rustok.core.events import DomainEvent, Envelope, EventSink
from rustok.core.tenancy import TenantScope, TenantScopeError, bind_scope

SessionFactory = Callable[[], AsyncSession]
Hook = Callable[["UnitOfWork"], Awaitable[None]]
E = TypeVar("E", bound=DomainEvent)
W = TypeVar("W", bound="TransactionWork")

_OWNED = "rustok.uow_owned"
_COMMITTING = "rustok.uow_committing"


class UnitOfWorkFactory(Protocol):
    """Where code below the composition root gets its units of work: `rustok.bootstrap.Runtime.uow` (or
    the test kit's ``make_uow``). Nothing else constructs a `UnitOfWork`."""

    def __call__(self, scope: TenantScope | None, *, write: bool = True) -> UnitOfWork: ...


class TransactionWork:
    """Work a participant collects over one unit of work and does at its end (``UnitOfWork.work``): the
    instance is made on first ask, with the unit of work, and registers its own hooks there."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow


class CommitOutsideUnitOfWork(RuntimeError):
    """A service called commit(); only the unit of work ends a transaction."""


@event.listens_for(Session, "before_commit")
def _only_the_unit_of_work_commits(session: Session) -> None:
    # Releasing a SAVEPOINT (``begin_nested``) is a service's business; ending the transaction is not.
    if session.info.get(_OWNED) and not session.info.get(_COMMITTING) and not session.in_nested_transaction():
        raise CommitOutsideUnitOfWork("services flush; the unit of work commits")


class UnitOfWork:
    def __init__(
        self,
        session_factory: SessionFactory,
        scope: TenantScope | None = None,
        *,
        write: bool = True,
        events: EventSink | None = None,
    ) -> None:
        self._session_factory = session_factory
        self.scope = scope
        self.write = write
        self._sink = events
        self._events: list[Envelope[Any]] = []
        self._session: AsyncSession | None = None
        self._entered = False
        self._before_commit: list[Hook] = []
        self._after_commit: list[Hook] = []
        self._work: dict[type[TransactionWork], TransactionWork] = {}
        self.committed = False

    def sibling(self, scope: TenantScope | None, *, write: bool = True) -> UnitOfWork:
        """A new unit of work on the same database and event sink, in ``scope``: for work an after-commit
        hook does in a transaction of its own."""
        return UnitOfWork(self._session_factory, scope, write=write, events=self._sink)

    @property
    def session(self) -> AsyncSession:
        """The unit of work's session. A reading unit of work makes it on first use, so a request that
        never touches the database (an anonymous caller of a route that reads nothing) costs no session."""
        if not self._entered:
            raise RuntimeError("the unit of work has not been entered")
        if self._session is None:
            session = self._session_factory()
            session.info[_OWNED] = True
            bind_scope(session, self.scope)
            self._session = session
        return self._session

    async def __aenter__(self) -> Self:
        self._entered = True
        if self.write:
            session = self.session
            if session.bind is not None and session.bind.dialect.name == "sqlite":
                # Take SQLite's write lock at BEGIN (see rustok.core.db); a reader keeps a deferred BEGIN.
                await session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                await self.commit()
            else:
                await self.rollback()
        finally:
            self._entered = False  # a unit of work is used once: no session of a new transaction after it
            if self._session is not None:
                await self._session.close()

    @property
    def events(self) -> Sequence[Envelope[Any]]:
        """The events recorded so far, in order."""
        return tuple(self._events)

    def record(self, event: E, *, tenant_id: uuid.UUID | None = None) -> Envelope[E]:
        """Announce a change made in this unit of work. The event is written with the change, or not at all.

        It belongs to the scope's tenant; platform work (an all-tenants scope) names the tenant the event
        concerns with ``tenant_id``."""
        scope = self.scope
        if scope is not None and not scope.platform:
            if tenant_id is not None and tenant_id != scope.tenant_id:
                raise TenantScopeError("an event of another tenant recorded in a tenant's unit of work")
            tenant_id = scope.tenant_id
        if tenant_id is None:
            raise TenantScopeError(f"{event.event_type} recorded without a tenant")
        envelope = Envelope.new(event, tenant_id)
        self._events.append(envelope)
        return envelope

    def widen_to_platform(self) -> None:
        """Read and write across tenants from now on: for a request of a platform operator, once their
        permission is checked. Refused after an event was recorded (it belongs to the scope it was
        recorded in)."""
        if self._events:
            raise TenantScopeError("a unit of work cannot change its scope after recording events")
        self.scope = TenantScope.all_tenants()
        if self._session is not None:
            bind_scope(self._session, self.scope)

    def work(self, kind: type[W]) -> W:
        """This unit of work's one ``kind`` of collected work (made now, on the first ask): typed state
        that several event handlers of one transaction add to, done once before or after the commit."""
        found = self._work.get(kind)
        if found is None:
            found = self._work[kind] = kind(self)
        assert isinstance(found, kind)
        return found

    def before_commit(self, hook: Hook) -> None:
        self._before_commit.append(hook)

    def after_commit(self, hook: Hook) -> None:
        self._after_commit.append(hook)

    async def commit(self) -> None:
        if self._session is None and not self._before_commit and not self._events:
            await self._committed_nothing()  # no session was ever needed: nothing to commit
            return
        session = self.session
        for hook in self._before_commit:
            await hook(self)
        events = self._events
        if events:
            if self._sink is None:
                raise RuntimeError(
                    f"{len(events)} event(s) recorded in a unit of work with no event sink; "
                    "refusing to commit the change without them"
                )
            await session.flush()  # the change's own statements first, so the events follow them
            await self._sink.write(session, events)
        session.info[_COMMITTING] = True
        try:
            await session.commit()
        finally:
            session.info[_COMMITTING] = False
        self.committed = True
        if events:
            assert self._sink is not None
            self._sink.committed(events)
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            await hook(self)

    async def _committed_nothing(self) -> None:
        self.committed = True
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            await hook(self)

    async def rollback(self) -> None:
        self._events.clear()
        if self._session is not None:
            await self._session.rollback()
