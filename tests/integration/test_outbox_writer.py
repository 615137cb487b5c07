"""The only publish path: events recorded on a unit of work are written to ``sys_events`` in the same
transaction as the change, or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.content.events import NodeCreated, NodeDeleted
from rustok.core.context import request_id_var
from rustok.core.events import event_origin
from rustok.core.tenancy import TenantScope, TenantScopeError
from rustok.core.uow import UnitOfWork
from rustok.outbox.models import SysEvent
from rustok.testing import EventRecorder, FrozenClock
from tests.integration.scratch import Widget

pytestmark = pytest.mark.usefixtures("scratch_tables")

MakeUoW = Callable[..., UnitOfWork]
TENANT = uuid.UUID("01900000-0000-7000-8000-00000000000a")
OTHER = uuid.UUID("01900000-0000-7000-8000-00000000000b")


class Boom(Exception):
    pass


async def create_widget(uow: UnitOfWork, name: str) -> Widget:
    """A stand-in service: one change and its event, recorded on the unit of work."""
    widget = Widget(name=name)
    uow.session.add(widget)
    await uow.session.flush()
    uow.record(NodeCreated(node_id=widget.id, kind="widget"))
    return widget


async def test_a_committed_change_has_exactly_its_events(
    make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    async with event_recorder.watch() as events, make_uow(TenantScope.of(TENANT)) as uow:
        widget = await create_widget(uow, "a")
        uow.record(NodeDeleted(node_id=widget.id, kind="widget"))

    assert events.types == ["node.created", "node.deleted"]
    assert [e.payload.node_id for e in events] == [widget.id, widget.id]
    assert {e.tenant_id for e in events} == {TENANT}
    positions = [e.position for e in events if e.position is not None]
    assert len(positions) == 2
    assert positions == sorted(positions)


async def test_a_rolled_back_change_leaves_no_event(make_uow: MakeUoW, event_recorder: EventRecorder) -> None:
    async with event_recorder.watch() as events:
        with pytest.raises(Boom):
            async with make_uow(TenantScope.of(TENANT)) as uow:
                await create_widget(uow, "doomed")
                raise Boom

    assert list(events) == []
    async with make_uow(TenantScope.of(TENANT), write=False) as uow:
        assert await uow.session.scalar(select(func.count(Widget.id))) == 0
        assert await uow.session.scalar(select(func.count(SysEvent.position))) == 0


async def test_a_failed_commit_writes_neither_the_change_nor_its_event(
    make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a hook that fails inside the commit, then the change and its event are both gone."""

    async def fail(_: UnitOfWork) -> None:
        raise Boom

    async with event_recorder.watch() as events:
        with pytest.raises(Boom):
            async with make_uow(TenantScope.of(TENANT)) as uow:
                await create_widget(uow, "doomed")
                uow.before_commit(fail)

    assert list(events) == []


async def test_events_are_refused_without_an_outbox(
    session_factory: Callable[[], AsyncSession], event_recorder: EventRecorder
) -> None:
    """A unit of work with no event sink cannot drop its events silently: it refuses to commit."""
    async with event_recorder.watch() as events:
        with pytest.raises(RuntimeError, match="no event sink"):
            async with UnitOfWork(session_factory, TenantScope.of(TENANT)) as uow:
                await create_widget(uow, "orphan")

    assert list(events) == []


async def test_an_event_belongs_to_the_units_tenant(make_uow: MakeUoW) -> None:
    async with make_uow(TenantScope.of(TENANT)) as uow:
        with pytest.raises(TenantScopeError):
            uow.record(NodeCreated(node_id=uuid.uuid4(), kind="post"), tenant_id=OTHER)


async def test_platform_work_names_the_tenant_an_event_concerns(
    make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    async with event_recorder.watch() as events, make_uow(TenantScope.all_tenants()) as uow:
        with pytest.raises(TenantScopeError):
            uow.record(NodeCreated(node_id=uuid.uuid4(), kind="post"))
        uow.record(NodeCreated(node_id=uuid.uuid4(), kind="post"), tenant_id=OTHER)
        uow.record(NodeCreated(node_id=uuid.uuid4(), kind="post"), tenant_id=TENANT)

    assert sorted(e.tenant_id for e in events) == sorted([OTHER, TENANT])


async def test_the_envelope_carries_the_request_and_the_actor(
    make_uow: MakeUoW, event_recorder: EventRecorder, frozen_clock: FrozenClock
) -> None:
    """Given a request id that is a UUID and an acting user, then the events of that request carry the
    request as their correlation, the actor, no cause, and the clock's time."""
    request_id = uuid.uuid4()
    actor = uuid.uuid4()
    token = request_id_var.set(str(request_id))
    try:
        async with event_recorder.watch() as events:
            with event_origin(actor_id=actor):
                async with make_uow(TenantScope.of(TENANT)) as uow:
                    await create_widget(uow, "a")
                    await create_widget(uow, "b")
    finally:
        request_id_var.reset(token)

    assert [e.correlation_id for e in events] == [request_id, request_id]
    assert [e.actor_id for e in events] == [actor, actor]
    assert [e.causation_id for e in events] == [None, None]
    assert [e.occurred_at for e in events] == [frozen_clock.current, frozen_clock.current]
    assert events[0].id != events[1].id
    assert [e.schema_version for e in events] == [1, 1]


async def test_a_request_id_that_is_not_a_uuid_still_correlates_its_events(
    make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    token = request_id_var.set("edge-proxy:abc123")
    try:
        async with event_recorder.watch() as events, make_uow(TenantScope.of(TENANT)) as uow:
            await create_widget(uow, "a")
            await create_widget(uow, "b")
    finally:
        request_id_var.reset(token)

    assert events[0].correlation_id == events[1].correlation_id


async def test_without_a_request_an_event_starts_its_own_chain(
    make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    async with event_recorder.watch() as events, make_uow(TenantScope.of(TENANT)) as uow:
        await create_widget(uow, "a")

    only = events.one("node.created")
    assert only.correlation_id == only.id
    assert only.actor_id is None


async def test_each_tenants_positions_follow_its_commits(
    make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    async with event_recorder.watch() as events:
        for round_ in range(3):
            for tenant in (TENANT, OTHER):
                async with make_uow(TenantScope.of(tenant)) as uow:
                    await create_widget(uow, f"{tenant}-{round_}")

    for tenant in (TENANT, OTHER):
        mine = [e for e in events if e.tenant_id == tenant]
        assert len(mine) == 3
        positions = [e.position for e in mine if e.position is not None]
        assert len(positions) == 3
        assert positions == sorted(positions)
