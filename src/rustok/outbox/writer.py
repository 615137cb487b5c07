"""The outbox writer: the `EventSink` every unit of work hands its events to, inside its transaction.

Ordering. The relay delivers a tenant's events in ``position`` order, so positions must follow commit
order within a tenant. SQLite has one writer at a time, so they do. On PostgreSQL two transactions could
take positions in one order and commit in the other; a trigger on ``sys_events`` therefore takes a
transaction-scoped advisory lock on the row's tenant and only then draws the position from the sequence.
The lock is the last one a writing transaction takes (events are inserted just before the commit) and is
held until the commit, so a second writer of the same tenant draws its position after the first has
committed. Writers of different tenants do not wait for each other. The same trigger notifies the relay
(``LISTEN rustok_events``) when the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rustok.core.events import CATALOG, Catalog, Envelope
from rustok.outbox import metrics
from rustok.outbox.models import EventStatus
from rustok.outbox.repository import insert_events

NOTIFY_CHANNEL = "rustok_events"


def event_row(envelope: Envelope[Any]) -> dict[str, Any]:
    return {
        "id": envelope.id,
        "tenant_id": envelope.tenant_id,
        "event_type": envelope.event_type,
        "schema_version": envelope.schema_version,
        "correlation_id": envelope.correlation_id,
        "causation_id": envelope.causation_id,
        "trace_id": envelope.trace_id,
        "actor_id": envelope.actor_id,
        "occurred_at": envelope.occurred_at,
        "payload": envelope.payload.model_dump(mode="json"),
        "status": EventStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": envelope.occurred_at,
    }


def envelope_of(row: Any, catalog: Catalog = CATALOG) -> Envelope[Any]:
    """The envelope of a stored ``sys_events`` row (a `SysEvent` or a result row with its columns), its
    payload brought to the current version by the catalog's upcasters. Raises what `Catalog.load` raises."""
    payload = catalog.load(row.event_type, row.schema_version, row.payload)
    return Envelope(
        id=row.id,
        event_type=row.event_type,
        schema_version=payload.schema_version,
        tenant_id=row.tenant_id,
        correlation_id=row.correlation_id,
        causation_id=row.causation_id,
        trace_id=row.trace_id,
        actor_id=row.actor_id,
        occurred_at=row.occurred_at,
        payload=payload,
        position=row.position,
    )


class OutboxWriter:
    """Writes recorded events into ``sys_events`` in the caller's transaction, and tells in-process relays
    when they have committed."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        self._listeners.remove(listener)

    async def write(self, session: AsyncSession, envelopes: Sequence[Envelope[Any]]) -> None:
        # Grouped by tenant (stable, so each tenant keeps its order): a transaction writing for several
        # tenants then takes their advisory locks in one global order, and two such cannot deadlock.
        rows = [event_row(e) for e in sorted(envelopes, key=lambda e: e.tenant_id.bytes)]
        await insert_events(session, rows)

    def committed(self, envelopes: Sequence[Envelope[Any]]) -> None:
        for envelope in envelopes:
            metrics.EVENTS_WRITTEN.labels(envelope.event_type).inc()
        for listener in self._listeners:
            listener()
