"""Outbox benchmark: what the transactional outbox costs and how fast the relay delivers, on SQLite and
PostgreSQL.

Run it (PostgreSQL from ``RUSTOK_TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``;
the bench creates a database ``rustok_bench_<hex>`` on that server and drops it at the end)::

    .venv/bin/python -m bench.outbox [--backend sqlite|postgresql|all] [--events N] [--rate R] [--seconds S]

Each backend gets a fresh database (SQLite: a temporary file), migrated with ``upgrade_async``, plus
bench-only tables: ``bench_effects`` (what the consumer writes), ``bench_nodes``, ``bench_texts`` and
``bench_bodies`` (the business rows of the emit-cost writes) and ``bench_events_ceiling`` (the columns, keys
and indexes of ``sys_events``, without its triggers). One consumer, ``bench.effect``, handles
``node.created``: it INSERTs one row per event into ``bench_effects`` inside the unit of work the relay
gives it, and an ``after_commit`` hook of that unit of work stamps ``time.perf_counter()`` on each of its
events: the moment the effect is durable. One relay, ``RelayConfig(batch_size=500)``, in the bench's process
and event loop.

Figures:

- **Throughput, drain**: N events (``--events``, default 20,000) are committed first, 100 per unit of work
  over 10 tenants, with no relay running (printed as the writer's rate); the database is ANALYZEd (as
  autovacuum would keep it on a live system); then one relay drains the backlog (``run_until_idle``).
  Events/s from the start of the drain to the last effect's commit. Then the same again (10,000 events at
  most) with the consumer batching: its handler keeps the row, and a ``before_commit`` hook INSERTs all the
  unit of work's rows in one executemany (same transaction, same effect): the relay with a cheap effect.
- **Throughput, end-to-end**: the same N events committed by a producer (same units of work) while the relay
  runs (``Relay.run``, woken by commits). Events/s from the start of the first commit to the last effect's
  commit. The producer shares the process, the event loop and so one CPU core (the GIL) with the relay.
- **Insert ceiling**: the same number of equal rows (built with ``event_row`` from envelopes like the
  writer's, before the clock starts) INSERTed into ``bench_events_ceiling``, 100 per transaction, by one
  connection of the same engine and driver, as fast as it goes. Rows/s, and each throughput as a share of it.
- **Consumer effect alone**: the consumer's single-row INSERTs (3,000 at most), 100 per unit of work, with
  no relay: the per-event consumer cannot go faster than this under any relay.
- **Lag**: the relay runs (``Relay.run``: woken in-process through the shared ``OutboxWriter`` listener, and
  by ``NOTIFY`` on PostgreSQL) while a producer commits one event per unit of work at a fixed offered rate
  (``--rate``, default 1,000/s) on a schedule (``next += 1/rate``; a late producer sends at once to catch
  up, never skips), open loop: each unit of work is a task of its own, at most 8 committing at once (as
  concurrent requests would). The first 0.5 s is warm-up; then it sends for ``--seconds`` (default 10) and
  stops, whatever it managed. Lag of an event = its effect's commit time minus the time its producer's
  commit returned. The achieved offered rate and the producer's commit latency are printed: if the producer
  could not keep the rate, the output says so. A light reference run (100/s for 2 s) follows: the relay's
  latency when nothing is saturated.
- **Emit cost**: a unit of work that writes and commits, without and with ``uow.record(NodeCreated(...))``,
  2,000 of each, alternated in chunks of 50 to cancel drift, for two writes: the minimal one (one ORM row in
  ``bench_nodes``: BEGIN, INSERT, COMMIT, to which the event adds a fourth statement) and a content-like one
  (a node with a title and a body in two locales, ``bench_texts`` and ``bench_bodies``: three INSERTs, as the
  content module will write a node). Mean and p50 microseconds per write, the difference, and the extra as a
  percentage (``with / without - 1``).

PASS/FAIL marks are against the issue's PostgreSQL targets (one worker): throughput >= 5,000 events/s and
>= 50% of the insert ceiling; lag p99 < 100 ms at 1,000 events/s; emitting adds <= 15% to a write. SQLite
figures are printed without marks. SQLite has one writer at a time: there the producer and the relay queue
for the same write lock (``BEGIN IMMEDIATE`` on the busy timeout), which shows in the lag and the producer's
commit latency. The lag target counts as met only if the producer also kept 95% of the offered rate.

Absolute figures are the machine's: the header prints the Python, SQLite and PostgreSQL versions, a crude
CPU probe and the load average (the bench shares the CPU with PostgreSQL and with anything else running).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import time
import timeit
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Column, Index, MetaData, String, Table, Uuid, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bench.common import (
    add_backend_arguments,
    chosen_backends,
    fresh_database,
    load_average,
    mean,
    percentile,
    print_machine,
)
from rustok.bootstrap import open_runtime
from rustok.content.events import NodeCreated
from rustok.core.events import Envelope
from rustok.core.ids import new_id
from rustok.core.logging import configure_logging
from rustok.core.models import NAMING_CONVENTION, Base, IdMixin, TenantMixin, TimestampMixin
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork, UnitOfWorkFactory
from rustok.migrations import upgrade_async
from rustok.outbox.models import SysEvent
from rustok.outbox.registry import ConsumerRegistry
from rustok.outbox.relay import Relay
from rustok.outbox.writer import event_row

BATCH = 100  # events per unit of work in the throughput runs, rows per transaction in the ceiling
RELAY_BATCH = 500
TENANTS = tuple(uuid.UUID(int=0x0190_0000_0000_7000_8000_0000_0000_0B00 + i) for i in range(10))
WARMUP_SECONDS = 0.5
LAG_IN_FLIGHT = 8  # producer units of work committing at once in the lag run
LAG_CATCH_UP_SECONDS = 30.0  # how long the relay may take to deliver what the lag run sent
REFERENCE_RATE = 100.0  # a second, light lag run: the relay's latency when nothing is saturated
REFERENCE_SECONDS = 2.0
EMIT_WRITES = 2_000
EMIT_CHUNK = 50
WAIT_LIMIT_SECONDS = 180.0
EFFECT_SAMPLE = 3_000  # effects timed alone, to split the relay's time from the consumer's
BATCHED_SAMPLE = 10_000  # events in the drain with the batching consumer

# PostgreSQL targets from the issue (one worker).
TARGET_THROUGHPUT = 5_000.0
TARGET_CEILING_SHARE = 0.50
TARGET_LAG_P99_MS = 100.0
TARGET_LAG_RATE = 1_000.0
TARGET_EMIT_EXTRA = 0.15


# ------------------------------------------------------------------------------------------ bench tables


class BenchBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = Base.type_annotation_map


class BenchNode(IdMixin, TimestampMixin, TenantMixin, BenchBase):
    """The business row of the emit-cost write: a small node."""

    __tablename__ = "bench_nodes"

    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))


class BenchText(IdMixin, TenantMixin, BenchBase):
    """A node's per-locale part in the content-like write (translations and bodies)."""

    __tablename__ = "bench_texts"

    node_id: Mapped[uuid.UUID]
    locale: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))


