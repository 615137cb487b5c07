"""The outbox tables.

- ``sys_events``: one row per event, written in the transaction of the change it announces. ``position``
  is assigned at insert and, per tenant, follows commit order (see `rustok.outbox.writer`).
- ``sys_event_deliveries``: one row per event and consumer whose delivery failed at least once: its
  attempts, next attempt and last error; ``failed`` is the dead letter.
- ``sys_processed_events``: the event ids each consumer has applied, written in the transaction of the
  consumer's effect, so a redelivery has no second effect.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from rustok.core.models import Base, TenantMixin

# SQLite gives an INTEGER PRIMARY KEY the rowid's auto-increment; PostgreSQL gets a BIGSERIAL.
Position = BigInteger().with_variant(Integer(), "sqlite")


class EventStatus(StrEnum):
    PENDING = "pending"
    DISPATCHED = "dispatched"
    FAILED = "failed"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class SysEvent(TenantMixin, Base):
    __tablename__ = "sys_events"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'dispatched', 'failed')", name="status"),
        CheckConstraint("schema_version >= 1", name="schema_version"),
        Index("ix_sys_events_type_version", "event_type", "schema_version"),
        Index("ix_sys_events_tenant_position", "tenant_id", "position"),
        # The relay's queue: small however long the history grows.
        Index(
            "ix_sys_events_pending",
            "position",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        {"sqlite_autoincrement": True},
    )

    position: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(unique=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    event_type: Mapped[str] = mapped_column(String(100))
    schema_version: Mapped[int]
    correlation_id: Mapped[uuid.UUID]
    causation_id: Mapped[uuid.UUID | None]
    trace_id: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[uuid.UUID | None]
    occurred_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    dispatched_at: Mapped[datetime | None]


class EventDelivery(TenantMixin, Base):
    __tablename__ = "sys_event_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'done', 'failed')", name="status"),
        # The open deliveries of a consumer in a tenant, oldest first: what holds later events back.
        Index(
            "ix_sys_event_deliveries_open",
            "tenant_id",
            "consumer",
            "position",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sys_events.id", ondelete="CASCADE"), primary_key=True
    )
    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    position: Mapped[int] = mapped_column(Position)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class ProcessedEvent(Base):
    __tablename__ = "sys_processed_events"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    processed_at: Mapped[datetime]
