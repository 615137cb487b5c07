"""The relay, driven for real inside the test's transaction: delivery to every consumer, idempotency,
retries with backoff, dead letters, hold-back of a failing consumer's later events, upcasting on read,
replay, and the chain of causes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.content.events import NodeCreated, NodePublished
from rustok.core.events import Catalog, DomainEvent, Envelope
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork
from rustok.outbox import service
from rustok.outbox.models import DeliveryStatus, EventDelivery, EventStatus, SysEvent
from rustok.outbox.registry import ConsumerRegistry, consumer
from rustok.outbox.relay import Relay, RelayConfig, ReplayFailed
from rustok.outbox.writer import event_row
from rustok.testing import EventRecorder, FrozenClock, settle
from tests.integration.scratch import Effect

pytestmark = pytest.mark.usefixtures("scratch_tables")

MakeUoW = Callable[..., UnitOfWork]
MakeRelay = Callable[..., Relay]
T1 = uuid.UUID("01900000-0000-7000-8000-0000000000a1")
T2 = uuid.UUID("01900000-0000-7000-8000-0000000000a2")
FAST_RETRIES = RelayConfig(max_attempts=3, retry_base_seconds=1.0, retry_max_seconds=60.0)


class Flaky:
    """A consumer's behaviour: it fails for the node ids in ``failing`` (``times`` times each, or always)."""

    def __init__(self) -> None:
        self.failing: dict[uuid.UUID, int | None] = {}
        self.calls: list[uuid.UUID] = []

    def fail(self, node_id: uuid.UUID, times: int | None = None) -> None:
        self.failing[node_id] = times

    def check(self, node_id: uuid.UUID) -> None:
        self.calls.append(node_id)
        if node_id in self.failing:
            left = self.failing[node_id]
            if left is None or left > 0:
                if left is not None:
                    self.failing[node_id] = left - 1
                raise RuntimeError(f"cannot handle {node_id}")


def effect_consumer(name: str, flaky: Flaky | None = None, *types: str) -> Any:
    types = types or ("node.created",)

    @consumer(name, *types)
    async def handle(event: Envelope[Any], uow: UnitOfWork) -> None:
        if flaky is not None:
            flaky.check(event.payload.node_id)
        uow.session.add(Effect(consumer=name, event_id=event.id, event_type=event.event_type))
        await uow.session.flush()

    return handle


async def emit(make_uow: MakeUoW, tenant: uuid.UUID, count: int = 1) -> list[uuid.UUID]:
    """Commit ``count`` node.created events for ``tenant``, one unit of work each; their node ids."""
    ids = []
    for _ in range(count):
        node_id = uuid.uuid4()
        async with make_uow(TenantScope.of(tenant)) as uow:
            uow.record(NodeCreated(node_id=node_id, kind="post"))
        ids.append(node_id)
    return ids


async def effects(db_session: AsyncSession, name: str) -> list[uuid.UUID]:
    """The event ids ``name`` applied, in the order it applied them."""
    from rustok.core.tenancy import bind_scope

    bind_scope(db_session, TenantScope.all_tenants())
    rows = await db_session.execute(
        select(Effect.event_id).where(Effect.consumer == name).order_by(Effect.id)
    )
    return list(rows.scalars())


async def event_ids(db_session: AsyncSession, tenant: uuid.UUID | None = None) -> list[uuid.UUID]:
    from rustok.core.tenancy import bind_scope

    bind_scope(db_session, TenantScope.all_tenants())
    statement = select(SysEvent.id).order_by(SysEvent.position)
    if tenant is not None:
        statement = statement.where(SysEvent.tenant_id == tenant)
    return list((await db_session.execute(statement)).scalars())


async def statuses(db_session: AsyncSession) -> dict[uuid.UUID, str]:
    from rustok.core.tenancy import bind_scope

    bind_scope(db_session, TenantScope.all_tenants())
    rows = await db_session.execute(select(SysEvent.id, SysEvent.status))
    return dict(rows.all())


# ---------------------------------------------------------------------------------------------- delivery