class BenchBody(IdMixin, TenantMixin, BenchBase):
    __tablename__ = "bench_bodies"

    node_id: Mapped[uuid.UUID]
    locale: Mapped[str] = mapped_column(String(16))
    body: Mapped[str]


EFFECTS = Table(
    "bench_effects",
    BenchBase.metadata,
    Column("event_id", Uuid(), primary_key=True),
    Column("tenant_id", Uuid(), nullable=False),
    Column("node_id", Uuid(), nullable=False),
    Column("kind", String(64), nullable=False),
)

_SYS_EVENTS = cast(Table, SysEvent.__table__)
# sys_events' columns, primary key, unique id and indexes; no triggers, so no lock, sequence draw or NOTIFY
# beyond the plain auto-increment.
CEILING = Table(
    "bench_events_ceiling",
    BenchBase.metadata,
    *(column._copy() for column in _SYS_EVENTS.columns),
    Index("ix_bench_ceiling_type_version", "event_type", "schema_version"),
    Index("ix_bench_ceiling_tenant_position", "tenant_id", "position"),
    Index(
        "ix_bench_ceiling_pending",
        "position",
        postgresql_where=text("status = 'pending'"),
        sqlite_where=text("status = 'pending'"),
    ),
    sqlite_autoincrement=True,
)


# ------------------------------------------------------------------------------------------- the consumer


async def apply_effect(
    uow: UnitOfWork, event_id: uuid.UUID, tenant_id: uuid.UUID, node_id: uuid.UUID, kind: str
) -> None:
    """The consumer's effect: one INSERT, in the unit of work it is given."""
    await uow.session.execute(
        insert(EFFECTS).values(event_id=event_id, tenant_id=tenant_id, node_id=node_id, kind=kind)
    )


