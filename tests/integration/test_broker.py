"""The external broker: with a NATS URL configured, every event also reaches JetStream, once, through the
relay's own delivery (retries, dead letters and replay included). Runs against the real NATS server."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import nats
import pytest_asyncio
from nats.js.client import JetStreamContext
from sqlalchemy import select

from rustok import modules
from rustok.content.events import NodeCreated
from rustok.core.events import CATALOG
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork
from rustok.outbox.broker import BROKER_CONSUMER, NatsPublisher
from rustok.outbox.models import EventDelivery, EventStatus, SysEvent
from rustok.outbox.registry import ConsumerRegistry
from rustok.outbox.relay import Relay, RelayConfig
from rustok.testing import FrozenClock

MakeUoW = Callable[..., UnitOfWork]
MakeRelay = Callable[..., Relay]
TENANT = uuid.UUID("01900000-0000-7000-8000-0000000000c1")


@pytest_asyncio.fixture(loop_scope="session")
async def jetstream(nats_test_url: str) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(nats_test_url, connect_timeout=2)
    try:
        yield client.jetstream()
    finally:
        await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def publisher(nats_test_url: str, jetstream: JetStreamContext) -> AsyncIterator[NatsPublisher]:
    """A publisher on a stream and subjects of this test's own, deleted afterwards."""
    suffix = uuid.uuid4().hex[:10]
    publisher = NatsPublisher(
        nats_test_url, stream=f"RUSTOK_TEST_{suffix}", subject_prefix=f"rustok-test-{suffix}.events"
    )
    try:
        yield publisher
    finally:
        await publisher.close()
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await jetstream.delete_stream(publisher.stream)


async def emit(make_uow: MakeUoW, count: int) -> list[uuid.UUID]:
    ids = []
    for _ in range(count):
        async with make_uow(TenantScope.of(TENANT)) as uow:
            ids.append(uow.record(NodeCreated(node_id=uuid.uuid4(), kind="post")).id)
    return ids


async def stored(jetstream: JetStreamContext, publisher: NatsPublisher) -> list[Any]:
    info = await jetstream.stream_info(publisher.stream)
    return [await jetstream.get_msg(publisher.stream, seq) for seq in range(1, info.state.last_seq + 1)]


async def test_every_event_is_published_once_with_its_id_as_the_deduplication_id(
    make_uow: MakeUoW, make_relay: MakeRelay, jetstream: JetStreamContext, publisher: NatsPublisher
) -> None:
    event_ids = await emit(make_uow, 3)

    await make_relay(ConsumerRegistry([publisher.consumer()])).run_until_idle()

    messages = await stored(jetstream, publisher)
    assert [m.headers["Nats-Msg-Id"] for m in messages] == [str(i) for i in event_ids]
    first = messages[0]
    assert first.subject == f"{publisher.subject_prefix}.{TENANT}.node.created"
    body = json.loads(first.data)
    assert body["id"] == str(event_ids[0])
    assert body["event_type"] == "node.created"
    assert body["schema_version"] == 1
    assert body["tenant_id"] == str(TENANT)
    assert body["payload"]["kind"] == "post"
    assert first.headers["Rustok-Event-Type"] == "node.created"


async def test_a_republished_event_is_stored_once(
    make_uow: MakeUoW, make_relay: MakeRelay, jetstream: JetStreamContext, publisher: NatsPublisher
) -> None:
    """Given events the broker has, when they are delivered to it again (a replay, or a relay that died
    after publishing and before committing), then JetStream recognises the ids and keeps one copy."""
    await emit(make_uow, 2)
    relay = make_relay(ConsumerRegistry([publisher.consumer()]))
    await relay.run_until_idle()

    replayed = await relay.replay(BROKER_CONSUMER)

    assert replayed == 2
    assert len(await stored(jetstream, publisher)) == 2


async def test_a_broker_that_is_down_is_retried_not_skipped(
    make_uow: MakeUoW, make_relay: MakeRelay, frozen_clock: FrozenClock
) -> None:
    """Given the broker unreachable, then the delivery fails and waits for its retry (the clock stands
    still, so it is not due again); the event is not dispatched without reaching the broker."""
    unreachable = NatsPublisher("nats://127.0.0.1:1", timeout=0.5)
    [event_id] = await emit(make_uow, 1)

    await make_relay(
        ConsumerRegistry([unreachable.consumer()]), config=RelayConfig(max_attempts=3)
    ).run_until_idle()

    async with make_uow(TenantScope.all_tenants(), write=False) as uow:
        event = await uow.session.scalar(select(SysEvent).where(SysEvent.id == event_id))
        delivery = await uow.session.scalar(select(EventDelivery))
    assert event is not None
    assert event.status == EventStatus.PENDING
    assert delivery is not None
    assert (delivery.consumer, delivery.attempts) == (BROKER_CONSUMER, 1)


def test_the_publisher_joins_the_consumers_only_when_a_broker_is_configured(nats_test_url: str) -> None:
    without = modules.consumers(Settings(_env_file=None))
    with_broker = modules.consumers(Settings(_env_file=None, nats_url=nats_test_url))

    assert BROKER_CONSUMER not in {c.name for c in without}
    broker = with_broker.get(BROKER_CONSUMER)
    assert "node.created" in broker.event_types
    modules.load_events()
    assert set(broker.event_types) == {cls.event_type for cls in CATALOG}
