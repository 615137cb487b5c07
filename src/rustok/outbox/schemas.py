"""The outbox as operators see it (the CLI now, the admin API later)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    consumer: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    position: int
    event_type: str
    schema_version: int
    tenant_id: uuid.UUID
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None
    trace_id: str | None
    actor_id: uuid.UUID | None
    occurred_at: datetime
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    dispatched_at: datetime | None


class ConsumerLag(BaseModel):
    name: str
    lag: int


class EventStats(BaseModel):
    pending: int
    failed: int
    oldest_pending_age_seconds: float
    consumers: list[ConsumerLag]
