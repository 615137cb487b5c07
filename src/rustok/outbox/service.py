"""What operators do with the outbox: look at it, count it, re-queue what failed, replay to a consumer.
The CLI calls these (and the admin API will)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from rustok.core import clock
from rustok.core.errors import Conflict, NotFound
from rustok.core.pagination import Page, PageParams
from rustok.core.uow import UnitOfWork
from rustok.outbox.models import EventStatus
from rustok.outbox.registry import ConsumerRegistry
from rustok.outbox.repository import EventRepository
from rustok.outbox.schemas import ConsumerLag, EventOut, EventStats


async def list_events(
    uow: UnitOfWork,
    params: PageParams,
    *,
    status: EventStatus | None = None,
    event_type: str | None = None,
    tenant_id: uuid.UUID | None = None,
) -> Page[EventOut]:
    page = await EventRepository(uow.session).page(
        params, status=status, event_type=event_type, tenant_id=tenant_id
    )
    return Page(items=[EventOut.model_validate(e) for e in page.items], next_cursor=page.next_cursor)


async def event_stats(uow: UnitOfWork, registry: ConsumerRegistry) -> EventStats:
    events = EventRepository(uow.session)
    oldest = await events.oldest_pending()
    age = max(0.0, (clock.now() - oldest).total_seconds()) if oldest is not None else 0.0
    return EventStats(
        pending=await events.count(EventStatus.PENDING),
        failed=await events.count(EventStatus.FAILED),
        oldest_pending_age_seconds=round(age, 3),
        consumers=[
            ConsumerLag(name=c.name, lag=await events.lag(c.name, sorted(c.event_types)))
            for c in sorted(registry, key=lambda c: c.name)
        ],
    )


async def retry_event(uow: UnitOfWork, event_id: uuid.UUID) -> EventOut:
    """Make a failed event due now, its dead-lettered deliveries with a fresh set of attempts."""
    events = EventRepository(uow.session)
    event = await events.get(event_id)
    if event is None:
        raise NotFound(f"No event with id {event_id}.")
    if event.status == EventStatus.DISPATCHED:
        raise Conflict(
            f"Event {event_id} was dispatched; only failed or pending events can be retried "
            "(replay re-delivers dispatched ones).",
            code="event_not_retryable",
        )
    await events.requeue([event.position], clock.now())
    await uow.session.refresh(event)
    return EventOut.model_validate(event)


async def retry_failed(uow: UnitOfWork, *, limit: int = 10_000) -> int:
    """Re-queue up to ``limit`` failed events, oldest first; how many were."""
    events = EventRepository(uow.session)
    positions: Sequence[int] = await events.failed_positions(limit=limit)
    return await events.requeue(positions, clock.now())


async def event_position(uow: UnitOfWork, event_id: uuid.UUID) -> int:
    """The outbox position of an event (replay ranges are positions; operators name events by id)."""
    event = await EventRepository(uow.session).get(event_id)
    if event is None:
        raise NotFound(f"No event with id {event_id}.")
    return event.position
