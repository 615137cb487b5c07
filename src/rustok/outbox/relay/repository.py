"""All of the relay's SQL: claiming due events (on PostgreSQL under per-tenant advisory locks and
``FOR UPDATE SKIP LOCKED``), loading their delivery state, recording what a consumer applied, writing a
round's outcome, and the reads of replay and of the pending gauges.

The relay works in the platform scope (`TenantScope.all_tenants()`) for claims and outcomes, and in the
event's tenant scope for a consumer's delivery (`mark_processed`, `forget`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.core.events import CATALOG, Catalog
from rustok.outbox.models import DeliveryStatus, EventDelivery, EventStatus, ProcessedEvent, SysEvent
from rustok.outbox.relay.round import Claimed, Delivery, OpenRetry, Outcome, describe
from rustok.outbox.writer import envelope_of

# Namespace (first key) of the relay's advisory locks on tenants; the writer's trigger uses 7201.
RELAY_LOCK_NAMESPACE = 7202

# The tenants of the next batch of due events, leaving out those another relay holds right now.
# (Advisory lock keys are kept non-negative so that they read the same in pg_locks.objid, an oid.)
_CANDIDATE_TENANTS = text(
    """
    SELECT tenant_id FROM (
        SELECT tenant_id, position FROM sys_events
        WHERE status = 'pending' AND next_attempt_at <= :now
          AND (hashtext(tenant_id::text) & 2147483647) NOT IN (
              SELECT objid::bigint FROM pg_locks
              WHERE locktype = 'advisory' AND classid = :ns AND objsubid = 2 AND granted
                AND pid <> pg_backend_pid()
                -- advisory locks are per database, pg_locks shows the whole cluster's
                AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          )
        ORDER BY position
        LIMIT :size
    ) AS next_batch
    GROUP BY tenant_id
    ORDER BY min(position)
    """
)
# Of those, the ones this relay now holds until the end of its round (another may have been quicker).
_LOCK_TENANTS = text(
    "SELECT t FROM unnest(CAST(:tenants AS uuid[])) AS t "
    "WHERE pg_try_advisory_xact_lock(:ns, hashtext(t::text) & 2147483647)"
)

# What a round reads of an event: the envelope's columns and the attempts so far.
_COLUMNS = (
    SysEvent.position,
    SysEvent.id,
    SysEvent.tenant_id,
    SysEvent.event_type,
    SysEvent.schema_version,
    SysEvent.correlation_id,
    SysEvent.causation_id,
    SysEvent.trace_id,
    SysEvent.actor_id,
    SysEvent.occurred_at,
    SysEvent.payload,
    SysEvent.attempts,
)
_PROCESSED = cast(Table, ProcessedEvent.__table__)


@dataclass(frozen=True, slots=True)
class Pending:
    """The pending events as a whole: how many, the oldest one's time, and when the next one is due."""

    count: int
    oldest: datetime | None
    next_due: datetime | None