async def test_every_consumer_receives_every_event_once_in_commit_order(
    make_uow: MakeUoW, make_relay: MakeRelay, db_session: AsyncSession
) -> None:
    registry = ConsumerRegistry([effect_consumer("test.first"), effect_consumer("test.second")])
    await emit(make_uow, T1, 3)
    await emit(make_uow, T2, 2)
    await emit(make_uow, T1, 1)

    handled = await make_relay(registry).run_until_idle()

    assert handled == 6
    for tenant in (T1, T2):
        theirs = await event_ids(db_session, tenant)
        for name in ("test.first", "test.second"):
            applied = await effects(db_session, name)
            assert [e for e in applied if e in theirs] == theirs, f"{name}: {tenant}'s commit order"
    assert sorted(await effects(db_session, "test.first")) == sorted(await event_ids(db_session))
    assert set((await statuses(db_session)).values()) == {EventStatus.DISPATCHED}


async def test_an_event_nobody_consumes_is_dispatched(
    make_uow: MakeUoW, make_relay: MakeRelay, db_session: AsyncSession
) -> None:
    registry = ConsumerRegistry([effect_consumer("test.published", None, "node.published")])
    await emit(make_uow, T1)

    await make_relay(registry).run_until_idle()

    assert list((await statuses(db_session)).values()) == [EventStatus.DISPATCHED]
    assert await effects(db_session, "test.published") == []


async def test_a_redelivered_event_has_no_second_effect(
    make_uow: MakeUoW, make_relay: MakeRelay, db_session: AsyncSession
) -> None:
    """Given events a consumer applied, when they become pending again (a relay that died before writing
    its outcome), then delivering them again changes nothing."""
    registry = ConsumerRegistry([effect_consumer("test.once")])
    await emit(make_uow, T1, 3)
    relay = make_relay(registry)
    await relay.run_until_idle()

    async with make_uow(TenantScope.all_tenants()) as uow:
        await uow.session.execute(update(SysEvent).values(status=EventStatus.PENDING))
    handled_again = await relay.run_until_idle()

    assert handled_again == 3
    assert await effects(db_session, "test.once") == await event_ids(db_session)


async def test_the_relay_works_in_batches(
    make_uow: MakeUoW, make_relay: MakeRelay, db_session: AsyncSession
) -> None:
    registry = ConsumerRegistry([effect_consumer("test.batched")])
    await emit(make_uow, T1, 7)
    relay = make_relay(registry, config=RelayConfig(batch_size=3))

    assert await relay.run_batch() == 3
    assert await relay.run_until_idle() == 4
    assert await effects(db_session, "test.batched") == await event_ids(db_session)


# ----------------------------------------------------------------------------------- retries and DLQ


async def test_a_failing_consumer_is_retried_then_dead_lettered_while_others_go_on(
    make_uow: MakeUoW, make_relay: MakeRelay, db_session: AsyncSession, frozen_clock: FrozenClock
) -> None:
    flaky = Flaky()
    registry = ConsumerRegistry([effect_consumer("test.flaky", flaky), effect_consumer("test.steady")])
    [bad] = await emit(make_uow, T1)
    flaky.fail(bad)  # always
    relay = make_relay(registry, config=FAST_RETRIES)

    await relay.run_until_idle()
    everything = await event_ids(db_session)
    assert await effects(db_session, "test.steady") == everything, "the healthy consumer was not held"
    assert await effects(db_session, "test.flaky") == []
    [event_id] = everything
    assert (await statuses(db_session))[event_id] == EventStatus.PENDING

    # Not due before its backoff: another round now does nothing.
    assert await relay.run_until_idle() == 0
    assert len(flaky.calls) == 1

    await settle(relay, frozen_clock)

    assert len(flaky.calls) == FAST_RETRIES.max_attempts
    assert (await statuses(db_session))[event_id] == EventStatus.FAILED
    async with make_uow(TenantScope.all_tenants(), write=False) as uow:
        event = await uow.session.scalar(select(SysEvent).where(SysEvent.id == event_id))
        delivery = await uow.session.scalar(select(EventDelivery))
    assert event is not None
    assert delivery is not None
    assert event.last_error is not None
    assert "test.flaky: RuntimeError: cannot handle" in event.last_error
    assert event.attempts == FAST_RETRIES.max_attempts
    assert (delivery.consumer, delivery.status, delivery.attempts) == (
        "test.flaky",
        DeliveryStatus.FAILED,
        FAST_RETRIES.max_attempts,
    )
    assert await effects(db_session, "test.steady") == everything, "nothing applied twice"


