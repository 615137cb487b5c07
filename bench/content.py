"""Content benchmark: what creating and reading a node costs through the real app, beside the app's bare
endpoints measured in the same run, on SQLite and PostgreSQL.

Run it (PostgreSQL: ``--postgres-url``, default ``RUSTOK_TEST_POSTGRES_URL`` or
``postgresql://postgres@127.0.0.1:5432/test``; the bench creates a database ``rustok_bench_<hex>`` on that
server and drops it at the end)::

    .venv/bin/python -m bench.content [--backend sqlite|postgresql|both] [--requests N] [--concurrency C]
                                      [--postgres-url URL]

Each backend gets a fresh database (SQLite: a temporary file), migrated with ``upgrade_async``, one tenant
(``new_tenant``) with the ``de`` locale enabled beside its default ``en`` (``enable_locale``), and a manager
signed in through ``POST /api/auth/login`` (``sign_in_as``). The app is the real one (``create_app``: its
middleware, tenant cache and routers), started by ``app_client`` (its lifespan) and
called in process over ASGI by httpx, as the other benches and the tests call it. Settings as the other
benches: no Redis, no default tenant, no subdomains, ``relay_in_process=False``: every write commits its
events to the outbox (``sys_events``) in its own transaction, as the app always does, but nothing delivers
them during the run, so no relay competes for the CPU or the database.

Series (each sent with ``X-Tenant-ID: <tenant id>``):

- **create**: ``POST /api/content/nodes`` as the manager (``Authorization: Bearer``): a post with two
  translations (``en`` and ``de``, unique titles, slugs made from them) and a markdown body in each (about
  1 KB, rendered to sanitized HTML by the app). It stays a draft (the default status). The response is the
  created node with both bodies. One transaction: the manager's session checked (one SELECT), the node,
  two translations (each with its slug lookup and a SAVEPOINT), two bodies, and its events in the outbox
  (``node.created``, a translation and a body event per locale: the count per node is printed from
  ``sys_events``).
- **read by id**: ``GET /api/content/nodes/{id}?locale=de`` of one published node (made like the created
  ones, with ``status: published``), anonymously, as a public site reads it: the ``de`` translation and body.
- **read by id, signed in**: the same read as the manager (``Authorization: Bearer``): the session and role
  are read in the request's own transaction, then the node (the manager sees drafts too, so the visibility
  filter differs, not the statements).
- **read by slug**: ``GET /api/content/nodes/by-slug/{slug}?kind=post&locale=de`` of the same node (its
  ``de`` slug), anonymously.
- **bare**: ``GET /health/live``: the same middleware stack, but no tenant resolution, no authentication
  and no database work.
- **tenant**: ``GET /api/tenant``: the tenant resolved by the middleware from its cache (warm), no content,
  no database work.

Sequential: one client, ``--requests`` (default 200) requests per series after a warm-up of
``WARMUP`` each, the six series alternating in chunks of ``CHUNK`` to cancel drift. Ops/s is requests over
the summed latencies (1 / mean latency; one request at a time). Concurrent (``--concurrency``, default 8; 0
skips it): the same number per series, sent by that many client tasks on one httpx client (so one event loop
and one CPU core for the client and the app, as one worker process serves), the series taking turns in
rounds of ``ROUND`` requests; ops/s is requests over wall time. Latency is the client's: from sending to
having the whole response (httpx and the ASGI transport included), p50 and p99 by nearest rank. Under
concurrency a request's latency includes its turns behind the others on the one event loop, except for the
bare routes, which never wait on I/O and so run one at a time. SQLite has one writer at a time: concurrent
creates queue for the write lock (``BEGIN IMMEDIATE`` on the busy timeout), which shows in their p99.
SQL/req (sequential) is the statements the app's engine ran per request (``before_cursor_execute``: SQLite's
``BEGIN`` and the SAVEPOINTs included; COMMIT, PostgreSQL's BEGIN and the pool's pre-ping go through the
driver and are not counted).

Headline (the last table, every backend and mode): each content series' ops/s divided by a bare series'
ops/s (the share of the bare endpoint's throughput the content route keeps), and its p50 and p99 latencies
divided by the bare ones (how many times slower), against both ``/health/live`` and ``/api/tenant``.

Absolute figures are the machine's: the header prints the Python, SQLite and PostgreSQL versions, the CPU
and the load average (the bench shares the CPU with PostgreSQL and with anything else running).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import (
    APP_PACKAGES,
    add_backend_arguments,
    app_settings,
    chosen_backends,
    fresh_database,
    load_average,
    mean,
    migrated_runtime,
    new_tenant_with_german,
    percentile,
    print_machine,
    print_table,
    reachable_backends,
    server_version,
)
from rustok.api.app import create_app
from rustok.core.logging import configure_logging
from rustok.core.settings import Settings
from rustok.outbox.models import SysEvent
from rustok.testing.auth import sign_in_as
from rustok.testing.content import make_node
from rustok.testing.http import app_client

TENANT_SLUG = "bench-content"
READ_SLUG_EN = "benchmark-reading"
READ_SLUG_DE = "benchmark-lesen"
WARMUP = 50  # requests per series before measuring
CHUNK = 50  # sequential: requests of one series before the next takes its turn
ROUND = 100  # concurrent: requests of one series per round
DEFAULT_REQUESTS = 200
DEFAULT_CONCURRENCY = 8

BODY_EN = """# A benchmark post