class RelayRepository:
    def __init__(self, session: AsyncSession, catalog: Catalog = CATALOG) -> None:
        self.session = session
        self._catalog = catalog

    @property
    def dialect(self) -> str:
        bind = self.session.bind
        assert bind is not None
        return bind.dialect.name

    # ----------------------------------------------------------------------------------------- claim

    async def claim_postgres(self, now: datetime, size: int) -> list[Claimed]:
        """Claim the oldest due events of tenants no other relay holds: lock the tenants of the next
        batch (skipping those whose lock another relay holds, as ``pg_locks`` shows), then their rows.
        The locks last as long as the session's transaction."""
        candidates = (
            (
                await self.session.execute(
                    _CANDIDATE_TENANTS, {"now": now, "size": size, "ns": RELAY_LOCK_NAMESPACE}
                )
            )
            .scalars()
            .all()
        )
        if not candidates:
            return []
        owned = (
            (
                await self.session.execute(
                    _LOCK_TENANTS, {"tenants": list(candidates), "ns": RELAY_LOCK_NAMESPACE}
                )
            )
            .scalars()
            .all()
        )
        if not owned:
            return []
        rows = await self.session.execute(
            select(*_COLUMNS)
            .where(_due(now), SysEvent.tenant_id.in_(owned))
            .order_by(SysEvent.position)
            .limit(size)
            .with_for_update(skip_locked=True)
        )
        return [self._claimed(row) for row in rows]

    async def claim_sqlite(self, now: datetime, size: int) -> list[Claimed]:
        """The oldest due events (one relay runs per SQLite database, so nothing is locked)."""
        rows = await self.session.execute(
            select(*_COLUMNS).where(_due(now)).order_by(SysEvent.position).limit(size)
        )
        return [self._claimed(row) for row in rows]

    async def replay_range(
        self,
        event_types: Sequence[str],
        *,
        first: int | None,
        last: int | None,
        tenant_id: uuid.UUID | None,
        size: int,
    ) -> list[Claimed]:
        """The first ``size`` events of ``event_types`` at positions ``first``..``last`` (inclusive, open
        ends allowed), of one tenant or all, whatever their status."""
        statement = select(*_COLUMNS).where(SysEvent.event_type.in_(event_types))
        if first is not None:
            statement = statement.where(SysEvent.position >= first)
        if last is not None:
            statement = statement.where(SysEvent.position <= last)
        if tenant_id is not None:
            statement = statement.where(SysEvent.tenant_id == tenant_id)
        rows = await self.session.execute(statement.order_by(SysEvent.position).limit(size))
        return [self._claimed(row) for row in rows]

    def _claimed(self, row: Row[Any]) -> Claimed:
        try:
            envelope = envelope_of(row, self._catalog)
        except Exception as exc:
            return Claimed(
                row.position, row.id, row.tenant_id, row.event_type, row.attempts, None, describe(exc)
            )
        return Claimed(row.position, row.id, row.tenant_id, row.event_type, row.attempts, envelope)

    async def delivery_state(self, events: Sequence[Claimed]) -> tuple[list[Delivery], list[OpenRetry]]:
        """The delivery rows of the events that were tried before, and the pending deliveries in the
        events' tenants, oldest first (what holds a consumer's later events back)."""
        deliveries: list[Delivery] = []
        retried = [e.id for e in events if e.attempts > 0]
        if retried:
            rows = await self.session.scalars(
                select(EventDelivery).where(EventDelivery.event_id.in_(retried))
            )
            deliveries = [
                Delivery(
                    event_id=d.event_id,
                    consumer=d.consumer,
                    tenant_id=d.tenant_id,
                    position=d.position,
                    status=DeliveryStatus(d.status),
                    attempts=d.attempts,
                    next_attempt_at=d.next_attempt_at,
                    last_error=d.last_error,
                )
                for d in rows
            ]
        tenants = {e.tenant_id for e in events}
        open_rows = await self.session.execute(
            select(
                EventDelivery.tenant_id,
                EventDelivery.consumer,
                EventDelivery.position,
                EventDelivery.next_attempt_at,
            )
            .where(
                EventDelivery.status == DeliveryStatus.PENDING,
                EventDelivery.tenant_id.in_(tenants),
            )
            .order_by(EventDelivery.position)
        )
        open_retries = [OpenRetry(*row) for row in open_rows]
        return deliveries, open_retries

    # ------------------------------------------------------------------------------------- delivery

    async def mark_processed(
        self, consumer: str, event_ids: Sequence[uuid.UUID], now: datetime
    ) -> set[uuid.UUID]:
        """Record that ``consumer`` applies these events; the ids it had not applied before.

        A concurrent transaction recording the same id makes this one wait for it (the primary key) and then
        skip the id, so two deliveries of an event can never both apply it."""
        if not event_ids:
            return set()
        # One statement, compiled once and cached, executed over the rows (SQLAlchemy's "insertmanyvalues"
        # sends them as multi-row INSERTs). A literal multi-row .values([...]) is compiled afresh on every
        # call: tens of milliseconds for a batch of a few hundred events.
        statement = self._insert(_PROCESSED).on_conflict_do_nothing().returning(_PROCESSED.c.event_id)
        rows = [{"consumer": consumer, "event_id": i, "processed_at": now} for i in event_ids]
        return set((await self.session.execute(statement, rows)).scalars())

    async def forget(self, consumer: str, event_ids: Sequence[uuid.UUID]) -> None:
        """Drop ``consumer``'s record of having applied these events (for a replay)."""
        await self.session.execute(
            delete(ProcessedEvent).where(
                ProcessedEvent.consumer == consumer, ProcessedEvent.event_id.in_(event_ids)
            )
        )

    # -------------------------------------------------------------------------------------- outcome

    async def save(self, outcome: Outcome, now: datetime) -> None:
        """Write a round's outcome: the dispatched events, the new state of the others, and the delivery
        rows that changed."""
        if outcome.dispatched:
            await self.session.execute(
                update(SysEvent)
                .where(SysEvent.position.in_(outcome.dispatched))
                .values(status=EventStatus.DISPATCHED, dispatched_at=now)
                .execution_options(synchronize_session=False)
            )
        if outcome.unsettled:
            rows = [
                {
                    "position": e.position,
                    "status": e.status.value,
                    "attempts": e.attempts,
                    "next_attempt_at": e.next_attempt_at,
                    "last_error": e.last_error,
                }
                for e in outcome.unsettled
            ]
            await self.session.execute(update(SysEvent), rows)
        if outcome.deliveries:
            await self._upsert_deliveries(outcome.deliveries, now)

    async def _upsert_deliveries(self, deliveries: Sequence[Delivery], now: datetime) -> None:
        rows = [
            {
                "event_id": d.event_id,
                "consumer": d.consumer,
                "tenant_id": d.tenant_id,
                "position": d.position,
                "status": d.status.value,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at,
                "last_error": d.last_error,
                "updated_at": now,
            }
            for d in deliveries
        ]
        statement = self._insert(cast(Table, EventDelivery.__table__)).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=[EventDelivery.event_id, EventDelivery.consumer],
            set_={
                name: statement.excluded[name]
                for name in ("status", "attempts", "next_attempt_at", "last_error", "updated_at")
            },
        )
        await self.session.execute(statement)

    async def pending(self) -> Pending:
        row = (
            await self.session.execute(
                select(
                    func.count(SysEvent.position),
                    func.min(SysEvent.occurred_at),
                    func.min(SysEvent.next_attempt_at),
                ).where(SysEvent.status == EventStatus.PENDING)
            )
        ).one()
        count, oldest, next_due = row
        return Pending(count, oldest, next_due)

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        return postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)


def _due(now: datetime) -> ColumnElement[bool]:
    return (SysEvent.status == EventStatus.PENDING) & (SysEvent.next_attempt_at <= now)