class Effects:
    """The bench consumer's effect, and when each event's effect committed (``perf_counter``)."""

    def __init__(self) -> None:
        self.times: dict[uuid.UUID, float] = {}
        self.expected = 0
        self.done = asyncio.Event()
        # False: one INSERT per event, as the handler runs. True: the handler keeps the row and one
        # executemany INSERTs all of a unit of work's rows in a before_commit hook (same transaction).
        self.batched = False
        self._open: dict[UnitOfWork, list[uuid.UUID]] = {}
        self._rows: dict[UnitOfWork, list[dict[str, Any]]] = {}

    def expect(self, count: int) -> None:
        """Start counting afresh; ``done`` is set once ``count`` effects committed (never, for 0)."""
        self.times = {}
        self.expected = count
        self.done.clear()

    def expect_total(self, count: int) -> None:
        """Set the count to wait for once it is known (the effects so far are kept)."""
        self.expected = count
        if len(self.times) >= count:
            self.done.set()

    async def handle(self, event: Envelope[Any], uow: UnitOfWork) -> None:
        payload = event.payload
        if self.batched:
            rows = self._rows.get(uow)
            if rows is None:
                rows = self._rows[uow] = []
                uow.before_commit(self._insert_rows)
            rows.append(
                {
                    "event_id": event.id,
                    "tenant_id": event.tenant_id,
                    "node_id": payload.node_id,
                    "kind": payload.kind,
                }
            )
        else:
            await apply_effect(uow, event.id, event.tenant_id, payload.node_id, payload.kind)
        ids = self._open.get(uow)
        if ids is None:
            ids = self._open[uow] = []
            uow.after_commit(self._committed)
        ids.append(event.id)

    async def _insert_rows(self, uow: UnitOfWork) -> None:
        rows = self._rows.pop(uow, [])
        if rows:
            await uow.session.execute(insert(EFFECTS), rows)

    async def _committed(self, uow: UnitOfWork) -> None:
        now = time.perf_counter()
        for event_id in self._open.pop(uow, []):
            self.times[event_id] = now
        if self.expected and len(self.times) >= self.expected:
            self.done.set()

    async def wait(self, limit: float = WAIT_LIMIT_SECONDS) -> None:
        if self.done.is_set():
            return
        try:
            await asyncio.wait_for(self.done.wait(), limit)
        except TimeoutError:
            raise RuntimeError(
                f"only {len(self.times)} of {self.expected} effects after {limit:.0f} s"
            ) from None


# --------------------------------------------------------------------------------------------- figures


@dataclass(slots=True)
class Throughput:
    events: int
    writer_rate: float  # events/s committed by the producer alone (pre-fill)
    drain_rate: float  # events/s, relay only, over a pre-filled backlog
    batched_drain_rate: float  # the same, the consumer INSERTing a unit of work's effects at once
    e2e_rate: float  # events/s, producer and relay concurrent
    e2e_producer_rate: float  # events/s the producer committed during the concurrent run
    ceiling_rate: float  # rows/s of plain INSERTs of equal rows
    effect_rate: float  # effects/s of the consumer's INSERTs alone, 100 per unit of work


@dataclass(slots=True)
class Lag:
    rate: float
    seconds: float
    sent: int
    achieved_rate: float
    max_slip_ms: float  # how far behind its schedule the producer fell at worst
    commit_p50_ms: float
    commit_p99_ms: float
    lags_ms: list[float] = field(default_factory=list)
    missing: int = 0


@dataclass(slots=True)
class EmitCost:
    writes: int
    without_us: list[float]
    with_us: list[float]

    def overhead(self, stat: Callable[[Sequence[float]], float]) -> float:
        return stat(self.with_us) / stat(self.without_us) - 1.0


@dataclass(slots=True)
class BackendResult:
    backend: str
    version: str
    throughput: Throughput
    lag: Lag
    reference_lag: Lag
    emit: EmitCost
    emit_content: EmitCost
    load: str


# ------------------------------------------------------------------------------------------- databases


