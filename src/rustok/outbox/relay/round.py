"""A relay round's decisions, without the database: which claimed events are due to which consumer, what a
delivery's success or failure does to its state, and what becomes of each event.

`Round` is given the claimed events and the delivery state loaded for them (`RelayRepository` reads both),
is told what each delivery did, and hands back the `Outcome` to write. The rules it keeps:

- A consumer gets a tenant's events in ``position`` order. While one of its deliveries waits for a retry,
  it gets no later event of that tenant (they would overtake it); other consumers and tenants go on. When
  the retry is due, it is tried again together with the later events.
- A failed delivery is retried after `backoff_seconds`; after ``max_attempts`` it is dead-lettered. A
  dead-lettered delivery holds nothing back.
- An event is dispatched once every consumer has applied it; failed when some consumer gave up on it (or
  this build cannot read it) and none is still trying; otherwise pending, due when the first consumer that
  still owes it can go on.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from rustok.core.events import Envelope
from rustok.outbox.models import DeliveryStatus, EventStatus
from rustok.outbox.relay.config import RelayConfig

MAX_ERROR_LENGTH = 2000


def backoff_seconds(
    attempts: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """The wait before attempt ``attempts + 1``: doubling from ``base`` up to ``cap``, with "equal jitter"
    (half fixed, half random) so that failures of many events do not come back in lockstep."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return float(delay / 2 + rand() * delay / 2)


def describe(error: BaseException) -> str:
    text_ = f"{type(error).__name__}: {error}"
    return text_[:MAX_ERROR_LENGTH]


@dataclass(frozen=True, slots=True)
class Claimed:
    """An event a round claimed. ``envelope`` is None when this build cannot read the stored event;
    ``load_error`` then says why."""

    position: int
    id: uuid.UUID
    tenant_id: uuid.UUID
    event_type: str
    attempts: int
    envelope: Envelope[Any] | None
    load_error: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A row of ``sys_event_deliveries``: one consumer's delivery of one event that failed at least once."""

    event_id: uuid.UUID
    consumer: str
    tenant_id: uuid.UUID
    position: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


@dataclass(frozen=True, slots=True)
class OpenRetry:
    """A pending delivery of ``consumer`` in ``tenant_id`` (one that waits for a retry, or whose retry is
    due): the oldest one holds that consumer's later events of the tenant back."""

    tenant_id: uuid.UUID
    consumer: str
    position: int
    next_attempt_at: datetime


@dataclass(frozen=True, slots=True)
class Batch:
    """The events of one tenant due to one consumer now, in ``position`` order."""

    consumer: str
    tenant_id: uuid.UUID
    events: tuple[Claimed, ...]


