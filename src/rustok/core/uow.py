"""The unit of work: the one place a transaction begins and ends.

A request (or a job) opens one; services receive its session, add and flush, and never commit. Leaving
the block commits when it ended normally and rolls back when it raised. The session refuses a commit from
anywhere else, so a service cannot end the transaction early and split one change into two.

Hooks let other parts join the transaction without the services knowing: ``before_commit`` callbacks run
inside it (the outbox writes recorded events there), ``after_commit`` callbacks run once it is durable
(waking the relay, say).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from rustok.core.db import SQLITE_BEGIN_OPTION
from rustok.core.tenancy import TenantScope, bind_scope

SessionFactory = Callable[[], AsyncSession]
Hook = Callable[["UnitOfWork"], Awaitable[None]]

_OWNED = "rustok.uow_owned"
_COMMITTING = "rustok.uow_committing"


class CommitOutsideUnitOfWork(RuntimeError):
    """A service called commit(); only the unit of work ends a transaction."""


@event.listens_for(Session, "before_commit")
def _only_the_unit_of_work_commits(session: Session) -> None:
    if session.info.get(_OWNED) and not session.info.get(_COMMITTING):
        raise CommitOutsideUnitOfWork("services flush; the unit of work commits")


class UnitOfWork:
    def __init__(
        self,
        session_factory: SessionFactory,
        scope: TenantScope | None = None,
        *,
        write: bool = True,
    ) -> None:
        self._session_factory = session_factory
        self.scope = scope
        self.write = write
        self._session: AsyncSession | None = None
        self._before_commit: list[Hook] = []
        self._after_commit: list[Hook] = []
        self.committed = False

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work has not been entered")
        return self._session

    async def __aenter__(self) -> Self:
        session = self._session_factory()
        session.info[_OWNED] = True
        bind_scope(session, self.scope)
        self._session = session
        if self.write and session.bind is not None and session.bind.dialect.name == "sqlite":
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
            await self.session.close()

    def before_commit(self, hook: Hook) -> None:
        self._before_commit.append(hook)

    def after_commit(self, hook: Hook) -> None:
        self._after_commit.append(hook)

    async def commit(self) -> None:
        session = self.session
        for hook in self._before_commit:
            await hook(self)
        session.info[_COMMITTING] = True
        try:
            await session.commit()
        finally:
            session.info[_COMMITTING] = False
        self.committed = True
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            await hook(self)

    async def rollback(self) -> None:
        await self.session.rollback()