This is the **English** body of a post written by the *content benchmark*. It has a few paragraphs,
a [link](https://example.org/articles/benchmark), some `inline code` and a list:

- first, the node and its two translations;
- then a body in each locale, rendered to sanitized HTML;
- and the events, committed to the outbox in the same transaction.

## Details

> A quote, to give the renderer something more to do.

Another paragraph with _emphasis_, **strong text** and an image reference: ![logo](https://example.org/l.png).
"""

BODY_DE = """# Ein Benchmark-Beitrag

Das ist der **deutsche** Text eines Beitrags aus dem *Content-Benchmark*. Er hat ein paar Absätze,
einen [Link](https://example.org/artikel/benchmark), etwas `Code` und eine Liste:

- zuerst der Knoten und seine zwei Übersetzungen;
- dann ein Text je Sprache, zu bereinigtem HTML gerendert;
- und die Ereignisse, in derselben Transaktion in die Outbox geschrieben.

## Einzelheiten

> Ein Zitat, damit der Renderer etwas mehr zu tun hat.

Noch ein Absatz mit _Betonung_, **fettem Text** und einem Bild: ![Logo](https://example.org/l.png).
"""


def node_body(
    index: int, *, status: str | None = None, slugs: tuple[str, str] | None = None
) -> dict[str, Any]:
    """The JSON of ``POST /api/content/nodes``: a post in ``en`` and ``de``, a markdown body in each."""
    translations: list[dict[str, Any]] = [
        {"locale": "en", "title": f"Benchmark post {index:07d}"},
        {"locale": "de", "title": f"Benchmark-Beitrag {index:07d}"},
    ]
    if slugs is not None:
        for translation, slug in zip(translations, slugs, strict=True):
            translation["slug"] = slug
    data: dict[str, Any] = {
        "kind": "post",
        "translations": translations,
        "bodies": [
            {"locale": "en", "body": BODY_EN, "format": "markdown"},
            {"locale": "de", "body": BODY_DE, "format": "markdown"},
        ],
    }
    if status is not None:
        data["status"] = status
    return data


# ------------------------------------------------------------------------------------------------ series


@dataclass(slots=True)
class Series:
    key: str
    label: str
    method: str
    path: str
    headers: dict[str, str]
    expected: int
    body: Callable[[], dict[str, Any]] | None = None
    content: bool = False  # a content series (the ratios' numerator), else a bare one
    sequential: list[float] = field(default_factory=list)  # seconds per request
    concurrent: list[float] = field(default_factory=list)
    concurrent_wall: float = 0.0
    response_bytes: int = 0
    statements: int = 0  # SQL statements the app's engine ran for the sequential requests


class Statements:
    """Counts the statements an engine runs (``before_cursor_execute``)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_: Any) -> None:
        self.count += 1


async def call(client: httpx.AsyncClient, series: Series) -> float:
    """One request of ``series``: its latency in seconds (the body is built before the clock starts)."""
    body = series.body() if series.body is not None else None
    started = time.perf_counter()
    response = await client.request(series.method, series.path, headers=series.headers, json=body)
    elapsed = time.perf_counter() - started
    if response.status_code != series.expected:
        raise RuntimeError(
            f"{series.method} {series.path}: {response.status_code} (expected {series.expected}): "
            f"{response.text[:500]}"
        )
    series.response_bytes = len(response.content)
    return elapsed


async def measure_sequential(
    client: httpx.AsyncClient, all_series: Sequence[Series], requests: int, statements: Statements
) -> None:
    for index in range(WARMUP):
        for series in all_series if index % 2 else reversed(all_series):
            await call(client, series)
    chunks = [CHUNK] * (requests // CHUNK) + ([requests % CHUNK] if requests % CHUNK else [])
    for number, size in enumerate(chunks):
        # Each series takes every place in the order in turn (what runs before it warms or cools caches).
        order = list(all_series[number % len(all_series) :]) + list(all_series[: number % len(all_series)])
        for series in order:
            for _ in range(size):
                before = statements.count
                series.sequential.append(await call(client, series))
                series.statements += statements.count - before


async def _burst(client: httpx.AsyncClient, series: Series, requests: int, concurrency: int) -> None:
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            series.concurrent.append(await call(client, series))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, requests))))
    series.concurrent_wall += time.perf_counter() - started


