"""The relay: delivers committed events from ``sys_events`` to every consumer, at least once.

One round (`Relay.run_batch`):

1. **Claim** due pending events in ``position`` order. On PostgreSQL several relays may run: each first
   takes transaction-scoped advisory locks on the tenants of the oldest due events (skipping tenants another
   relay holds), then locks those tenants' rows ``FOR UPDATE SKIP LOCKED``, and keeps the transaction open
   for the round. A tenant's events are therefore handled by one relay at a time, in commit order, and a
   relay that dies releases everything with its connection. On SQLite one relay runs (a file lock makes sure
   of it), so it reads the batch and writes the outcome in two short transactions.
2. **Deliver** to each consumer, a tenant's events in order, all in one unit of work per consumer and tenant:
   the ids are recorded in ``sys_processed_events`` (ids already there are skipped: that is the
   idempotency) and the handler runs, in the same transaction. When the batch fails, its events are
   delivered one by one to find the failing one.
3. **Record the outcome.** A failed delivery is retried after an exponential backoff with jitter; after
   ``max_attempts`` it is dead-lettered (``failed``, with its last error). While a consumer's delivery
   waits for a retry, that consumer receives no later event of the same tenant (they would overtake it);
   other consumers and other tenants go on. A dead-lettered delivery holds nothing back.
   An event is ``dispatched`` once every consumer has applied it, ``failed`` when some consumer gave up
   on it and none is still trying, and ``pending`` otherwise.

A crash at any point loses nothing: events stay pending until their outcome is written, and a redelivery
of what a consumer had already applied has no effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rustok.core import clock
from rustok.core.events import CATALOG, Catalog, Envelope, caused_by
from rustok.core.logging import get_logger
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWorkFactory
from rustok.outbox import metrics
from rustok.outbox.models import DeliveryStatus, EventDelivery, EventStatus, ProcessedEvent, SysEvent
from rustok.outbox.registry import Consumer, ConsumerRegistry
from rustok.outbox.repository import EventRepository
from rustok.outbox.writer import NOTIFY_CHANNEL, OutboxWriter, envelope_of

log = get_logger("rustok.relay")

# Namespace (first key) of the relay's advisory locks on tenants; the writer's trigger uses 7201.
RELAY_LOCK_NAMESPACE = 7202
MAX_ERROR_LENGTH = 2000
# When events are due but another relay holds all their tenants, look again after this long.
CONTENDED_WAIT_SECONDS = 0.1

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


class ReplayFailed(RuntimeError):
    def __init__(self, event_id: Any, replayed: int, error: str) -> None:
        super().__init__(f"replay stopped at event {event_id} after {replayed} events: {error}")
        self.event_id = event_id
        self.replayed = replayed
        self.error = error


@dataclass(frozen=True, slots=True)
class RelayConfig:
    batch_size: int = 500
    max_attempts: int = 10
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 600.0
    poll_seconds: float = 2.0


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


# ------------------------------------------------------------------------------------------- round state


@dataclass(slots=True)
class Claimed:
    """A claimed event and what happened to it in this round."""

    position: int
    id: Any
    tenant_id: Any
    event_type: str
    attempts: int
    envelope: Envelope[Any] | None
    load_error: str | None = None
    waits: list[datetime] = field(default_factory=list)  # when a consumer still owed it can go on
    dead: list[str] = field(default_factory=list)  # errors of consumers that gave up on it
    retry_errors: list[str] = field(default_factory=list)
    max_attempts_seen: int = 0


@dataclass(slots=True)
class Delivery:
    """A delivery row as loaded or as it will be written."""

    event_id: Any
    consumer: str
    tenant_id: Any
    position: int
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    changed: bool = False

    def as_row(self, now: datetime) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "consumer": self.consumer,
            "tenant_id": self.tenant_id,
            "position": self.position,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "last_error": self.last_error,
            "updated_at": now,
        }


@dataclass(slots=True)
class Blocker:
    position: int
    next_attempt_at: datetime


class Relay:
    """Delivers the outbox to the consumers of ``registry``. ``run`` is the long-running loop;
    ``run_batch`` and ``run_until_idle`` do bounded work (the test kit and the CLI use them)."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        registry: ConsumerRegistry,
        *,
        writer: OutboxWriter,
        catalog: Catalog = CATALOG,
        config: RelayConfig | None = None,
        engine: AsyncEngine | None = None,
        lock_path: Path | None = None,
        name: str = "relay",
    ) -> None:
        registry.check(catalog)
        catalog.check()
        self._uows = uows
        self.registry = registry
        self._writer = writer
        self._catalog = catalog
        self.config = config or RelayConfig()
        self._engine = engine
        self._lock_path = lock_path
        self.name = name
        self._wake = asyncio.Event()
        self._dialect: str | None = None
        self.delivered = 0  # events handled by this relay (any outcome), for the worker's log line

    # ------------------------------------------------------------------------------------------ loop

    def wake(self) -> None:
        """Look for work now (new events were committed)."""
        self._wake.set()

    async def run_until_idle(self, *, max_rounds: int = 10_000) -> int:
        """Run rounds until no event is due; the number of events handled."""
        total = 0
        for _ in range(max_rounds):
            handled = await self.run_batch()
            if handled == 0:
                return total
            total += handled
        raise RuntimeError(f"the relay was still busy after {max_rounds} rounds")

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set: woken by commits in this process, by ``NOTIFY`` on PostgreSQL,
        and by a slow poll as the safety net (there is no busy loop)."""
        self._writer.add_listener(self.wake)
        listener: asyncio.Task[None] | None = None
        lock = _SingleRelayLock(self._lock_path) if self._lock_path else None
        started = False
        try:
            if lock is not None:
                standby_logged = False
                while not lock.acquire():
                    if not standby_logged:
                        log.info("relay_standby", reason="another relay holds the lock", lock=str(lock.path))
                        standby_logged = True
                    if await _wait(stop, None, self.config.poll_seconds * 5):
                        return
            if await self._is_postgres() and self._engine is not None:
                listener = asyncio.create_task(self._listen(stop), name=f"{self.name}-listen")
            log.info("relay_started", relay=self.name, consumers=sorted(c.name for c in self.registry))
            started = True
            await self._loop(stop)
        finally:
            self._writer.remove_listener(self.wake)
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
            if lock is not None:
                lock.release()
            await self.registry.close()
            if started:
                log.info("relay_stopped", relay=self.name, handled=self.delivered)

    async def _loop(self, stop: asyncio.Event) -> None:
        failures = 0
        observed_at = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            self._wake.clear()  # before the round: a commit during it wakes the next one
            try:
                handled = await self.run_batch()
                if loop.time() - observed_at > 5.0 or handled == 0:
                    next_due = await self.observe()
                    observed_at = loop.time()
                else:
                    next_due = None
            except Exception:
                failures += 1
                delay = backoff_seconds(failures, 0.5, 30.0)
                log.exception("relay_round_failed", relay=self.name, retry_in=round(delay, 2))
                if await _wait(stop, None, delay):
                    return
                continue
            failures = 0
            if handled:
                continue
            timeout = self.config.poll_seconds
            if next_due is not None:
                # Due now yet nothing claimed: another relay holds those tenants. Do not spin.
                until_due = max(CONTENDED_WAIT_SECONDS, (next_due - clock.now()).total_seconds())
                timeout = min(timeout, until_due)
            if await _wait(stop, self._wake, timeout):
                return

    async def _listen(self, stop: asyncio.Event) -> None:
        """``LISTEN`` on a connection of its own, reconnecting when it drops (the poll covers the gap)."""
        assert self._engine is not None
        while not stop.is_set():
            lost = asyncio.Event()
            try:
                async with self._engine.connect() as connection:
                    raw = await connection.get_raw_connection()
                    driver = raw.driver_connection
                    assert driver is not None

                    def notified(*_: object) -> None:
                        self._wake.set()

                    def terminated(*_: object, lost: asyncio.Event = lost) -> None:
                        lost.set()

                    driver.add_termination_listener(terminated)
                    await driver.add_listener(NOTIFY_CHANNEL, notified)
                    self._wake.set()  # catch up on what was committed while not listening
                    try:
                        await _wait(stop, lost, None)
                    finally:
                        if not driver.is_closed():
                            await driver.remove_listener(NOTIFY_CHANNEL, notified)
            except Exception:
                log.warning("relay_listen_failed", relay=self.name, exc_info=True)
            if await _wait(stop, None, self.config.poll_seconds):
                return

    async def observe(self) -> datetime | None:
        """Update the pending gauges; returns when the next pending event is due."""
        async with self._uows(TenantScope.all_tenants(), write=False) as uow:
            row = (
                await uow.session.execute(
                    select(
                        func.count(SysEvent.position),
                        func.min(SysEvent.occurred_at),
                        func.min(SysEvent.next_attempt_at),
                    ).where(SysEvent.status == EventStatus.PENDING)
                )
            ).one()
        count, oldest, next_due = row
        metrics.PENDING.set(count)
        metrics.PENDING_AGE.set((clock.now() - oldest).total_seconds() if oldest is not None else 0.0)
        return next_due

    # ----------------------------------------------------------------------------------------- round

    async def run_batch(self) -> int:
        """One round: claim, deliver, record. Returns the number of events claimed."""
        now = clock.now()
        if await self._is_postgres():
            # The claim's transaction (and its locks) lasts the whole round.
            async with self._uows(TenantScope.all_tenants()) as claim:
                events = await self._claim_postgres(claim.session, now)
                if not events:
                    return 0
                deliveries, blockers = await self._load_state(claim.session, events)
                await self._deliver(events, deliveries, blockers, now)
                await self._save(claim.session, events, deliveries, now)
        else:
            async with self._uows(TenantScope.all_tenants(), write=False) as claim:
                events = await self._claim_sqlite(claim.session, now)
                if not events:
                    return 0
                deliveries, blockers = await self._load_state(claim.session, events)
            await self._deliver(events, deliveries, blockers, now)
            async with self._uows(TenantScope.all_tenants()) as outcome:
                await self._save(outcome.session, events, deliveries, now)
        self.delivered += len(events)
        return len(events)

    async def _is_postgres(self) -> bool:
        if self._dialect is None:
            async with self._uows(TenantScope.all_tenants(), write=False) as uow:
                bind = uow.session.bind
                assert bind is not None
                self._dialect = bind.dialect.name
        return self._dialect == "postgresql"

    def _due(self, now: datetime) -> Any:
        return (SysEvent.status == EventStatus.PENDING) & (SysEvent.next_attempt_at <= now)

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

    async def _claim_postgres(self, session: AsyncSession, now: datetime) -> list[Claimed]:
        """Claim the oldest due events of tenants no other relay holds: lock the tenants of the next
        batch (skipping those whose lock another relay holds, as ``pg_locks`` shows), then their rows."""
        size = self.config.batch_size
        candidates = (
            (
                await session.execute(
                    _CANDIDATE_TENANTS, {"now": now, "size": size, "ns": RELAY_LOCK_NAMESPACE}
                )
            )
            .scalars()
            .all()
        )
        if not candidates:
            return []
        owned = (
            (await session.execute(_LOCK_TENANTS, {"tenants": list(candidates), "ns": RELAY_LOCK_NAMESPACE}))
            .scalars()
            .all()
        )
        if not owned:
            return []
        rows = await session.execute(
            select(*self._COLUMNS)
            .where(self._due(now), SysEvent.tenant_id.in_(owned))
            .order_by(SysEvent.position)
            .limit(size)
            .with_for_update(skip_locked=True)
        )
        return [self._claimed(row) for row in rows]

    async def _claim_sqlite(self, session: AsyncSession, now: datetime) -> list[Claimed]:
        rows = await session.execute(
            select(*self._COLUMNS)
            .where(self._due(now))
            .order_by(SysEvent.position)
            .limit(self.config.batch_size)
        )
        return [self._claimed(row) for row in rows]

    def _claimed(self, row: Any) -> Claimed:
        claimed = Claimed(
            position=row.position,
            id=row.id,
            tenant_id=row.tenant_id,
            event_type=row.event_type,
            attempts=row.attempts,
            envelope=None,
        )
        try:
            claimed.envelope = envelope_of(row, self._catalog)
        except Exception as exc:
            claimed.load_error = describe(exc)
        return claimed

    async def _load_state(
        self, session: AsyncSession, events: Sequence[Claimed]
    ) -> tuple[dict[tuple[Any, str], Delivery], dict[tuple[Any, str], Blocker]]:
        """The delivery rows of events that were tried before, and each consumer's oldest open retry
        in the batch's tenants (what holds that consumer's later events back)."""
        deliveries: dict[tuple[Any, str], Delivery] = {}
        retried = [e.id for e in events if e.attempts > 0]
        if retried:
            rows = await session.execute(select(EventDelivery).where(EventDelivery.event_id.in_(retried)))
            for d in rows.scalars():
                deliveries[(d.event_id, d.consumer)] = Delivery(
                    event_id=d.event_id,
                    consumer=d.consumer,
                    tenant_id=d.tenant_id,
                    position=d.position,
                    status=d.status,
                    attempts=d.attempts,
                    next_attempt_at=d.next_attempt_at,
                    last_error=d.last_error,
                )
        blockers: dict[tuple[Any, str], Blocker] = {}
        tenants = {e.tenant_id for e in events}
        rows_ = await session.execute(
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
        for tenant_id, consumer_name, position, next_at in rows_:
            blockers.setdefault((tenant_id, consumer_name), Blocker(position, next_at))
        return deliveries, blockers

    # -------------------------------------------------------------------------------------- delivery

    async def _deliver(
        self,
        events: Sequence[Claimed],
        deliveries: dict[tuple[Any, str], Delivery],
        blockers: dict[tuple[Any, str], Blocker],
        now: datetime,
    ) -> None:
        for item in self.registry:
            by_tenant: dict[Any, list[Claimed]] = defaultdict(list)
            for event in events:
                if event.envelope is not None and event.event_type in item.event_types:
                    by_tenant[event.tenant_id].append(event)
            for tenant_id, mine in by_tenant.items():
                due = self._select_due(item, tenant_id, mine, deliveries, blockers, now)
                if due:
                    await self._apply(item, tenant_id, due, deliveries, blockers, now)

    def _select_due(
        self,
        item: Consumer,
        tenant_id: Any,
        events: Sequence[Claimed],
        deliveries: dict[tuple[Any, str], Delivery],
        blockers: dict[tuple[Any, str], Blocker],
        now: datetime,
    ) -> list[Claimed]:
        """The events of one tenant to hand to ``item`` now, in order; marks the ones that must wait."""
        due: list[Claimed] = []
        key = (tenant_id, item.name)
        for index, event in enumerate(events):
            delivery = deliveries.get((event.id, item.name))
            if delivery is not None and delivery.status != DeliveryStatus.PENDING:
                if delivery.status == DeliveryStatus.FAILED:
                    event.dead.append(f"{item.name}: {delivery.last_error}")
                continue
            blocker = blockers.get(key)
            if blocker is not None and blocker.position == event.position:
                if delivery is not None and delivery.next_attempt_at > now:
                    self._hold(events[index:], blocker.next_attempt_at)
                    return due
                # Its retry is due: try it, and the later events after it (optimistically).
                del blockers[key]
            elif blocker is not None and blocker.position < event.position:
                self._hold(events[index:], blocker.next_attempt_at)
                return due
            due.append(event)
        return due

    @staticmethod
    def _hold(events: Sequence[Claimed], until: datetime) -> None:
        for event in events:
            event.waits.append(until)

    async def _apply(
        self,
        item: Consumer,
        tenant_id: Any,
        events: list[Claimed],
        deliveries: dict[tuple[Any, str], Delivery],
        blockers: dict[tuple[Any, str], Blocker],
        now: datetime,
    ) -> None:
        try:
            await self._apply_in_one_transaction(item, tenant_id, events, now)
        except Exception as exc:
            if len(events) == 1:
                self._failed(item, events[0], exc, deliveries, blockers, now)
                return
            log.info("relay_batch_failed", consumer=item.name, events=len(events), error=describe(exc))
        else:
            for event in events:
                self._succeeded(item, event, deliveries)
            return
        # One by one, to deliver what can be and to pin the failure on its event.
        for index, event in enumerate(events):
            try:
                await self._apply_in_one_transaction(item, tenant_id, [event], now)
            except Exception as exc:
                if self._failed(item, event, exc, deliveries, blockers, now):
                    blocker = blockers[(tenant_id, item.name)]
                    self._hold(events[index + 1 :], blocker.next_attempt_at)
                    return
            else:
                self._succeeded(item, event, deliveries)

    async def _apply_in_one_transaction(
        self, item: Consumer, tenant_id: Any, events: Sequence[Claimed], now: datetime
    ) -> None:
        async with self._uows(TenantScope.of(tenant_id)) as uow:
            fresh = await _mark_processed(uow.session, item.name, [e.id for e in events], now)
            for event in events:
                if event.id in fresh:
                    assert event.envelope is not None
                    with caused_by(event.envelope):
                        await item.handler(event.envelope, uow)
        metrics.EVENTS_DELIVERED.labels(item.name).inc(len(fresh))

    def _succeeded(self, item: Consumer, event: Claimed, deliveries: dict[tuple[Any, str], Delivery]) -> None:
        delivery = deliveries.get((event.id, item.name))
        if delivery is not None:
            delivery.status = DeliveryStatus.DONE
            delivery.changed = True

    def _failed(
        self,
        item: Consumer,
        event: Claimed,
        error: BaseException,
        deliveries: dict[tuple[Any, str], Delivery],
        blockers: dict[tuple[Any, str], Blocker],
        now: datetime,
    ) -> bool:
        """Record a failed delivery; True when it will be retried (and so holds later events back)."""
        message = describe(error)
        delivery = deliveries.get((event.id, item.name))
        if delivery is None:
            delivery = deliveries[(event.id, item.name)] = Delivery(
                event_id=event.id,
                consumer=item.name,
                tenant_id=event.tenant_id,
                position=event.position,
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                last_error=None,
            )
        delivery.attempts += 1
        delivery.last_error = message
        delivery.changed = True
        event.max_attempts_seen = max(event.max_attempts_seen, delivery.attempts)
        if delivery.attempts >= self.config.max_attempts:
            delivery.status = DeliveryStatus.FAILED
            event.dead.append(f"{item.name}: {message}")
            metrics.EVENTS_DEAD_LETTERED.labels(item.name).inc()
            log.error(
                "event_dead_lettered",
                consumer=item.name,
                event_id=str(event.id),
                event_type=event.event_type,
                attempts=delivery.attempts,
                error=message,
            )
            return False
        delay = backoff_seconds(
            delivery.attempts, self.config.retry_base_seconds, self.config.retry_max_seconds
        )
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        event.waits.append(delivery.next_attempt_at)
        event.retry_errors.append(f"{item.name}: {message}")
        blockers[(event.tenant_id, item.name)] = Blocker(event.position, delivery.next_attempt_at)
        metrics.EVENTS_RETRIED.labels(item.name).inc()
        log.warning(
            "event_delivery_failed",
            consumer=item.name,
            event_id=str(event.id),
            event_type=event.event_type,
            attempts=delivery.attempts,
            retry_in=round(delay, 3),
            error=message,
        )
        return True

    # ---------------------------------------------------------------------------------------- replay

    async def replay(
        self,
        consumer_name: str,
        *,
        first: int | None = None,
        last: int | None = None,
        tenant_id: Any = None,
    ) -> int:
        """Deliver the events at positions ``first``..``last`` (inclusive; open ends are allowed) of the
        consumer's types to that consumer again, in order, whatever their status and whether or not it has
        applied them: a read model rebuilt from history. Each tenant's part of a batch is applied in one
        transaction with the consumer's record of it. Stops at the first failure (raises `ReplayFailed`),
        with everything before it applied. Returns the number of events replayed."""
        item = self.registry.get(consumer_name)
        types = sorted(item.event_types)
        replayed = 0
        start = first
        while True:
            async with self._uows(TenantScope.all_tenants(), write=False) as uow:
                statement = select(*self._COLUMNS).where(SysEvent.event_type.in_(types))
                if start is not None:
                    statement = statement.where(SysEvent.position >= start)
                if last is not None:
                    statement = statement.where(SysEvent.position <= last)
                if tenant_id is not None:
                    statement = statement.where(SysEvent.tenant_id == tenant_id)
                rows = await uow.session.execute(
                    statement.order_by(SysEvent.position).limit(self.config.batch_size)
                )
                events = [self._claimed(row) for row in rows]
            if not events:
                return replayed
            by_tenant: dict[Any, list[Claimed]] = defaultdict(list)
            for event in events:
                if event.load_error is not None:
                    raise ReplayFailed(event.id, replayed, event.load_error)
                by_tenant[event.tenant_id].append(event)
            now = clock.now()
            for tenant, group in by_tenant.items():
                try:
                    async with self._uows(TenantScope.of(tenant)) as uow:
                        await EventRepository(uow.session).forget(item.name, [e.id for e in group])
                        await _mark_processed(uow.session, item.name, [e.id for e in group], now)
                        for event in group:
                            assert event.envelope is not None
                            with caused_by(event.envelope):
                                await item.handler(event.envelope, uow)
                except Exception as exc:
                    raise ReplayFailed(group[0].id, replayed, describe(exc)) from exc
            replayed += len(events)
            start = events[-1].position + 1

    # --------------------------------------------------------------------------------------- outcome

    async def _save(
        self,
        session: AsyncSession,
        events: Sequence[Claimed],
        deliveries: dict[tuple[Any, str], Delivery],
        now: datetime,
    ) -> None:
        dispatched: list[int] = []
        others: list[dict[str, Any]] = []
        for event in events:
            if event.load_error is not None:
                others.append(_outcome(event, EventStatus.FAILED, event.attempts + 1, now, event.load_error))
            elif event.waits:
                error = event.retry_errors[-1] if event.retry_errors else None
                attempts = max(event.attempts, event.max_attempts_seen)
                others.append(_outcome(event, EventStatus.PENDING, attempts, min(event.waits), error))
            elif event.dead:
                attempts = max(event.attempts, event.max_attempts_seen)
                others.append(_outcome(event, EventStatus.FAILED, attempts, now, event.dead[-1]))
            else:
                dispatched.append(event.position)
        if dispatched:
            await session.execute(
                update(SysEvent)
                .where(SysEvent.position.in_(dispatched))
                .values(status=EventStatus.DISPATCHED, dispatched_at=now)
                .execution_options(synchronize_session=False)
            )
        if others:
            await session.execute(update(SysEvent), others)
        changed = [d.as_row(now) for d in deliveries.values() if d.changed]
        if changed:
            await _upsert_deliveries(session, changed)


def _outcome(
    event: Claimed, status: EventStatus, attempts: int, next_attempt_at: datetime, error: str | None
) -> dict[str, Any]:
    return {
        "position": event.position,
        "status": status.value,
        "attempts": attempts,
        "next_attempt_at": next_attempt_at,
        "last_error": error,
    }


_PROCESSED = cast(Table, ProcessedEvent.__table__)


def _insert(session: AsyncSession) -> Any:
    bind = session.bind
    assert bind is not None
    return postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert


async def _mark_processed(
    session: AsyncSession, consumer_name: str, event_ids: Sequence[Any], now: datetime
) -> set[Any]:
    """Record that ``consumer_name`` applies these events; the ids it had not applied before.

    A concurrent transaction recording the same id makes this one wait for it (the primary key) and then
    skip the id, so two deliveries of an event can never both apply it."""
    if not event_ids:
        return set()
    # One statement, compiled once and cached, executed over the rows (SQLAlchemy's "insertmanyvalues"
    # sends them as multi-row INSERTs). A literal multi-row .values([...]) is compiled afresh on every call:
    # tens of milliseconds for a batch of a few hundred events.
    insert = _insert(session)
    statement = insert(_PROCESSED).on_conflict_do_nothing().returning(_PROCESSED.c.event_id)
    rows = [{"consumer": consumer_name, "event_id": i, "processed_at": now} for i in event_ids]
    return set((await session.execute(statement, rows)).scalars())


async def _upsert_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    insert = _insert(session)
    statement = insert(EventDelivery).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=[EventDelivery.event_id, EventDelivery.consumer],
        set_={
            name: statement.excluded[name]
            for name in ("status", "attempts", "next_attempt_at", "last_error", "updated_at")
        },
    )
    await session.execute(statement)


async def _wait(stop: asyncio.Event, other: asyncio.Event | None, seconds: float | None) -> bool:
    """Wait for ``stop``, ``other`` or ``seconds``; True when stopping."""
    waiters = [asyncio.ensure_future(stop.wait())]
    if other is not None:
        waiters.append(asyncio.ensure_future(other.wait()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
    return stop.is_set()


class _SingleRelayLock:
    """An exclusive lock on a file beside the SQLite database, so one relay runs per database: the other
    processes (``serve --workers N``, a stray ``worker``) stand by. The OS releases it if the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
