"""The relay's loop: `Relay` runs rounds (claim, deliver, record the outcome; see `rustok.outbox.relay`),
sleeps until a commit, a ``NOTIFY`` or a retry's due time wakes it, and on SQLite makes sure that one
relay runs per database. It takes its SQL from `RelayRepository` and its decisions from `Round`."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy.ext.asyncio import AsyncEngine

from rustok.core import clock
from rustok.core.events import CATALOG, Catalog, caused_by
from rustok.core.logging import get_logger
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWorkFactory
from rustok.outbox import metrics
from rustok.outbox.registry import Consumer, ConsumerRegistry
from rustok.outbox.relay.config import RelayConfig
from rustok.outbox.relay.repository import RelayRepository
from rustok.outbox.relay.round import Batch, Claimed, Failure, Round, backoff_seconds, describe
from rustok.outbox.writer import NOTIFY_CHANNEL, OutboxWriter

log = get_logger("rustok.relay")

# When events are due but another relay holds all their tenants, look again after this long.
CONTENDED_WAIT_SECONDS = 0.1


class ReplayFailed(RuntimeError):
    def __init__(self, event_id: uuid.UUID, replayed: int, error: str) -> None:
        super().__init__(f"replay stopped at event {event_id} after {replayed} events: {error}")
        self.event_id = event_id
        self.replayed = replayed
        self.error = error


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
            pending = await RelayRepository(uow.session, self._catalog).pending()
        metrics.PENDING.set(pending.count)
        oldest = pending.oldest
        metrics.PENDING_AGE.set((clock.now() - oldest).total_seconds() if oldest is not None else 0.0)
        return pending.next_due

    # ----------------------------------------------------------------------------------------- round

    async def run_batch(self) -> int:
        """One round: claim, deliver, record. Returns the number of events claimed."""
        now = clock.now()
        size = self.config.batch_size
        if await self._is_postgres():
            # The claim's transaction (and its locks) lasts the whole round.
            async with self._uows(TenantScope.all_tenants()) as claim:
                repository = RelayRepository(claim.session, self._catalog)
                events = await repository.claim_postgres(now, size)
                if not events:
                    return 0
                round_ = await self._start(repository, events, now)
                await self._deliver(round_)
                await repository.save(round_.outcome(), now)
        else:
            async with self._uows(TenantScope.all_tenants(), write=False) as claim:
                repository = RelayRepository(claim.session, self._catalog)
                events = await repository.claim_sqlite(now, size)
                if not events:
                    return 0
                round_ = await self._start(repository, events, now)
            await self._deliver(round_)
            async with self._uows(TenantScope.all_tenants()) as outcome:
                await RelayRepository(outcome.session, self._catalog).save(round_.outcome(), now)
        self.delivered += len(events)
        return len(events)

    async def _start(self, repository: RelayRepository, events: Sequence[Claimed], now: datetime) -> Round:
        deliveries, open_retries = await repository.delivery_state(events)
        return Round(events, deliveries, open_retries, now=now, config=self.config)

    async def _is_postgres(self) -> bool:
        if self._dialect is None:
            async with self._uows(TenantScope.all_tenants(), write=False) as uow:
                self._dialect = RelayRepository(uow.session, self._catalog).dialect
        return self._dialect == "postgresql"

    # -------------------------------------------------------------------------------------- delivery

    async def _deliver(self, round_: Round) -> None:
        for item in self.registry:
            for batch in round_.due(item.name, item.event_types):
                await self._apply(item, batch, round_)

    async def _apply(self, item: Consumer, batch: Batch, round_: Round) -> None:
        """Apply ``batch`` in one transaction; when that fails, one event at a time, to apply what can be
        and to pin the failure on its event (whose retry then holds the rest of the batch back)."""
        events = batch.events
        try:
            applied = await self._apply_in_one_transaction(item, batch.tenant_id, events, round_.now)
        except Exception as exc:
            if len(events) == 1:
                self._failed(round_, item, events[0], exc)
                return
            log.info("relay_batch_failed", consumer=item.name, events=len(events), error=describe(exc))
        else:
            metrics.EVENTS_DELIVERED.labels(item.name).inc(applied)
            for event in events:
                round_.succeeded(item.name, event)
            return
        for index, event in enumerate(events):
            try:
                applied = await self._apply_in_one_transaction(item, batch.tenant_id, [event], round_.now)
            except Exception as exc:
                failure = self._failed(round_, item, event, exc)
                if not failure.dead:
                    round_.hold(failure, events[index + 1 :])
                    return
            else:
                metrics.EVENTS_DELIVERED.labels(item.name).inc(applied)
                round_.succeeded(item.name, event)

    async def _apply_in_one_transaction(
        self,
        item: Consumer,
        tenant_id: uuid.UUID,
        events: Sequence[Claimed],
        now: datetime,
        *,
        forget: bool = False,
    ) -> int:
        """Deliver one tenant's ``events``, in order, to ``item``, in one unit of work scoped to that tenant:
        record them as processed by it and run its handler on those it had not applied before, all in one
        transaction. With ``forget`` (replay), its record of them is dropped first, so every one runs again.
        Returns the number of events the handler ran on."""
        ids = [e.id for e in events]
        async with self._uows(TenantScope.of(tenant_id)) as uow:
            repository = RelayRepository(uow.session, self._catalog)
            if forget:
                await repository.forget(item.name, ids)
            fresh = await repository.mark_processed(item.name, ids, now)
            for event in events:
                if event.id in fresh:
                    assert event.envelope is not None
                    with caused_by(event.envelope):
                        await item.handler(event.envelope, uow)
        return len(fresh)

    def _failed(self, round_: Round, item: Consumer, event: Claimed, error: Exception) -> Failure:
        failure = round_.failed(item.name, event, error)
        attempts = failure.delivery.attempts
        if failure.retry_in is None:
            metrics.EVENTS_DEAD_LETTERED.labels(item.name).inc()
            log.error(
                "event_dead_lettered",
                consumer=item.name,
                event_id=str(event.id),
                event_type=event.event_type,
                attempts=attempts,
                error=failure.error,
            )
        else:
            metrics.EVENTS_RETRIED.labels(item.name).inc()
            log.warning(
                "event_delivery_failed",
                consumer=item.name,
                event_id=str(event.id),
                event_type=event.event_type,
                attempts=attempts,
                retry_in=round(failure.retry_in, 3),
                error=failure.error,
            )
        return failure

    # ---------------------------------------------------------------------------------------- replay

    async def replay(
        self,
        consumer_name: str,
        *,
        first: int | None = None,
        last: int | None = None,
        tenant_id: uuid.UUID | None = None,
    ) -> int:
        """Deliver the events at positions ``first``..``last`` (inclusive; open ends are allowed) of the
        consumer's types to that consumer again, in order, whatever their status and whether or not it has
        applied them: a read model rebuilt from history. Each tenant's part of a batch is applied in one
        transaction with the consumer's record of it, as a round delivers it. Stops at the first failure
        (raises `ReplayFailed`), with everything before it applied. Returns the number of events replayed."""
        item = self.registry.get(consumer_name)
        types = sorted(item.event_types)
        replayed = 0
        start = first
        while True:
            async with self._uows(TenantScope.all_tenants(), write=False) as uow:
                events = await RelayRepository(uow.session, self._catalog).replay_range(
                    types, first=start, last=last, tenant_id=tenant_id, size=self.config.batch_size
                )
            if not events:
                return replayed
            by_tenant: dict[uuid.UUID, list[Claimed]] = {}
            for event in events:
                if event.load_error is not None:
                    raise ReplayFailed(event.id, replayed, event.load_error)
                by_tenant.setdefault(event.tenant_id, []).append(event)
            now = clock.now()
            for tenant, group in by_tenant.items():
                try:
                    await self._apply_in_one_transaction(item, tenant, group, now, forget=True)
                except Exception as exc:
                    raise ReplayFailed(group[0].id, replayed, describe(exc)) from exc
            replayed += len(events)
            start = events[-1].position + 1


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