@dataclass(frozen=True, slots=True)
class Failure:
    """What a failed delivery became: ``retry_in`` seconds until its next attempt, or None when it was
    dead-lettered."""

    delivery: Delivery
    error: str
    retry_in: float | None

    @property
    def dead(self) -> bool:
        return self.retry_in is None


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """The state to write for an event that was not dispatched (``pending`` or ``failed``)."""

    position: int
    status: EventStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a round writes: the positions of the dispatched events, the new state of the others, and the
    delivery rows that changed."""

    dispatched: tuple[int, ...]
    unsettled: tuple[EventOutcome, ...]
    deliveries: tuple[Delivery, ...]


@dataclass(slots=True)
class _Progress:
    """What the consumers did with one event in this round."""

    waits: list[datetime] = field(default_factory=list)  # when a consumer that still owes it can go on
    dead: list[str] = field(default_factory=list)  # "consumer: error" of those that gave up on it
    retry_errors: list[str] = field(default_factory=list)
    max_attempts_seen: int = 0


class Round:
    """One round's bookkeeping. Ask `due` once per consumer for what to hand it, report each delivery with
    `succeeded` or `failed` (and `hold` what a failure left undelivered), then take the `outcome`."""

    def __init__(
        self,
        events: Sequence[Claimed],
        deliveries: Iterable[Delivery],
        open_retries: Iterable[OpenRetry],
        *,
        now: datetime,
        config: RelayConfig,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.events = tuple(events)
        self.now = now
        self._config = config
        self._rand = rand
        self._deliveries = {(d.event_id, d.consumer): d for d in deliveries}
        self._changed: set[tuple[uuid.UUID, str]] = set()
        self._open: dict[tuple[uuid.UUID, str], OpenRetry] = {}
        for retry in open_retries:
            key = (retry.tenant_id, retry.consumer)
            if key not in self._open or retry.position < self._open[key].position:
                self._open[key] = retry
        self._progress = {event.position: _Progress() for event in self.events}

    # ----------------------------------------------------------------------------------------- due

    def due(self, consumer: str, event_types: Collection[str]) -> list[Batch]:
        """What to hand ``consumer`` now: per tenant, in order of the tenants' first events, its readable
        events of ``event_types`` that it has not applied or given up on, up to the first one an open retry
        holds back. Records the held events' waits and the consumer's dead letters; call it once per
        consumer and round."""
        by_tenant: dict[uuid.UUID, list[Claimed]] = {}
        for event in self.events:
            if event.envelope is not None and event.event_type in event_types:
                by_tenant.setdefault(event.tenant_id, []).append(event)
        batches = []
        for tenant_id, events in by_tenant.items():
            due = self._due_in_tenant(consumer, tenant_id, events)
            if due:
                batches.append(Batch(consumer, tenant_id, tuple(due)))
        return batches

    def _due_in_tenant(self, consumer: str, tenant_id: uuid.UUID, events: Sequence[Claimed]) -> list[Claimed]:
        due: list[Claimed] = []
        key = (tenant_id, consumer)
        for index, event in enumerate(events):
            delivery = self._deliveries.get((event.id, consumer))
            if delivery is not None and delivery.status != DeliveryStatus.PENDING:
                if delivery.status == DeliveryStatus.FAILED:
                    self._progress[event.position].dead.append(f"{consumer}: {delivery.last_error}")
                continue
            retry = self._open.get(key)
            if retry is not None and retry.position == event.position:
                if delivery is not None and delivery.next_attempt_at > self.now:
                    self._wait(events[index:], retry.next_attempt_at)
                    return due
                # Its retry is due: try it, and the later events after it (optimistically).
                del self._open[key]
            elif retry is not None and retry.position < event.position:
                self._wait(events[index:], retry.next_attempt_at)
                return due
            due.append(event)
        return due

    def _wait(self, events: Sequence[Claimed], until: datetime) -> None:
        for event in events:
            self._progress[event.position].waits.append(until)

    # ------------------------------------------------------------------------------------ outcomes

    def succeeded(self, consumer: str, event: Claimed) -> None:
        """``consumer`` applied ``event`` (or had applied it before)."""
        key = (event.id, consumer)
        delivery = self._deliveries.get(key)
        if delivery is not None:
            self._deliveries[key] = replace(delivery, status=DeliveryStatus.DONE)
            self._changed.add(key)

    def failed(self, consumer: str, event: Claimed, error: BaseException) -> Failure:
        """``consumer`` failed on ``event``: one more attempt, then a retry after a backoff (which holds
        back the consumer's later events of the tenant) or, at ``max_attempts``, the dead letter."""
        message = describe(error)
        key = (event.id, consumer)
        before = self._deliveries.get(key)
        attempts = (before.attempts if before is not None else 0) + 1
        progress = self._progress[event.position]
        progress.max_attempts_seen = max(progress.max_attempts_seen, attempts)
        retry_in: float | None = None
        if attempts >= self._config.max_attempts:
            status = DeliveryStatus.FAILED
            next_attempt_at = before.next_attempt_at if before is not None else self.now
            progress.dead.append(f"{consumer}: {message}")
        else:
            status = DeliveryStatus.PENDING
            retry_in = backoff_seconds(
                attempts, self._config.retry_base_seconds, self._config.retry_max_seconds, self._rand
            )
            next_attempt_at = self.now + timedelta(seconds=retry_in)
            progress.waits.append(next_attempt_at)
            progress.retry_errors.append(f"{consumer}: {message}")
            self._open[(event.tenant_id, consumer)] = OpenRetry(
                event.tenant_id, consumer, event.position, next_attempt_at
            )
        delivery = Delivery(
            event_id=event.id,
            consumer=consumer,
            tenant_id=event.tenant_id,
            position=event.position,
            status=status,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            last_error=message,
        )
        self._deliveries[key] = delivery
        self._changed.add(key)
        return Failure(delivery, message, retry_in)

    def hold(self, failure: Failure, events: Sequence[Claimed]) -> None:
        """``events`` (later events of the failed delivery's tenant) were not handed to its consumer: they
        wait for its retry."""
        if not failure.dead:
            self._wait(events, failure.delivery.next_attempt_at)

    def outcome(self) -> Outcome:
        dispatched: list[int] = []
        unsettled: list[EventOutcome] = []
        for event in self.events:
            progress = self._progress[event.position]
            attempts = max(event.attempts, progress.max_attempts_seen)
            if event.load_error is not None:
                unsettled.append(
                    EventOutcome(
                        event.position, EventStatus.FAILED, event.attempts + 1, self.now, event.load_error
                    )
                )
            elif progress.waits:
                error = progress.retry_errors[-1] if progress.retry_errors else None
                unsettled.append(
                    EventOutcome(event.position, EventStatus.PENDING, attempts, min(progress.waits), error)
                )
            elif progress.dead:
                unsettled.append(
                    EventOutcome(event.position, EventStatus.FAILED, attempts, self.now, progress.dead[-1])
                )
            else:
                dispatched.append(event.position)
        changed = tuple(self._deliveries[key] for key in self._deliveries if key in self._changed)
        return Outcome(tuple(dispatched), tuple(unsettled), changed)