async def test_retries_back_off_exponentially(
    make_uow: MakeUoW, make_relay: MakeRelay, frozen_clock: FrozenClock
) -> None:
    flaky = Flaky()
    registry = ConsumerRegistry([effect_consumer("test.flaky", flaky)])
    [bad] = await emit(make_uow, T1)
    flaky.fail(bad)
    relay = make_relay(registry, config=RelayConfig(max_attempts=5, retry_base_seconds=10.0))

    waits = []
    await relay.run_until_idle()
    for _ in range(3):
        due = await relay.observe()
        assert due is not None
        waits.append((due - frozen_clock.current).total_seconds())
        frozen_clock.set(due)
        await relay.run_until_idle()

    # Equal jitter: attempt n waits between half and all of 10 * 2**(n-1) seconds.
    for n, wait in enumerate(waits, start=1):
        full = 10.0 * 2 ** (n - 1)
        assert full / 2 <= wait <= full


async def test_a_dead_letter_succeeds_on_retry(
    make_uow: MakeUoW, make_relay: MakeRelay, db_session: AsyncSession, frozen_clock: FrozenClock
) -> None:
    flaky = Flaky()
    registry = ConsumerRegistry([effect_consumer("test.flaky", flaky), effect_consumer("test.steady")])
    [bad] = await emit(make_uow, T1)
    flaky.fail(bad, times=FAST_RETRIES.max_attempts)
    relay = make_relay(registry, config=FAST_RETRIES)
    await settle(relay, frozen_clock)
    [event_id] = await event_ids(db_session)
    assert (await statuses(db_session))[event_id] == EventStatus.FAILED

    async with make_uow(TenantScope.all_tenants()) as uow:
        retried = await service.retry_event(uow, event_id)
    assert retried.status == EventStatus.PENDING
    await relay.run_until_idle()

    assert (await statuses(db_session))[event_id] == EventStatus.DISPATCHED
    assert await effects(db_session, "test.flaky") == [event_id]
    assert await effects(db_session, "test.steady") == [event_id], "the other consumer did not run again"


async def test_a_failing_consumer_holds_back_only_its_own_later_events_of_that_tenant(
    make_uow: MakeUoW, make_relay: MakeRelay, db_session: AsyncSession, frozen_clock: FrozenClock
) -> None:
    """Given a consumer failing on T1's first event, then its later T1 events wait (they must not overtake
    it), while T2's events and the other consumer go on; once the first succeeds, the rest follow in order."""
    flaky = Flaky()
    registry = ConsumerRegistry([effect_consumer("test.flaky", flaky), effect_consumer("test.steady")])
    [bad, *_] = await emit(make_uow, T1, 3)
    await emit(make_uow, T2, 2)
    flaky.fail(bad, times=2)
    relay = make_relay(registry, config=FAST_RETRIES)

    await relay.run_until_idle()

    t1, t2 = await event_ids(db_session, T1), await event_ids(db_session, T2)
    assert await effects(db_session, "test.flaky") == t2
    assert sorted(await effects(db_session, "test.steady")) == sorted(t1 + t2)

    await settle(relay, frozen_clock)

    assert await effects(db_session, "test.flaky") == t2 + t1, "T1's events in commit order"
    assert set((await statuses(db_session)).values()) == {EventStatus.DISPATCHED}