async def prepare(engine: AsyncEngine) -> str:
    """Migrate, create the bench tables; the server's version (and durability settings on PostgreSQL)."""
    await upgrade_async(engine)
    async with engine.begin() as connection:
        await connection.run_sync(BenchBase.metadata.create_all)
        if engine.dialect.name == "postgresql":
            version = (await connection.execute(text("SHOW server_version"))).scalar_one()
            sync = (await connection.execute(text("SHOW synchronous_commit"))).scalar_one()
            fsync = (await connection.execute(text("SHOW fsync"))).scalar_one()
            return f"PostgreSQL {version} (synchronous_commit={sync}, fsync={fsync})"
    return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL)"


# ------------------------------------------------------------------------------------------- producers


def _count_batches(events: int) -> list[int]:
    sizes = [BATCH] * (events // BATCH)
    if events % BATCH:
        sizes.append(events % BATCH)
    return sizes


async def produce_batches(uows: UnitOfWorkFactory, events: int) -> None:
    """Commit ``events`` node.created events, ``BATCH`` per unit of work, tenants in turn."""
    for index, size in enumerate(_count_batches(events)):
        tenant = TENANTS[index % len(TENANTS)]
        async with uows(TenantScope.of(tenant)) as uow:
            for _ in range(size):
                uow.record(NodeCreated(node_id=uuid.uuid4(), kind="post"))


@contextlib.asynccontextmanager
async def running(relay: Relay) -> AsyncIterator[None]:
    """``relay.run`` as a task for the block, stopped (its round finished) afterwards."""
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop), name="bench-relay")
    await asyncio.sleep(0.3)  # started: listening (PostgreSQL), first idle round done
    try:
        yield
    finally:
        stop.set()
        await task


# ---------------------------------------------------------------------------------------- measurements


async def measure_throughput(
    engine: AsyncEngine,
    uows: UnitOfWorkFactory,
    relay: Relay,
    effects: Effects,
    n: int,
) -> Throughput:
    # Drain: a backlog committed first, then one relay delivers it.
    started = time.perf_counter()
    await produce_batches(uows, n)
    writer_rate = n / (time.perf_counter() - started)
    async with engine.begin() as connection:  # fresh statistics, as autovacuum keeps them on a live system
        await connection.execute(text("ANALYZE"))
    effects.expect(n)
    started = time.perf_counter()
    await relay.run_until_idle()
    await effects.wait(0)  # all delivered by now
    drain_rate = n / (max(effects.times.values()) - started)

    # The same drain with the consumer's INSERTs batched per unit of work (before_commit).
    sample = min(n, BATCHED_SAMPLE)
    await produce_batches(uows, sample)
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
    effects.expect(sample)
    effects.batched = True
    try:
        started = time.perf_counter()
        await relay.run_until_idle()
        await effects.wait(0)
    finally:
        effects.batched = False
    batched_drain_rate = sample / (max(effects.times.values()) - started)

    # End to end: the producer commits while the relay runs.
    effects.expect(n)
    async with running(relay):
        started = time.perf_counter()
        await produce_batches(uows, n)
        produced = time.perf_counter()
        await effects.wait()
    e2e_rate = n / (max(effects.times.values()) - started)
    e2e_producer_rate = n / (produced - started)

    # Ceiling: equal rows, plain INSERTs into a table without triggers, same batch size and driver.
    batches: list[list[dict[str, Any]]] = []
    for index, size in enumerate(_count_batches(n)):
        tenant = TENANTS[index % len(TENANTS)]
        envelopes = [
            Envelope.new(NodeCreated(node_id=uuid.uuid4(), kind="post"), tenant) for _ in range(size)
        ]
        batches.append([event_row(e) for e in envelopes])
    statement = CEILING.insert()
    started = time.perf_counter()
    for rows in batches:
        async with engine.begin() as connection:
            await connection.execute(statement, rows)
    ceiling_rate = n / (time.perf_counter() - started)

    # The consumer's effect alone: its single-row INSERTs, 100 per unit of work, with no relay around them.
    sample = min(n, EFFECT_SAMPLE)
    started = time.perf_counter()
    for index, size in enumerate(_count_batches(sample)):
        tenant = TENANTS[index % len(TENANTS)]
        async with uows(TenantScope.of(tenant)) as uow:
            for _ in range(size):
                await apply_effect(uow, new_id(), tenant, uuid.uuid4(), "post")
    effect_rate = sample / (time.perf_counter() - started)
    return Throughput(
        n, writer_rate, drain_rate, batched_drain_rate, e2e_rate, e2e_producer_rate, ceiling_rate, effect_rate
    )