async def measure_concurrent(
    client: httpx.AsyncClient, all_series: Sequence[Series], requests: int, concurrency: int
) -> None:
    for series in all_series:  # warm-up: the pool's other connections, the concurrent paths
        await _burst(client, series, min(requests, 4 * concurrency), concurrency)
        series.concurrent.clear()
        series.concurrent_wall = 0.0
    rounds = [ROUND] * (requests // ROUND) + ([requests % ROUND] if requests % ROUND else [])
    for number, size in enumerate(rounds):
        order = list(all_series[number % len(all_series) :]) + list(all_series[: number % len(all_series)])
        for series in order:
            await _burst(client, series, size, concurrency)


# --------------------------------------------------------------------------------------------- the run


@dataclass(slots=True)
class BackendResult:
    version: str
    series: list[Series]
    concurrency: int
    nodes_created: int
    events: Counter[str]
    events_pending: int
    load: str


def bench_settings(url: str) -> Settings:
    return app_settings(url)


async def outbox_counts(engine: AsyncEngine) -> tuple[Counter[str], int]:
    """Events in ``sys_events`` by type, and how many of them are still pending."""
    async with engine.connect() as connection:
        rows = (
            await connection.execute(select(SysEvent.event_type, func.count()).group_by("event_type"))
        ).all()
        pending = (
            await connection.execute(select(func.count()).where(SysEvent.status == "pending"))
        ).scalar_one()
    return Counter({str(kind): int(count) for kind, count in rows}), int(pending)


async def run_backend(backend: str, requests: int, concurrency: int, postgres_url: str) -> BackendResult:
    began = time.perf_counter()
    async with fresh_database(backend, postgres_url) as url, migrated_runtime(bench_settings(url)) as runtime:
        engine = runtime.engine
        version = await server_version(engine)
        tenant_id = await new_tenant_with_german(runtime.uow, TENANT_SLUG)
        statements = Statements()
        event.listen(engine.sync_engine, "before_cursor_execute", statements)
        app = create_app(runtime=runtime, configure_logs=False)
        async with app_client(app) as client:
            manager = await sign_in_as(client, app, tenant_id, "manager")
            reader = {"X-Tenant-ID": str(tenant_id)}
            node = await make_node(
                client,
                manager.headers,
                **node_body(0, status="published", slugs=(READ_SLUG_EN, READ_SLUG_DE)),
            )
            await check_read(client, reader, node["id"])
            before, _ = await outbox_counts(engine)
            counter = iter(range(1, 10**9))
            all_series = [
                Series("bare", "GET /health/live", "GET", "/health/live", reader, 200),
                Series("tenant", "GET /api/tenant", "GET", "/api/tenant", reader, 200),
                Series(
                    "create",
                    "create: POST /api/content/nodes (manager)",
                    "POST",
                    "/api/content/nodes",
                    manager.headers,
                    201,
                    body=lambda: node_body(next(counter)),
                    content=True,
                ),
                Series(
                    "by_id",
                    "read by id: GET /api/content/nodes/{id}?locale=de",
                    "GET",
                    f"/api/content/nodes/{node['id']}?locale=de",
                    reader,
                    200,
                    content=True,
                ),
                Series(
                    "by_id_auth",
                    "read by id, signed in: GET /api/content/nodes/{id}?locale=de (manager)",
                    "GET",
                    f"/api/content/nodes/{node['id']}?locale=de",
                    manager.headers,
                    200,
                    content=True,
                ),
                Series(
                    "by_slug",
                    "read by slug: GET .../nodes/by-slug/{slug}?kind=post&locale=de",
                    "GET",
                    f"/api/content/nodes/by-slug/{READ_SLUG_DE}?kind=post&locale=de",
                    reader,
                    200,
                    content=True,
                ),
            ]
            print(
                f"  {backend}: ready in {time.perf_counter() - began:.1f} s; sequential, {requests:,} "
                "requests per series...",
                flush=True,
            )
            began = time.perf_counter()
            await measure_sequential(client, all_series, requests, statements)
            if concurrency > 0:
                print(
                    f"  {backend}: done in {time.perf_counter() - began:.1f} s; {concurrency} concurrent "
                    f"clients, {requests:,} requests per series...",
                    flush=True,
                )
                began = time.perf_counter()
                await measure_concurrent(client, all_series, requests, concurrency)
            print(f"  {backend}: done in {time.perf_counter() - began:.1f} s", flush=True)
        after, pending = await outbox_counts(engine)
        created = next(counter) - 1
    events = after - before
    return BackendResult(version, all_series, concurrency, created, events, pending, load_average())


async def check_read(client: httpx.AsyncClient, headers: dict[str, str], node_id: str) -> None:
    """Both reads serve the published node in ``de``, with its body (before anything is timed)."""
    for path in (
        f"/api/content/nodes/{node_id}?locale=de",
        f"/api/content/nodes/by-slug/{READ_SLUG_DE}?kind=post&locale=de",
    ):
        response = await client.get(path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:500]}")
        data = response.json()
        locales = [t["locale"] for t in data["translations"]] + [b["locale"] for b in data["bodies"] or []]
        if data["id"] != node_id or locales != ["de", "de"] or data["status"] != "published":
            raise RuntimeError(f"GET {path} served something else: {data}")


