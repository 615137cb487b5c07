"""The unit of work owns the transaction: it commits on success, rolls back on error, and nothing else
may commit."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.core.tenancy import TenantScope, bind_scope
from rustok.core.uow import CommitOutsideUnitOfWork, TransactionWork, UnitOfWork
from tests.integration.scratch import Widget

pytestmark = pytest.mark.usefixtures("scratch_tables")
TENANT = uuid.UUID("01900000-0000-7000-8000-000000000001")


async def _count(session: AsyncSession) -> int:
    bind_scope(session, TenantScope.all_tenants())
    return int((await session.execute(select(func.count(Widget.id)))).scalar_one())


async def test_a_block_that_ends_normally_commits(
    make_uow: Callable[..., UnitOfWork], db_session: AsyncSession
) -> None:
    async with make_uow(TenantScope.of(TENANT)) as uow:
        uow.session.add(Widget(name="kept"))
        await uow.session.flush()

    assert uow.committed
    assert await _count(db_session) == 1


async def test_a_block_that_raises_rolls_back_everything(
    make_uow: Callable[..., UnitOfWork], db_session: AsyncSession
) -> None:
    with pytest.raises(LookupError):
        async with make_uow(TenantScope.of(TENANT)) as uow:
            uow.session.add(Widget(name="lost"))
            await uow.session.flush()
            raise LookupError("the service failed after flushing")

    assert not uow.committed
    assert await _count(db_session) == 0


async def test_a_service_cannot_commit_on_its_own(make_uow: Callable[..., UnitOfWork]) -> None:
    with pytest.raises(CommitOutsideUnitOfWork):
        async with make_uow(TenantScope.of(TENANT)) as uow:
            uow.session.add(Widget(name="early"))
            await uow.session.commit()


async def test_hooks_run_inside_and_after_the_transaction(
    make_uow: Callable[..., UnitOfWork], db_session: AsyncSession
) -> None:
    seen: list[str] = []

    async def inside(uow: UnitOfWork) -> None:
        # Still in the transaction: what the hook writes commits with the change.
        uow.session.add(Widget(name="written by the hook"))
        await uow.session.flush()
        seen.append("before")

    async def after(uow: UnitOfWork) -> None:
        seen.append(f"after committed={uow.committed}")

    async with make_uow(TenantScope.of(TENANT)) as uow:
        uow.before_commit(inside)
        uow.after_commit(after)
        uow.session.add(Widget(name="the change"))

    assert seen == ["before", "after committed=True"]
    assert await _count(db_session) == 2


async def test_after_commit_hooks_do_not_run_on_rollback(make_uow: Callable[..., UnitOfWork]) -> None:
    seen: list[str] = []

    async def after(_: UnitOfWork) -> None:
        seen.append("after")

    with pytest.raises(RuntimeError):
        async with make_uow(TenantScope.of(TENANT)) as uow:
            uow.after_commit(after)
            raise RuntimeError("boom")

    assert seen == []


class Collected(TransactionWork):
    """Names collected over a unit of work, written down once just before it commits."""

    def __init__(self, uow: UnitOfWork) -> None:
        super().__init__(uow)
        self.names: list[str] = []
        self.flushed: list[list[str]] = []
        uow.before_commit(self.flush)

    async def flush(self, _: UnitOfWork) -> None:
        self.flushed.append(list(self.names))


async def test_collected_work_is_one_per_unit_of_work_and_done_once_at_its_end(
    make_uow: Callable[..., UnitOfWork],
) -> None:
    async with make_uow(TenantScope.of(uuid.uuid4())) as uow:
        uow.work(Collected).names.append("first")
        uow.work(Collected).names.append("second")
        work = uow.work(Collected)
        assert work.flushed == []
    async with make_uow(TenantScope.of(uuid.uuid4())) as other:
        assert other.work(Collected) is not work

    assert work.names == ["first", "second"]
    assert work.flushed == [["first", "second"]]