async def measure_lag(
    uows: UnitOfWorkFactory,
    relay: Relay,
    effects: Effects,
    rate: float,
    seconds: float,
) -> Lag:
    """Open loop: each unit of work starts on its schedule as a task of its own (as concurrent requests
    would), up to ``LAG_IN_FLIGHT`` at once. When that many are still committing the producer waits and
    falls behind its schedule; it stops after ``seconds`` (plus the warm-up) whatever it managed to send,
    so the achieved rate shows when it could not keep the offered one."""
    committed: dict[uuid.UUID, float] = {}
    commit_ms: list[float] = []
    in_flight = asyncio.Semaphore(LAG_IN_FLIGHT)
    tasks: set[asyncio.Task[None]] = set()

    async def send(index: int, counted: bool) -> None:
        try:
            began = time.perf_counter()
            tenant = TENANTS[index % len(TENANTS)]
            async with uows(TenantScope.of(tenant)) as uow:
                envelope = uow.record(NodeCreated(node_id=uuid.uuid4(), kind="post"))
            returned = time.perf_counter()
        finally:
            in_flight.release()
        if counted:
            committed[envelope.id] = returned
            commit_ms.append((returned - began) * 1000)

    max_slip = 0.0
    sent = counted_sent = 0
    effects.expect(0)
    async with running(relay):
        started = next_send = time.perf_counter()
        measuring_from = started + WARMUP_SECONDS
        stop_at = measuring_from + seconds
        first_send = last_send = measuring_from
        while True:
            now = time.perf_counter()
            if next_send > now:
                await asyncio.sleep(next_send - now)
            await in_flight.acquire()
            now = time.perf_counter()
            if now >= stop_at:
                in_flight.release()
                break
            counted = next_send >= measuring_from
            if counted:
                if not counted_sent:
                    first_send = now
                max_slip = max(max_slip, now - next_send)
                last_send = now
                counted_sent += 1
            task = asyncio.create_task(send(sent, counted))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
            next_send += 1.0 / rate
        await asyncio.gather(*tasks)
        effects.expect_total(sent)
        with contextlib.suppress(RuntimeError):
            await effects.wait(LAG_CATCH_UP_SECONDS)
    lags = [(effects.times[i] - at) * 1000 for i, at in committed.items() if i in effects.times]
    span = last_send - first_send
    return Lag(
        rate=rate,
        seconds=seconds,
        sent=counted_sent,
        achieved_rate=(counted_sent - 1) / span if span > 0 else float("nan"),
        max_slip_ms=max_slip * 1000,
        commit_p50_ms=percentile(commit_ms, 0.50),
        commit_p99_ms=percentile(commit_ms, 0.99),
        lags_ms=lags,
        missing=counted_sent - len(lags),
    )


async def _write(uows: UnitOfWorkFactory, tenant: uuid.UUID, emit: bool, content_like: bool) -> float:
    """One unit of work: a node row (the minimal write), or a node with a title and a body in two locales,
    as a content module creates one (three INSERT statements); with or without its node.created event."""
    began = time.perf_counter()
    async with uows(TenantScope.of(tenant)) as uow:
        node = BenchNode(id=new_id(), tenant_id=tenant, kind="post", title="A node of the benchmark")
        uow.session.add(node)
        if content_like:
            for locale in ("en", "de"):
                uow.session.add(BenchText(node_id=node.id, locale=locale, title="A node of the benchmark"))
                uow.session.add(BenchBody(node_id=node.id, locale=locale, body="Some *markdown* text. " * 20))
        if emit:
            uow.record(NodeCreated(node_id=node.id, kind=node.kind))
    return (time.perf_counter() - began) * 1e6