# ---------------------------------------------------------------------------------------------- report


@dataclass(frozen=True, slots=True)
class Stats:
    ops: float  # requests per second
    mean_ms: float
    p50_ms: float
    p99_ms: float
    count: int


def sequential_stats(series: Series) -> Stats:
    values = series.sequential
    return Stats(
        len(values) / sum(values),
        mean(values) * 1000,
        percentile(values, 0.50) * 1000,
        percentile(values, 0.99) * 1000,
        len(values),
    )


def concurrent_stats(series: Series) -> Stats:
    values = series.concurrent
    return Stats(
        len(values) / series.concurrent_wall,
        mean(values) * 1000,
        percentile(values, 0.50) * 1000,
        percentile(values, 0.99) * 1000,
        len(values),
    )


def _modeprint_table(
    title: str, result: BackendResult, stats_of: Callable[[Series], Stats], sql: bool
) -> None:
    print()
    print(title)
    rows = []
    for series in result.series:
        stats = stats_of(series)
        row = [
            series.label,
            f"{stats.ops:,.0f}",
            f"{stats.mean_ms:.2f}",
            f"{stats.p50_ms:.2f}",
            f"{stats.p99_ms:.2f}",
            f"{series.response_bytes:,}",
        ]
        if sql:
            row.append(f"{series.statements / len(series.sequential):g}")
        rows.append(row)
    header = ["series", "ops/s", "mean ms", "p50 ms", "p99 ms", "resp. bytes"] + (["SQL/req"] if sql else [])
    print_table(header, rows, [False] + [True] * (len(header) - 1))


def modes(result: BackendResult) -> list[tuple[str, Callable[[Series], Stats]]]:
    found: list[tuple[str, Callable[[Series], Stats]]] = [("sequential", sequential_stats)]
    if result.concurrency > 0:
        found.append((f"{result.concurrency} concurrent", concurrent_stats))
    return found


