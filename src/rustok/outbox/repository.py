"""The outbox's SQL: writing events (for `rustok.outbox.writer`), and for operators and the test kit,
listing, counting, reading and re-queueing them. (The relay's own claiming and bookkeeping SQL is
`rustok.outbox.relay.repository`.) In a tenant-scoped session every query sees that tenant's events only;
the platform scope sees all."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.core.pagination import PageParams, Slice, paginate
from rustok.outbox.models import DeliveryStatus, EventDelivery, EventStatus, ProcessedEvent, SysEvent

_EVENTS = cast(Table, SysEvent.__table__)


async def insert_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``sys_events`` rows, in the given order, as one executemany of a Core INSERT (no ORM
    objects: the writer's rows are never read back in its transaction)."""
    await session.execute(_EVENTS.insert(), rows)


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def last_position(self) -> int:
        """The position of the newest event (0 when there is none)."""
        value = (await self.session.execute(select(func.max(SysEvent.position)))).scalar_one()
        return int(value or 0)

    async def after(self, position: int) -> Sequence[SysEvent]:
        """The events after ``position``, in position order."""
        statement = select(SysEvent).where(SysEvent.position > position).order_by(SysEvent.position)
        return (await self.session.scalars(statement)).all()

    async def page(
        self,
        params: PageParams,
        *,
        status: EventStatus | None = None,
        event_type: str | None = None,
        tenant_id: uuid.UUID | None = None,
    ) -> Slice[SysEvent]:
        """Newest first."""
        statement = select(SysEvent)
        if status is not None:
            statement = statement.where(SysEvent.status == status)
        if event_type is not None:
            statement = statement.where(SysEvent.event_type == event_type)
        if tenant_id is not None:
            statement = statement.where(SysEvent.tenant_id == tenant_id)
        return await paginate(
            self.session, statement, key=(SysEvent.position,), params=params, descending=True
        )

    async def get(self, event_id: uuid.UUID) -> SysEvent | None:
        return (await self.session.scalars(select(SysEvent).where(SysEvent.id == event_id))).one_or_none()

    async def count(self, status: EventStatus) -> int:
        statement = select(func.count(SysEvent.position)).where(SysEvent.status == status)
        return int((await self.session.execute(statement)).scalar_one())

    async def oldest_pending(self) -> datetime | None:
        statement = select(func.min(SysEvent.occurred_at)).where(SysEvent.status == EventStatus.PENDING)
        value: datetime | None = (await self.session.execute(statement)).scalar_one()
        return value

    async def lag(self, consumer: str, event_types: Sequence[str]) -> int:
        """Events of ``event_types`` not dispatched yet that ``consumer`` has not applied."""
        applied = exists().where(ProcessedEvent.consumer == consumer, ProcessedEvent.event_id == SysEvent.id)
        # The EXISTS reads only sys_processed_events (not tenant data), correlated to the outer row, which the
        # session scopes: the tenant criteria the session adds to sys_events cover the whole statement.
        statement = (
            select(func.count(SysEvent.position))
            .where(
                SysEvent.status != EventStatus.DISPATCHED,
                SysEvent.event_type.in_(event_types),
                ~applied,
            )
            .execution_options(tenant_criteria="explicit")
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def requeue(self, positions: Sequence[int], now: datetime) -> int:
        """Make failed (or waiting) events due now, with their failed deliveries given a fresh set of
        attempts. Dispatched events are left alone. Returns how many events were re-queued."""
        if not positions:
            return 0
        result: Any = await self.session.execute(
            update(SysEvent)
            .where(
                SysEvent.position.in_(positions),
                SysEvent.status.in_([EventStatus.FAILED, EventStatus.PENDING]),
            )
            .values(status=EventStatus.PENDING, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(EventDelivery)
            .where(
                EventDelivery.position.in_(positions),
                EventDelivery.status.in_([DeliveryStatus.FAILED, DeliveryStatus.PENDING]),
            )
            .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)

    async def failed_positions(self, *, limit: int) -> Sequence[int]:
        statement = (
            select(SysEvent.position)
            .where(SysEvent.status == EventStatus.FAILED)
            .order_by(SysEvent.position)
            .limit(limit)
        )
        return (await self.session.scalars(statement)).all()