async def test_a_dead_letter_does_not_hold_back_later_events(
    make_uow: MakeUoW, make_relay: MakeRelay, db_session: AsyncSession, frozen_clock: FrozenClock
) -> None:
    flaky = Flaky()
    registry = ConsumerRegistry([effect_consumer("test.flaky", flaky)])
    [bad, *_] = await emit(make_uow, T1, 3)
    flaky.fail(bad)
    relay = make_relay(registry, config=FAST_RETRIES)

    await settle(relay, frozen_clock)

    first, *rest = await event_ids(db_session, T1)
    assert await effects(db_session, "test.flaky") == rest
    assert (await statuses(db_session))[first] == EventStatus.FAILED


async def test_a_batch_with_one_bad_event_still_delivers_the_others(
    make_uow: MakeUoW, make_relay: MakeRelay, db_session: AsyncSession
) -> None:
    """The batch is applied in one transaction; when it fails, the events before the bad one are
    applied one by one and the bad one is pinned down."""
    flaky = Flaky()
    registry = ConsumerRegistry([effect_consumer("test.flaky", flaky)])
    ids = await emit(make_uow, T1, 4)
    flaky.fail(ids[2])

    await make_relay(registry, config=FAST_RETRIES).run_until_idle()

    events = await event_ids(db_session, T1)
    assert await effects(db_session, "test.flaky") == events[:2]
    state = await statuses(db_session)
    assert [state[e] for e in events] == [
        EventStatus.DISPATCHED,
        EventStatus.DISPATCHED,
        EventStatus.PENDING,
        EventStatus.PENDING,
    ]


# ------------------------------------------------------------------------------------------ versions


class _Versions:
    """A private catalog where ``test.renamed`` is at v2: v1 stored ``name``, v2 has ``first``/``last``."""

    catalog = Catalog()


class Renamed(DomainEvent, event_type="test.renamed", version=2, catalog=_Versions.catalog):
    node_id: uuid.UUID
    first: str
    last: str


@_Versions.catalog.upcaster("test.renamed", from_version=1)
def _split_name(payload: dict[str, Any]) -> dict[str, Any]:
    first, _, last = payload.pop("name").partition(" ")
    return {**payload, "first": first, "last": last}


async def test_a_stored_v1_event_reaches_its_consumer_as_v2(
    make_uow: MakeUoW, make_relay: MakeRelay, frozen_clock: FrozenClock
) -> None:
    received: list[Envelope[Any]] = []

    @consumer("test.names", "test.renamed")
    async def names(event: Envelope[Any], uow: UnitOfWork) -> None:
        received.append(event)

    node_id = uuid.uuid4()
    async with make_uow(TenantScope.of(T1)) as uow:
        # A row as an older build wrote it: schema_version 1, the v1 payload.
        row = event_row(
            Envelope(
                id=uuid.uuid4(),
                event_type="test.renamed",
                schema_version=1,
                tenant_id=T1,
                correlation_id=uuid.uuid4(),
                causation_id=None,
                trace_id=None,
                actor_id=None,
                occurred_at=frozen_clock.current,
                payload=Renamed(node_id=node_id, first="x", last="y"),
            )
        )
        row["payload"] = {"node_id": str(node_id), "name": "Ada Lovelace"}
        await uow.session.execute(SysEvent.__table__.insert(), [row])  # type: ignore[attr-defined]

    await make_relay(ConsumerRegistry([names]), catalog=_Versions.catalog).run_until_idle()

    [event] = received
    assert event.schema_version == 2
    assert event.payload == Renamed(node_id=node_id, first="Ada", last="Lovelace")


async def test_an_event_this_build_cannot_read_is_failed_not_dropped(
    make_uow: MakeUoW, make_relay: MakeRelay, db_session: AsyncSession
) -> None:
    registry = ConsumerRegistry([effect_consumer("test.any")])
    await emit(make_uow, T1)
    async with make_uow(TenantScope.all_tenants()) as uow:
        await uow.session.execute(update(SysEvent).values(schema_version=9))

    await make_relay(registry).run_until_idle()

    async with make_uow(TenantScope.all_tenants(), write=False) as uow:
        event = await uow.session.scalar(select(SysEvent))
    assert event is not None
    assert event.status == EventStatus.FAILED
    assert event.last_error is not None
    assert "newer than this build knows" in event.last_error