def report(result: BackendResult, requests: int) -> None:
    print()
    print(f"== {result.version} ==  (load average after the run: {result.load})")
    _modeprint_table(
        f"sequential, one client: {requests:,} requests per series after {WARMUP} warm-up each, "
        f"alternating in chunks of {CHUNK} (ops/s = 1 / mean latency)",
        result,
        sequential_stats,
        sql=True,
    )
    if result.concurrency > 0:
        _modeprint_table(
            f"concurrent, {result.concurrency} client tasks on one event loop: {requests:,} requests per "
            f"series, the series in turn in rounds of {ROUND} (ops/s = requests / wall time)",
            result,
            concurrent_stats,
            sql=False,
        )
        print(
            "  (one event loop serves every client: a content request waits its turns behind the others; "
            "the bare routes never wait on I/O, so they run one at a time)"
        )
        if result.version.startswith("SQLite"):
            print(
                "  (SQLite: one writer at a time; concurrent creates queue for the write lock, "
                "BEGIN IMMEDIATE on the busy timeout)"
            )
    created = result.nodes_created
    total = sum(result.events.values())
    kinds = ", ".join(f"{kind} x{count / created:g}" for kind, count in sorted(result.events.items()))
    print(
        f"  outbox: {created:,} nodes created (warm-ups included), {total:,} events written with them in "
        f"their transactions, {total / created:g} per node ({kinds});"
    )
    print(
        f"  {result.events_pending:,} events pending in sys_events at the end: written, not delivered "
        "(no relay ran)"
    )


def headline(results: Sequence[tuple[str, BackendResult]]) -> None:
    """Every content series against both bare ones: ops/s ratio (the share of the bare throughput kept)
    and latency ratios (times slower), per backend and mode."""
    print()
    print(
        "HEADLINE: content ÷ bare, same app, same run. ops/s ratio = content ops/s ÷ bare ops/s; "
        "p50/p99 ratio = content latency ÷ bare latency"
    )
    print(
        "  bare = GET /health/live (no tenant, no DB); tenant = GET /api/tenant (tenant from its cache, "
        "no DB)"
    )
    rows: list[list[str]] = []
    for backend, result in results:
        for mode, stats_of in modes(result):
            stats = {s.key: stats_of(s) for s in result.series}
            bare, tenant = stats["bare"], stats["tenant"]
            for series in (s for s in result.series if s.content):
                c = stats[series.key]
                rows.append(
                    [
                        backend,
                        mode,
                        series.key,
                        f"{c.ops:,.0f}",
                        f"{c.ops / bare.ops:.3f}",
                        f"{c.ops / tenant.ops:.3f}",
                        f"{c.p50_ms / bare.p50_ms:.1f}x",
                        f"{c.p50_ms / tenant.p50_ms:.1f}x",
                        f"{c.p99_ms / bare.p99_ms:.1f}x",
                        f"{c.p99_ms / tenant.p99_ms:.1f}x",
                    ]
                )
            rows.append(
                [
                    backend,
                    mode,
                    "(bare, tenant)",
                    f"{bare.ops:,.0f}, {tenant.ops:,.0f}",
                    "",
                    "",
                    f"{bare.p50_ms:.2f}, {tenant.p50_ms:.2f} ms",
                    "",
                    f"{bare.p99_ms:.2f}, {tenant.p99_ms:.2f} ms",
                    "",
                ]
            )
    print_table(
        (
            "backend",
            "mode",
            "series",
            "ops/s",
            "÷ bare",
            "÷ tenant",
            "p50 ÷ bare",
            "p50 ÷ tenant",
            "p99 ÷ bare",
            "p99 ÷ tenant",
        ),
        rows,
        (False, False, False, True, True, True, True, True, True, True),
    )


def machine_facts(backends: Sequence[str], postgres_url: str) -> None:
    print_machine("content benchmark", APP_PACKAGES, backends=backends, postgres_url=postgres_url)
    print(
        "  the real app in process (create_app + app_client, httpx over ASGI), one event loop, no Redis; "
        "relay not in process:"
    )
    print(
        "  each create commits its events to the outbox in its transaction, but they are not delivered "
        "during the run"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.content", description=__doc__.split("\n\n")[0])
    add_backend_arguments(parser)
    parser.add_argument(
        "--requests", type=int, default=DEFAULT_REQUESTS, help="requests timed per series (and per mode)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help="concurrent client tasks in the second measurement (0 skips it)",
    )
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    if args.concurrency < 0:
        parser.error("--concurrency must be 0 or more")
    return args


async def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    configure_logging("console", "WARNING")
    backends = chosen_backends(args.backend)
    machine_facts(backends, args.postgres_url)
    results: list[tuple[str, BackendResult]] = []
    for backend in reachable_backends(backends, args.postgres_url):
        result = await run_backend(backend, args.requests, args.concurrency, args.postgres_url)
        report(result, args.requests)
        results.append((backend, result))
    if results:
        headline(results)


if __name__ == "__main__":
    asyncio.run(main())
