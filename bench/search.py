"""Search benchmark: query latency of full-text search over the index read models (`rustok.index.search`)
at scale, on SQLite (FTS5) and PostgreSQL (tsvector + GIN), and the time to bulk-load the documents.

Run it (PostgreSQL: ``--postgres-url``, default ``RUSTOK_TEST_POSTGRES_URL`` or
``postgresql://postgres@127.0.0.1:5432/test``; the bench creates a database ``rustok_bench_<hex>`` on that
server and drops it at the end)::

    .venv/bin/python -m bench.search [--backend sqlite|postgresql|both] [--nodes N] [--queries Q]
                                     [--postgres-url URL]

Each backend gets a fresh database (SQLite: a temporary file), migrated with ``upgrade_async`` (so the FTS5
tables and their triggers, or the ``search_vector`` trigger and GIN index, are the migration's), one tenant
(``new_tenant``) with ``de`` enabled beside ``en``. The read model is then loaded directly: ``--nodes``
nodes (default 100,000) in two locales (``en`` and ``de``: twice as many ``index_content`` rows), 90 %
published, plus one product per ten nodes (``en``, 90 % active). Rows go in with bulk Core INSERTs
(``session.execute(insert(Model.__table__), rows)``: executemany) of ``BATCH`` rows, each batch in its
own tenant-scoped unit of work; the database triggers fill the full-text structures as they would for the
index consumers. The load time printed includes the triggers (and, on PostgreSQL, a final ``ANALYZE``).

Text: a fixed vocabulary of ``VOCABULARY`` made-up words with Zipf-like frequencies (the word of rank r
drawn with weight 1/r), one pool of ``POOL`` draws made once from a seeded generator; each document's
title (4-8 words), excerpt (15-25), body (60-100) and tags (0-3 of the 500 commonest words) are slices of
the pool at seeded offsets. Everything is deterministic: the same documents on both backends, every run.

Series (``--queries`` timed per series, default 300, after ``WARMUP`` untimed; anonymous caller, so
published documents only; content and products merged; ``limit`` 20; the first page):

- **one word**: a word of rank 50 to 5,000 (drawn uniformly among those ranks);
- **two words**: two words of rank 20 to 2,000, both required;
- **phrase**: two consecutive words of the pool, quoted (``"a b"``), neither of the 20 commonest (as stop
  words would be left out of a phrase search), so documents are likely to have them;
- **frequent word** (not in the target; ``FREQUENT_QUERIES`` timed): a word of rank 1 to 10, matching a
  large share of all documents: the worst case, every match is ranked;
- **HTTP one word**: the one-word series through ``GET /api/search`` of the real app (``create_app``,
  ``app_client``, httpx over ASGI), beside **bare** ``GET /health/live`` (the same stack without a tenant,
  authentication or database) as the baseline.

Service series call `rustok.index.search.search` in a read-only tenant unit of work per query, as the route
does. Latency p50/p95/p99 by nearest rank, in milliseconds, with the mean number of hits served and how
many queries filled the page. Target (the issue): p95 under 20 ms at 100,000 nodes for the one-word,
two-word and phrase series on both backends; the last table says, per backend, whether it was met.

Not measured here: the indexing throughput of the index consumers and the rebuild time (``rustok index
rebuild``); they belong to the consumers' code and are left for it (see the section printed at the end).

Absolute figures are the machine's: the header prints the Python, SQLite and PostgreSQL versions, the CPU
and the load average (the bench shares the CPU with PostgreSQL and with anything else running).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import httpx
from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import (
    APP_PACKAGES,
    app_settings,
    fresh_database,
    load_average,
    mean,
    percentile,
    print_machine,
    server_version,
)
from rustok.api.app import create_app
from rustok.core.db import create_engine, create_sessionmaker
from rustok.core.logging import configure_logging
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import SessionFactory, UnitOfWork
from rustok.index.models import ContentDocument, ProductDocument
from rustok.index.search import SearchQuery, search
from rustok.migrations import upgrade_async
from rustok.outbox.writer import OutboxWriter
from rustok.tenants.schemas import LocaleIn
from rustok.tenants.service import enable_locale
from rustok.testing.auth import new_tenant
from rustok.testing.http import app_client
from rustok.testing.services import postgres_admin_url, reachable

TENANT_SLUG = "bench-search"
CONTENT_TABLE = cast(Table, ContentDocument.__table__)
PRODUCTS_TABLE = cast(Table, ProductDocument.__table__)
DEFAULT_NODES = 100_000
DEFAULT_QUERIES = 300
WARMUP = 30
FREQUENT_QUERIES = 40  # the frequent-word series ranks most documents per query: fewer of them
BATCH = 5_000
VOCABULARY = 30_000
POOL = 3_000_000
SEED = 20261122
TARGET_P95_MS = 20.0
TARGET_SERIES = ("one", "two", "phrase")
SYLLABLES = [
    "ka",
    "ri",
    "to",
    "ne",
    "mo",
    "sa",
    "lu",
    "vi",
    "de",
    "pa",
    "ro",
    "ti",
    "na",
    "le",
    "su",
    "mi",
    "ko",
    "ra",
    "be",
    "lo",
    "ga",
    "fi",
    "ze",
    "ha",
    "tu",
    "wen",
    "dar",
    "mor",
    "sel",
    "kin",
    "tor",
    "vas",
    "lim",
    "pen",
    "rud",
    "gol",
    "hes",
    "ban",
]


# --------------------------------------------------------------------------------------------------- text


@dataclass(frozen=True, slots=True)
class Corpus:
    words: list[str]  # by rank: words[0] is the commonest
    pool: list[str]  # Zipf-distributed draws

    @classmethod
    def make(cls) -> Corpus:
        rng = random.Random(SEED)
        words: list[str] = []
        seen: set[str] = set()
        while len(words) < VOCABULARY:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
            if word not in seen:
                seen.add(word)
                words.append(word)
        cumulative = list(itertools.accumulate(1 / rank for rank in range(1, VOCABULARY + 1)))
        pool = rng.choices(words, cum_weights=cumulative, k=POOL)
        return cls(words, pool)

    def slice(self, rng: random.Random, low: int, high: int) -> list[str]:
        size = rng.randint(low, high)
        start = rng.randrange(0, len(self.pool) - size)
        return self.pool[start : start + size]


def _node_rows(
    corpus: Corpus, tenant_id: uuid.UUID, first: int, count: int, now: datetime
) -> list[dict[str, Any]]:
    rows = []
    for index in range(first, first + count):
        rng = random.Random(SEED * 7 + index)  # per node: the same documents whatever the batch size
        node_id = uuid.UUID(int=(SEED << 64) | index)
        status = "draft" if rng.random() < 0.1 else "published"
        kind = "page" if rng.random() < 0.2 else "post"
        for locale in ("en", "de"):
            title = " ".join(corpus.slice(rng, 4, 8)).capitalize()
            tags = rng.sample(corpus.words[:500], rng.randint(0, 3))
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "node_id": node_id,
                    "locale": locale,
                    "kind": kind,
                    "status": status,
                    "title": title,
                    "slug": f"{locale}-{index}",
                    "excerpt": " ".join(corpus.slice(rng, 15, 25)),
                    "body_text": " ".join(corpus.slice(rng, 60, 100)),
                    "tags": tags,
                    "tags_text": " ".join(tags),
                    "published_at": now if status == "published" else None,
                    "source_updated_at": now,
                    "indexed_at": now,
                }
            )
    return rows


def _product_rows(
    corpus: Corpus, tenant_id: uuid.UUID, first: int, count: int, now: datetime
) -> list[dict[str, Any]]:
    rows = []
    for index in range(first, first + count):
        rng = random.Random(SEED * 11 + index)
        status = "draft" if rng.random() < 0.1 else "active"
        rows.append(
            {
                "tenant_id": tenant_id,
                "product_id": uuid.UUID(int=((SEED + 1) << 64) | index),
                "locale": "en",
                "status": status,
                "title": " ".join(corpus.slice(rng, 2, 5)).capitalize(),
                "handle": f"product-{index}",
                "subtitle": " ".join(corpus.slice(rng, 3, 8)),
                "description": " ".join(corpus.slice(rng, 30, 80)),
                "prices": {"EUR": {"min": 1000, "max": 1000}},
                "in_stock": True,
                "variant_count": 1,
                "options": [],
                "published_at": now if status == "active" else None,
                "source_updated_at": now,
                "indexed_at": now,
            }
        )
    return rows


@dataclass(frozen=True, slots=True)
class Load:
    content_rows: int
    products: int
    seconds: float
    content_seconds: float


async def load(
    engine: AsyncEngine, sessions: SessionFactory, corpus: Corpus, tenant_id: uuid.UUID, nodes: int
) -> Load:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    products = nodes // 10
    began = time.perf_counter()
    content_rows = 0
    per_batch = BATCH // 2  # two rows per node
    for first in range(0, nodes, per_batch):
        rows = _node_rows(corpus, tenant_id, first, min(per_batch, nodes - first), now)
        async with UnitOfWork(sessions, TenantScope.of(tenant_id)) as uow:
            await uow.session.execute(insert(CONTENT_TABLE), rows)
        content_rows += len(rows)
        if first % (per_batch * 10) == 0 and first:
            print(f"    {content_rows:,} content rows in {time.perf_counter() - began:.0f} s", flush=True)
    content_seconds = time.perf_counter() - began
    for first in range(0, products, BATCH):
        rows = _product_rows(corpus, tenant_id, first, min(BATCH, products - first), now)
        async with UnitOfWork(sessions, TenantScope.of(tenant_id)) as uow:
            await uow.session.execute(insert(PRODUCTS_TABLE), rows)
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.execute(text("COMMIT"))
            await connection.execute(text("ANALYZE index_content"))
            await connection.execute(text("ANALYZE index_products"))
    else:
        async with engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
    return Load(content_rows, products, time.perf_counter() - began, content_seconds)


# ------------------------------------------------------------------------------------------------ queries


def query_texts(corpus: Corpus, series: str, count: int) -> list[str]:
    rng = random.Random(f"{SEED}-{series}")
    words = corpus.words
    if series == "one":
        return [words[rng.randrange(50, 5_000)] for _ in range(count)]
    if series == "two":
        return [f"{words[rng.randrange(20, 2_000)]} {words[rng.randrange(20, 2_000)]}" for _ in range(count)]
    if series == "phrase":
        common = set(words[:20])  # skip phrases of the commonest words (as stop words would be)
        texts: list[str] = []
        while len(texts) < count:
            start = rng.randrange(0, len(corpus.pool) - 2)
            first, second = corpus.pool[start], corpus.pool[start + 1]
            if first not in common and second not in common:
                texts.append(f'"{first} {second}"')
        return texts
    if series == "frequent":
        return [words[rng.randrange(0, 10)] for _ in range(count)]
    raise ValueError(series)


@dataclass(slots=True)
class Series:
    key: str
    label: str
    latencies: list[float] = field(default_factory=list)
    hits: list[int] = field(default_factory=list)
    full_pages: int = 0


async def run_series(
    series: Series, texts: Sequence[str], call: Callable[[str], Awaitable[int]], warmup: int = WARMUP
) -> None:
    for index, query in enumerate(texts):
        began = time.perf_counter()
        hits = await call(query)
        elapsed = time.perf_counter() - began
        if index >= warmup:
            series.latencies.append(elapsed)
            series.hits.append(hits)
            series.full_pages += hits == 20


def service_call(sessions: SessionFactory, tenant_id: uuid.UUID) -> Callable[[str], Awaitable[int]]:
    async def call(query: str) -> int:
        async with UnitOfWork(sessions, TenantScope.of(tenant_id), write=False) as uow:
            page = await search(uow.session, tenant_id, SearchQuery(text=query, limit=20))
        return len(page.items)

    return call


def http_call(
    client: httpx.AsyncClient, headers: dict[str, str], path: str
) -> Callable[[str], Awaitable[int]]:
    async def call(query: str) -> int:
        if path == "/api/search":
            response = await client.get(path, params={"q": query, "limit": 20}, headers=headers)
        else:
            response = await client.get(path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
        return len(response.json().get("items", []))

    return call


# ------------------------------------------------------------------------------------------------ backend


@dataclass(frozen=True, slots=True)
class BackendResult:
    version: str
    load: Load
    series: list[Series]
    load_average: str


def bench_settings(url: str) -> Settings:
    return app_settings(url)


async def prepare_tenant(sessions: SessionFactory) -> uuid.UUID:
    def make_uow(scope: TenantScope) -> UnitOfWork:
        return UnitOfWork(sessions, scope, events=OutboxWriter())

    tenant_id = await new_tenant(make_uow, TENANT_SLUG)
    async with make_uow(TenantScope.of(tenant_id)) as uow:
        await enable_locale(uow, tenant_id, LocaleIn(locale="de", name="Deutsch"))
    return tenant_id


async def run_backend(
    backend: str, corpus: Corpus, nodes: int, queries: int, postgres_url: str
) -> BackendResult:
    async with fresh_database(backend, postgres_url) as url:
        settings = bench_settings(url)
        engine = create_engine(settings)
        try:
            await upgrade_async(engine)
            version = await server_version(engine)
            sessions = create_sessionmaker(engine)
            tenant_id = await prepare_tenant(sessions)
            print(
                f"  {backend}: loading {nodes:,} nodes x 2 locales + {nodes // 10:,} products...", flush=True
            )
            loaded = await load(engine, sessions, corpus, tenant_id, nodes)
            print(f"  {backend}: loaded in {loaded.seconds:.1f} s; querying...", flush=True)
            count = queries + WARMUP
            all_series: list[Series] = []
            call = service_call(sessions, tenant_id)
            for key, label in (
                ("one", "one word (rank 50-5,000)"),
                ("two", "two words (rank 20-2,000)"),
                ("phrase", 'phrase ("a b" from the text)'),
                ("frequent", "frequent word (rank 1-10)"),
            ):
                series = Series(key, f"service: {label}")
                size = min(count, FREQUENT_QUERIES + WARMUP) if key == "frequent" else count
                await run_series(series, query_texts(corpus, key, size), call)
                all_series.append(series)
            app = create_app(settings, engine=engine, session_factory=sessions, configure_logs=False)
            async with app_client(app) as client:
                headers = {"X-Tenant-ID": str(tenant_id)}
                bare = Series("bare", "HTTP: GET /health/live (baseline)")
                route = Series("http_one", "HTTP: GET /api/search, one word")
                texts = query_texts(corpus, "one", count)
                # Alternate in chunks so drift hits both alike.
                for start in range(0, count, 50):
                    chunk = texts[start : start + 50]
                    warmup = WARMUP if start == 0 else 0  # the first chunk only
                    await run_series(bare, chunk, http_call(client, headers, "/health/live"), warmup)
                    await run_series(route, chunk, http_call(client, headers, "/api/search"), warmup)
                all_series += [route, bare]
        finally:
            await engine.dispose()
    return BackendResult(version, loaded, all_series, load_average())


# ------------------------------------------------------------------------------------------------- report


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> None:
    widths = [max(len(line[i]) for line in (header, *rows)) for i in range(len(header))]
    for line in (header, *rows):
        cells = [
            cell.rjust(width) if align else cell.ljust(width)
            for cell, width, align in zip(line, widths, right, strict=True)
        ]
        print("  " + "  ".join(cells).rstrip())


def _ms(values: Sequence[float], share: float) -> str:
    return f"{percentile(values, share) * 1000:.2f}"


def report(result: BackendResult, nodes: int) -> None:
    loaded = result.load
    print()
    print(f"== {result.version} ==  (load average after the run: {result.load_average})")
    print(
        f"  bulk load: {loaded.content_rows:,} content rows ({nodes:,} nodes x 2 locales) in "
        f"{loaded.content_seconds:.1f} s ({loaded.content_rows / loaded.content_seconds:,.0f} rows/s, FTS "
        f"triggers included); with {loaded.products:,} products and ANALYZE: {loaded.seconds:.1f} s"
    )
    rows = []
    for series in result.series:
        values = series.latencies
        searched = series.key != "bare"
        rows.append(
            [
                series.label,
                str(len(values)),
                _ms(values, 0.50),
                _ms(values, 0.95),
                _ms(values, 0.99),
                f"{mean(values) * 1000:.2f}",
                f"{mean(series.hits):.1f}" if searched else "",
                f"{series.full_pages}/{len(values)}" if searched else "",
            ]
        )
    _table(
        ["series", "n", "p50 ms", "p95 ms", "p99 ms", "mean ms", "hits/page", "full pages"],
        rows,
        [False, True, True, True, True, True, True, True],
    )


def headline(results: Sequence[tuple[str, BackendResult]], nodes: int) -> None:
    print()
    print(
        f"TARGET: p95 < {TARGET_P95_MS:g} ms at 100,000 nodes for one word, two words and phrase "
        f"(through the service); this run: {nodes:,} nodes"
    )
    rows = []
    for backend, result in results:
        by_key = {s.key: s for s in result.series}
        for key in TARGET_SERIES:
            p95 = percentile(by_key[key].latencies, 0.95) * 1000
            rows.append([backend, key, f"{p95:.2f}", "met" if p95 < TARGET_P95_MS else "NOT MET"])
        p95 = percentile(by_key["http_one"].latencies, 0.95) * 1000
        bare = percentile(by_key["bare"].latencies, 0.95) * 1000
        rows.append([backend, "one word via HTTP", f"{p95:.2f}", f"(bare /health/live p95 {bare:.2f} ms)"])
    _table(["backend", "series", "p95 ms", "target"], rows, [False, False, True, False])
    if nodes != DEFAULT_NODES:
        print(f"  (the target is stated for {DEFAULT_NODES:,} nodes; this run loaded {nodes:,})")
    print()
    print(
        "NOT MEASURED HERE (placeholder): index consumer throughput (events/s) and the time of "
        "`rustok index rebuild`;"
    )
    print("  they are measured with the index consumers' own code, not by this bench.")


def machine_facts(backends: Sequence[str], postgres_url: str) -> None:
    print_machine("search benchmark", APP_PACKAGES)
    if "postgresql" in backends:
        print(f"  PostgreSQL server: {postgres_url.rpartition('@')[2]} (version below)")
    print("  service series: rustok.index.search.search in a read-only tenant unit of work per query;")
    print(
        "  HTTP series: the real app in process (create_app + app_client, httpx over ASGI), anonymous caller"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--nodes", type=int, default=DEFAULT_NODES, help="nodes loaded (two rows each)")
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES, help="queries timed per series")
    parser.add_argument(
        "--postgres-url",
        default=postgres_admin_url(),
        help="PostgreSQL server (its database is the admin one the bench creates and drops its own from)",
    )
    args = parser.parse_args(argv)
    if args.nodes < 1:
        parser.error("--nodes must be at least 1")
    if args.queries < 1:
        parser.error("--queries must be at least 1")
    return args


async def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    configure_logging("console", "WARNING")
    backends: tuple[str, ...] = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    machine_facts(backends, args.postgres_url)
    began = time.perf_counter()
    corpus = Corpus.make()
    print(
        f"  corpus: {VOCABULARY:,} words, {POOL:,} Zipf draws, made in {time.perf_counter() - began:.1f} s",
        flush=True,
    )
    results: list[tuple[str, BackendResult]] = []
    for backend in backends:
        if backend == "postgresql" and not reachable(args.postgres_url, 5432):
            print(f"\nnote: PostgreSQL is not reachable at {args.postgres_url.rpartition('@')[2]}; skipped")
            continue
        result = await run_backend(backend, corpus, args.nodes, args.queries, args.postgres_url)
        report(result, args.nodes)
        results.append((backend, result))
    if results:
        headline(results, args.nodes)
    print(f"\ntotal run time: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