async def measure_emit_cost(uows: UnitOfWorkFactory, *, content_like: bool) -> EmitCost:
    for index in range(100):  # warm-up: connections, statement caches
        await _write(uows, TENANTS[index % len(TENANTS)], bool(index % 2), content_like)
    without: list[float] = []
    with_: list[float] = []
    index = 0
    for chunk in range(2 * EMIT_WRITES // EMIT_CHUNK):
        emit = chunk % 2 == 1
        target = with_ if emit else without
        for _ in range(EMIT_CHUNK):
            target.append(await _write(uows, TENANTS[index % len(TENANTS)], emit, content_like))
            index += 1
    return EmitCost(EMIT_WRITES, without, with_)


async def run_backend(backend: str, events: int, rate: float, seconds: float) -> BackendResult:
    async with fresh_database(backend) as url:
        effects = Effects()
        registry = ConsumerRegistry()
        registry.consumer("bench.effect", "node.created")(effects.handle)
        settings = Settings(_env_file=None, database_url=url, relay_batch_size=RELAY_BATCH)
        # One runtime: the producers' units of work and the relay share its engine and its outbox writer
        # (which tells the relay when events commit), as the app and its in-process relay do.
        async with open_runtime(settings, consumers=registry, redis=False) as runtime:
            engine, uows = runtime.engine, runtime.uow
            version = await prepare(engine)
            relay = runtime.relay(name="bench-relay")
            print(f"  {backend}: throughput ({events:,} events)...", flush=True)
            throughput = await measure_throughput(engine, uows, relay, effects, events)
            print(f"  {backend}: lag ({rate:,.0f}/s for {seconds:g} s)...", flush=True)
            lag = await measure_lag(uows, relay, effects, rate, seconds)
            print(f"  {backend}: lag, reference ({REFERENCE_RATE:,.0f}/s for {REFERENCE_SECONDS:g} s)...")
            reference = await measure_lag(uows, relay, effects, REFERENCE_RATE, REFERENCE_SECONDS)
            print(f"  {backend}: emit cost ({EMIT_WRITES:,} writes each way)...", flush=True)
            emit = await measure_emit_cost(uows, content_like=False)
            emit_content = await measure_emit_cost(uows, content_like=True)
    return BackendResult(backend, version, throughput, lag, reference, emit, emit_content, load_average())


# ---------------------------------------------------------------------------------------------- report


def _mark(ok: bool, judged: bool) -> str:
    if not judged:
        return ""
    return "PASS" if ok else "FAIL"


def _us(values: Sequence[float]) -> str:
    return f"{mean(values):,.0f} / {percentile(values, 0.5):,.0f} us"


def report(result: BackendResult) -> None:
    pg = result.backend == "postgresql"
    t, lag, emit = result.throughput, result.lag, result.emit
    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
        rows.append((name, value, target if pg else "", _mark(bool(ok), pg and ok is not None)))

    row("writer alone: 100 events/UoW, no relay", f"{t.writer_rate:,.0f} ev/s")
    row(
        f"throughput, drain of a {t.events:,} backlog (relay only)",
        f"{t.drain_rate:,.0f} ev/s",
        f">= {TARGET_THROUGHPUT:,.0f}",
        t.drain_rate >= TARGET_THROUGHPUT,
    )
    row(
        "  the same, consumer's INSERTs batched per UoW",
        f"{t.batched_drain_rate:,.0f} ev/s",
        f">= {TARGET_THROUGHPUT:,.0f}",
        t.batched_drain_rate >= TARGET_THROUGHPUT,
    )
    row(
        "throughput, end-to-end (producer + relay concurrent)",
        f"{t.e2e_rate:,.0f} ev/s",
        f">= {TARGET_THROUGHPUT:,.0f}",
        t.e2e_rate >= TARGET_THROUGHPUT,
    )
    row("  producer's commit rate during it", f"{t.e2e_producer_rate:,.0f} ev/s")
    row("insert ceiling: equal rows, plain INSERT", f"{t.ceiling_rate:,.0f} rows/s")
    row("consumer effect alone: 1 INSERT/event, no relay", f"{t.effect_rate:,.0f} ev/s")
    row(
        "drain / ceiling",
        f"{t.drain_rate / t.ceiling_rate:.0%}",
        f">= {TARGET_CEILING_SHARE:.0%}",
        t.drain_rate / t.ceiling_rate >= TARGET_CEILING_SHARE,
    )
    row(
        "batched drain / ceiling",
        f"{t.batched_drain_rate / t.ceiling_rate:.0%}",
        f">= {TARGET_CEILING_SHARE:.0%}",
        t.batched_drain_rate / t.ceiling_rate >= TARGET_CEILING_SHARE,
    )
    row(
        "end-to-end / ceiling",
        f"{t.e2e_rate / t.ceiling_rate:.0%}",
        f">= {TARGET_CEILING_SHARE:.0%}",
        t.e2e_rate / t.ceiling_rate >= TARGET_CEILING_SHARE,
    )
    for run, judged in ((lag, True), (result.reference_lag, False)):
        kept = run.achieved_rate >= 0.95 * run.rate
        title = "lag" if judged else "lag, light reference run"
        row(
            f"{title}: offered {run.rate:,.0f}/s for {run.seconds:g} s, achieved",
            f"{run.achieved_rate:,.0f}/s ({run.sent:,} events)"
            + ("" if kept else ": the producer could NOT keep the rate"),
            f">= {TARGET_LAG_RATE * 0.95:,.0f}/s" if judged else "",
            run.achieved_rate >= 0.95 * TARGET_LAG_RATE if judged else None,
        )
        row("  producer fell behind its schedule by at most", f"{run.max_slip_ms:,.1f} ms")
        row("  producer commit latency p50 / p99", f"{run.commit_p50_ms:.2f} / {run.commit_p99_ms:.2f} ms")
        p99 = percentile(run.lags_ms, 0.99)
        row(
            "  lag p50 / p95 / p99 / max",
            f"{percentile(run.lags_ms, 0.50):,.1f} / {percentile(run.lags_ms, 0.95):,.1f} / {p99:,.1f} / "
            f"{max(run.lags_ms, default=float('nan')):,.1f} ms",
            f"p99 < {TARGET_LAG_P99_MS:.0f} ms" if judged else "",
            p99 < TARGET_LAG_P99_MS and kept and run.rate >= TARGET_LAG_RATE if judged else None,
        )
        if run.missing:
            row(f"  events with no effect {LAG_CATCH_UP_SECONDS:.0f} s after the run", f"{run.missing:,}")
    for cost, what in (
        (emit, "minimal write (1 row, 1 INSERT)"),
        (result.emit_content, "content-like write (node + 2 locales, 3 INSERTs)"),
    ):
        row(f"{what}, without event: mean / p50", _us(cost.without_us))
        row("  with its event: mean / p50", _us(cost.with_us))
        row(
            "  difference: mean / p50",
            f"{mean(cost.with_us) - mean(cost.without_us):+,.0f} / "
            f"{percentile(cost.with_us, 0.5) - percentile(cost.without_us, 0.5):+,.0f} us",
        )
        extra_mean = cost.overhead(mean)
        row(
            "  emit cost: extra per write, mean / p50",
            f"{extra_mean:+.1%} / {cost.overhead(lambda v: percentile(v, 0.5)):+.1%}",
            f"<= +{TARGET_EMIT_EXTRA:.0%}",
            extra_mean <= TARGET_EMIT_EXTRA,
        )

    print()
    print(f"== {result.version} ==  (load average during the run: {result.load})")
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("figure", "value", "target" if pg else "", "")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for line in (header, *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    if not pg:
        print(
            "note: SQLite has one writer at a time; the producer and the relay queue for the write lock "
            "(BEGIN IMMEDIATE on the busy timeout), and the producer shares the event loop with the relay."
        )


def python_speed_us() -> float:
    """A crude CPU probe: microseconds for ``sum(range(1000))``, best of 5 (lower is faster)."""
    return min(timeit.repeat("sum(range(1000))", number=1000, repeat=5)) * 1000


def machine_facts(backends: Sequence[str]) -> None:
    print_machine(
        "outbox benchmark",
        [("SQLAlchemy", "sqlalchemy"), ("aiosqlite", "aiosqlite"), ("asyncpg", "asyncpg")],
        cpu_notes=[
            f"CPU probe: sum(range(1000)) takes {python_speed_us():.1f} us in this Python (lower is faster)"
        ],
        backends=backends,
    )
    print(
        f"  one relay (batch_size={RELAY_BATCH}), one consumer (an INSERT per event), {len(TENANTS)} "
        f"tenants, producer and relay in this process"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox", description=__doc__.split("\n\n")[0])
    add_backend_arguments(parser, every="all", postgres_url=False)
    parser.add_argument("--events", type=int, default=20_000, help="events per throughput run")
    parser.add_argument("--rate", type=float, default=1_000.0, help="offered rate of the lag run, events/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the lag run")
    return parser.parse_args(argv)


async def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    configure_logging("console", "WARNING")
    backends = chosen_backends(args.backend)
    machine_facts(backends)
    for backend in backends:
        report(await run_backend(backend, args.events, args.rate, args.seconds))


if __name__ == "__main__":
    asyncio.run(main())