# ---------------------------------------------------------------------------------- replay and chains


async def test_replay_redelivers_a_range_to_one_consumer_only(
    make_uow: MakeUoW, make_relay: MakeRelay, db_session: AsyncSession
) -> None:
    registry = ConsumerRegistry([effect_consumer("test.model"), effect_consumer("test.other")])
    await emit(make_uow, T1, 4)
    await emit(make_uow, T2, 1)
    relay = make_relay(registry)
    await relay.run_until_idle()
    async with make_uow(TenantScope.all_tenants(), write=False) as uow:
        positions = list(
            (await uow.session.scalars(select(SysEvent.position).order_by(SysEvent.position))).all()
        )

    replayed = await relay.replay("test.model", first=positions[1], last=positions[2])
    replayed_t2 = await relay.replay("test.model", tenant_id=T2)

    everything = await event_ids(db_session)
    assert (replayed, replayed_t2) == (2, 1)
    assert await effects(db_session, "test.model") == everything + everything[1:3] + everything[4:]
    assert await effects(db_session, "test.other") == everything


async def test_replay_stops_at_a_failure_with_what_came_before_applied(
    make_uow: MakeUoW, make_relay: MakeRelay, db_session: AsyncSession
) -> None:
    flaky = Flaky()
    registry = ConsumerRegistry([effect_consumer("test.model", flaky)])
    ids = await emit(make_uow, T1, 2)
    ids += await emit(make_uow, T2, 1)
    relay = make_relay(registry)
    await relay.run_until_idle()
    flaky.fail(ids[2])

    with pytest.raises(ReplayFailed) as failure:
        await relay.replay("test.model")

    everything = await event_ids(db_session)
    assert failure.value.replayed == 0  # one batch: T1's part applied, T2's failed
    assert await effects(db_session, "test.model") == everything + everything[:2]


async def test_events_a_consumer_records_continue_the_chain(
    make_uow: MakeUoW, make_relay: MakeRelay, event_recorder: EventRecorder
) -> None:
    @consumer("test.publisher", "node.created")
    async def publish(event: Envelope[Any], uow: UnitOfWork) -> None:
        uow.record(NodePublished(node_id=event.payload.node_id, kind=event.payload.kind))

    async with event_recorder.watch() as events:
        await emit(make_uow, T1)
        await make_relay(ConsumerRegistry([publish])).run_until_idle()

    created, published = events.one("node.created"), events.one("node.published")
    assert published.causation_id == created.id
    assert published.correlation_id == created.correlation_id
    assert published.tenant_id == T1
    assert published.actor_id is None


async def test_stats_count_pending_failed_and_each_consumers_lag(
    make_uow: MakeUoW,
    make_relay: MakeRelay,
    frozen_clock: FrozenClock,
) -> None:
    flaky = Flaky()
    registry = ConsumerRegistry([effect_consumer("test.flaky", flaky), effect_consumer("test.steady")])
    [bad] = await emit(make_uow, T1)
    flaky.fail(bad)
    await emit(make_uow, T2, 2)
    relay = make_relay(registry, config=FAST_RETRIES)
    await settle(relay, frozen_clock)
    frozen_clock.advance(timedelta(seconds=30))
    await emit(make_uow, T2, 1)

    async with make_uow(TenantScope.all_tenants(), write=False) as uow:
        stats = await service.event_stats(uow, registry)

    assert (stats.pending, stats.failed) == (1, 1)
    assert stats.oldest_pending_age_seconds == 0.0
    assert {c.name: c.lag for c in stats.consumers} == {"test.flaky": 2, "test.steady": 1}


async def test_a_tenant_sees_only_its_own_events(make_uow: MakeUoW) -> None:
    from rustok.core.pagination import PageParams

    await emit(make_uow, T1, 2)
    await emit(make_uow, T2, 1)

    async with make_uow(TenantScope.of(T2), write=False) as uow:
        page = await service.list_events(uow, PageParams())
        count = await uow.session.scalar(select(func.count(SysEvent.position)))

    assert [e.tenant_id for e in page.items] == [T2]
    assert count == 1
