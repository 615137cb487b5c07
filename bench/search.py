"""Search benchmark: the index at scale, on SQLite (FTS5) and PostgreSQL (tsvector + GIN): the time to rebuild
it from 100,000 nodes, the latency of full-text search over it, and the indexing throughput of its event
consumers (`rustok.index`).

Run it (PostgreSQL: ``--postgres-url``, default ``RUSTOK_TEST_POSTGRES_URL`` or
``postgresql://postgres@127.0.0.1:5432/test``; the bench creates a database ``rustok_bench_<hex>`` on that
server and drops it at the end)::

    .venv/bin/python -m bench.search [--backend sqlite|postgresql|both] [--nodes N] [--queries Q]
                                     [--event-nodes E] [--postgres-url URL]

Each backend gets a fresh database (SQLite: a temporary file), migrated with ``upgrade_async`` (so the FTS5
tables and their triggers, or the ``search_vector`` trigger and GIN index, are the migration's), and one
tenant (``new_tenant``) with ``de`` enabled beside ``en``. Then, per backend:

1. **Source**: the content module's rows of ``--nodes`` nodes (default 100,000), bulk-inserted with Core
   INSERTs in units of work of ``BATCH // 2`` nodes: each node (90 % published, 20 % pages) with a
   translation and a one-paragraph markdown body (its text and the HTML the content module would store)
   in ``en`` and ``de``, and 0-3 of ``TAGS`` tags (named in both locales).
2. **Rebuild** (timed): `rustok.index.service.rebuild` of the tenant's content read model, the code of
   ``rustok index rebuild``, in batches of ``REBUILD_BATCH``: it reads the nodes through the content
   module's public functions and writes 200,000 documents (the FTS triggers or the tsvector trigger
   included). Before it, the source tables are settled as a live database's maintenance would settle
   them (``ANALYZE``; on PostgreSQL ``VACUUM ANALYZE``, autovacuum's work, which this machine's server does
   not run). Then 10,000 ``index_products`` rows (one product per ten nodes, 90 % active) are
   bulk-inserted directly, and the two read models are settled the same way (on PostgreSQL this also
   merges the GIN indexes' pending lists).
3. **Queries** (``--queries`` timed per series, default 300, after ``WARMUP`` untimed; anonymous caller,
   so published documents only; content and products merged; ``limit`` 20; the first page; the rank
   window of `rustok.index.search.RANK_WINDOW`, the default of ``RUSTOK_SEARCH_RANK_WINDOW``):

   - **one word**: a word of rank 50 to 5,000 (drawn uniformly among those ranks);
   - **two words**: two words of rank 20 to 2,000, both required;
   - **phrase**: two consecutive words of the text, quoted (``"a b"``), neither of the 20 commonest (as
     stop words would be left out of a phrase search);
   - **frequent word** (not in the target; ``FREQUENT_QUERIES`` timed): a word of rank 1 to 10, matching a
     large share of all documents;
   - **HTTP one word**: the one-word series through ``GET /api/search`` of the real app (``create_app``,
     ``app_client``, httpx over ASGI), beside **bare** ``GET /health/live`` (the same stack without a
     tenant, authentication or database) as the baseline, alternated in chunks of 50.

   Service series call `rustok.index.search.search` in a read-only tenant unit of work per query, as the
   route does. Latency p50/p95/p99 by nearest rank, in milliseconds, with the mean number of hits served
   and how many queries filled the page. Target (the issue): p95 under 20 ms at 100,000 nodes for the
   one-word, two-word and phrase series on both backends; the last table says, per backend, whether it
   was met.
4. **Consumers** (timed): ``--event-nodes`` nodes (default 500), each with two translations and two bodies,
   published, made through `rustok.content.nodes.service.create_node` in a unit of work each while no relay
   runs (their events wait in the outbox); then one `Relay` with the index consumers drains them
   (``run_until_idle``). Events/s = deliveries to the index consumers (counted by a wrapper around their
   handlers) over the drain's seconds; the documents of those nodes are counted after.

Text: a fixed vocabulary of ``VOCABULARY`` made-up words with Zipf-like frequencies (the word of rank r
drawn with weight 1/r), one pool of ``POOL`` draws made once from a seeded generator; each node's title
(4-8 words), excerpt (15-25) and body (60-100) are slices of the pool at seeded offsets. Everything is
deterministic: the same documents on both backends, every run.

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
from sqlalchemy import Table, insert, select, text
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
from rustok.bootstrap import Runtime, open_runtime
from rustok.content.models import Node, NodeBody, NodeTag, NodeTranslation, Tag, TagTranslation
from rustok.content.nodes.service import create_node
from rustok.content.schemas import BodyIn, NodeCreate, TranslationIn
from rustok.core.deps import RequestContext
from rustok.core.events import Envelope
from rustok.core.logging import configure_logging
from rustok.core.models import Base
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork, UnitOfWorkFactory
from rustok.index.consumers import CONSUMERS as INDEX_CONSUMERS
from rustok.index.models import ContentDocument, ProductDocument
from rustok.index.search import RANK_WINDOW, SearchQuery, search
from rustok.index.service import rebuild
from rustok.outbox.registry import Consumer, ConsumerRegistry, consumer
from rustok.tenants.cache import ResolvedTenant
from rustok.testing.http import app_client

TENANT_SLUG = "bench-search"
LOCALES = ("en", "de")
Row = dict[str, Any]
NOW = datetime(2026, 1, 1, tzinfo=UTC)
REBUILD_BATCH = 500  # rustok index rebuild's default
DEFAULT_EVENT_NODES = 500
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


TAGS = 500  # the commonest words of the vocabulary, as tags in both locales


def _tag_id(rank: int) -> uuid.UUID:
    return uuid.UUID(int=((SEED + 2) << 64) | rank)


def _tag_rows(corpus: Corpus, tenant_id: uuid.UUID, now: datetime) -> tuple[list[Row], list[Row]]:
    tags = [
        {"id": _tag_id(r), "tenant_id": tenant_id, "created_at": now, "updated_at": now} for r in range(TAGS)
    ]
    translations = [
        {
            "id": uuid.UUID(int=((SEED + 3) << 64) | (r * 2 + i)),
            "tenant_id": tenant_id,
            "tag_id": _tag_id(r),
            "locale": locale,
            "name": corpus.words[r],
            "slug": corpus.words[r],
        }
        for r in range(TAGS)
        for i, locale in enumerate(LOCALES)
    ]
    return tags, translations


@dataclass(slots=True)
class SourceRows:
    """One batch of the content module's rows: nodes with a translation and a body per locale, and tags."""

    nodes: list[Row] = field(default_factory=list)
    translations: list[Row] = field(default_factory=list)
    bodies: list[Row] = field(default_factory=list)
    node_tags: list[Row] = field(default_factory=list)


def _source_rows(corpus: Corpus, tenant_id: uuid.UUID, first: int, count: int, now: datetime) -> SourceRows:
    rows = SourceRows()
    for index in range(first, first + count):
        rng = random.Random(SEED * 7 + index)  # per node: the same documents whatever the batch size
        node_id = uuid.UUID(int=(SEED << 64) | index)
        status = "draft" if rng.random() < 0.1 else "published"
        kind = "page" if rng.random() < 0.2 else "post"
        rows.nodes.append(
            {
                "id": node_id,
                "tenant_id": tenant_id,
                "kind": kind,
                "status": status,
                "depth": 0,
                "position": 0,
                "reply_count": 0,
                "metadata": {},
                "published_at": now if status == "published" else None,
                "created_at": now,
                "updated_at": now,
            }
        )
        for i, locale in enumerate(LOCALES):
            row_id = uuid.UUID(int=((SEED + 4) << 64) | (index * 2 + i))
            text = " ".join(corpus.slice(rng, 60, 100))
            rows.translations.append(
                {
                    "id": row_id,
                    "tenant_id": tenant_id,
                    "node_id": node_id,
                    "kind": kind,
                    "locale": locale,
                    "title": " ".join(corpus.slice(rng, 4, 8)).capitalize(),
                    "slug": f"{locale}-{index}",
                    "excerpt": " ".join(corpus.slice(rng, 15, 25)),
                    "updated_at": now,
                }
            )
            # What the content module stores for a one-paragraph markdown body: the text and its HTML.
            rows.bodies.append(
                {
                    "id": row_id,
                    "tenant_id": tenant_id,
                    "node_id": node_id,
                    "locale": locale,
                    "format": "markdown",
                    "body": text,
                    "html": f"<p>{text}</p>",
                    "updated_at": now,
                }
            )
        for j, rank in enumerate(rng.sample(range(TAGS), rng.randint(0, 3))):
            rows.node_tags.append(
                {
                    "id": uuid.UUID(int=((SEED + 5) << 64) | (index * 4 + j)),
                    "tenant_id": tenant_id,
                    "node_id": node_id,
                    "tag_id": _tag_id(rank),
                    "created_at": now,
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


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


@dataclass(frozen=True, slots=True)
class Load:
    nodes: int
    documents: int
    products: int
    source_seconds: float  # the content module's rows, bulk-inserted
    rebuild_seconds: float  # rustok.index.service.rebuild of the tenant's content read model
    products_seconds: float  # index_products rows, bulk-inserted


async def _insert(
    uows: UnitOfWorkFactory, tenant_id: uuid.UUID, batches: Sequence[tuple[Table, list[Row]]]
) -> None:
    async with uows(TenantScope.of(tenant_id)) as uow:
        for table, rows in batches:
            if rows:
                await uow.session.execute(insert(table), rows)


async def load_source(uows: UnitOfWorkFactory, corpus: Corpus, tenant_id: uuid.UUID, nodes: int) -> float:
    """The content module's rows for ``nodes`` nodes, bulk-inserted; the seconds it took."""
    began = time.perf_counter()
    tags, tag_translations = _tag_rows(corpus, tenant_id, NOW)
    await _insert(uows, tenant_id, [(table_of(Tag), tags), (table_of(TagTranslation), tag_translations)])
    per_batch = BATCH // 2  # two translations and two bodies per node
    for first in range(0, nodes, per_batch):
        rows = _source_rows(corpus, tenant_id, first, min(per_batch, nodes - first), NOW)
        await _insert(
            uows,
            tenant_id,
            [
                (table_of(Node), rows.nodes),
                (table_of(NodeTranslation), rows.translations),
                (table_of(NodeBody), rows.bodies),
                (table_of(NodeTag), rows.node_tags),
            ],
        )
        if first and first % (per_batch * 10) == 0:
            print(f"    {first:,} nodes in {time.perf_counter() - began:.0f} s", flush=True)
    return time.perf_counter() - began


async def load(runtime: Runtime, corpus: Corpus, tenant_id: uuid.UUID, nodes: int) -> Load:
    engine = runtime.engine
    source_seconds = await load_source(runtime.uow, corpus, tenant_id, nodes)
    await settle(
        engine, [table_of(m) for m in (Node, NodeTranslation, NodeBody, NodeTag, Tag, TagTranslation)]
    )
    print(f"    source rows in {source_seconds:.1f} s; rebuilding the index...", flush=True)
    began = time.perf_counter()
    result = await rebuild(runtime.uow, tenant_id, "content", batch_size=REBUILD_BATCH)
    rebuild_seconds = time.perf_counter() - began
    if result.processed != nodes:
        raise RuntimeError(f"the rebuild walked {result.processed} nodes, not {nodes}")
    async with runtime.uow(TenantScope.of(tenant_id), write=False) as uow:
        documents = len((await uow.session.execute(select(ContentDocument.id))).all())
    products = nodes // 10
    began = time.perf_counter()
    for first in range(0, products, BATCH):
        rows = _product_rows(corpus, tenant_id, first, min(BATCH, products - first), NOW)
        await _insert(runtime.uow, tenant_id, [(table_of(ProductDocument), rows)])
    products_seconds = time.perf_counter() - began
    await settle(engine, [table_of(ContentDocument), table_of(ProductDocument)])
    return Load(nodes, documents, products, source_seconds, rebuild_seconds, products_seconds)


async def settle(engine: AsyncEngine, tables: Sequence[Table]) -> None:
    """What a live database's maintenance does after a bulk load of ``tables``: statistics and, on
    PostgreSQL, a VACUUM (which also merges the GIN indexes' pending lists). This machine's PostgreSQL runs
    without autovacuum, so the bench does its work (without statistics, the rebuild's queries on the freshly
    loaded source take plans that are hundreds of times slower)."""
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text("COMMIT"))
            for table in tables:
                await connection.execute(text(f"VACUUM ANALYZE {table.name}"))
        else:
            await connection.execute(text("ANALYZE"))


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


def service_call(uows: UnitOfWorkFactory, tenant_id: uuid.UUID) -> Callable[[str], Awaitable[int]]:
    async def call(query: str) -> int:
        async with uows(TenantScope.of(tenant_id), write=False) as uow:
            page = await search(uow.session, SearchQuery(text=query, limit=20))
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


# --------------------------------------------------------------------------------------- the consumers


@dataclass(frozen=True, slots=True)
class Indexing:
    nodes: int  # made through the content service, their events left for the relay
    events: int  # delivered to the index consumers
    seconds: float  # the relay's drain
    documents: int  # the nodes' documents in the read model after it


def counted(item: Consumer, deliveries: list[int]) -> Consumer:
    """The consumer as it is, counting its deliveries."""

    async def handler(event: Envelope[Any], uow: UnitOfWork) -> None:
        await item.handler(event, uow)
        deliveries[0] += 1

    return consumer(item.name, *item.event_types)(handler)


async def consumer_throughput(runtime: Runtime, corpus: Corpus, tenant_id: uuid.UUID, count: int) -> Indexing:
    """``count`` published nodes (two translations and bodies each) made through the content service
    while no relay runs; then one relay with the index consumers drains their events, timed."""
    deliveries = [0]
    registry = ConsumerRegistry(counted(c, deliveries) for c in INDEX_CONSUMERS)
    # A runtime of the index consumers alone (counted) on the same engine and sessions, with an outbox
    # writer of its own: what its units of work record, its relay is told of.
    async with open_runtime(
        runtime.settings,
        engine=runtime.engine,
        session_factory=runtime.sessions,
        consumers=registry,
        redis=False,
    ) as indexing:
        return await _drain_indexing(indexing, corpus, tenant_id, count, deliveries)


async def _drain_indexing(
    runtime: Runtime, corpus: Corpus, tenant_id: uuid.UUID, count: int, deliveries: list[int]
) -> Indexing:
    relay = runtime.relay()
    await relay.run_until_idle()  # what the setup left
    deliveries[0] = 0
    tenant = ResolvedTenant(
        id=tenant_id,
        name=TENANT_SLUG,
        slug=TENANT_SLUG,
        domain=None,
        default_locale=LOCALES[0],
        is_active=True,
        locales=LOCALES,
    )
    rng = random.Random(f"{SEED}-events")
    node_ids: list[uuid.UUID] = []
    for _ in range(count):
        data = NodeCreate(
            kind="post",
            status="published",
            translations=[
                TranslationIn(locale=locale, title=" ".join(corpus.slice(rng, 4, 8)), excerpt=None)
                for locale in LOCALES
            ],
            bodies=[BodyIn(locale=locale, body=" ".join(corpus.slice(rng, 60, 100))) for locale in LOCALES],
        )
        async with runtime.uow(TenantScope.of(tenant_id)) as uow:
            view = await create_node(RequestContext.system(uow, tenant, runtime.settings), data)
        node_ids.append(view.node.id)
    began = time.perf_counter()
    await relay.run_until_idle()
    seconds = time.perf_counter() - began
    async with runtime.uow(TenantScope.of(tenant_id), write=False) as uow:
        found = await uow.session.execute(
            select(ContentDocument.id).where(ContentDocument.node_id.in_(node_ids))
        )
        documents = len(found.all())
    return Indexing(count, deliveries[0], seconds, documents)


# ------------------------------------------------------------------------------------------------ backend


@dataclass(frozen=True, slots=True)
class BackendResult:
    version: str
    load: Load
    series: list[Series]
    indexing: Indexing
    load_average: str


def bench_settings(url: str) -> Settings:
    return app_settings(url)


async def run_backend(
    backend: str, corpus: Corpus, nodes: int, queries: int, event_nodes: int, postgres_url: str
) -> BackendResult:
    async with fresh_database(backend, postgres_url) as url, migrated_runtime(bench_settings(url)) as runtime:
        version = await server_version(runtime.engine)
        tenant_id = await new_tenant_with_german(runtime.uow, TENANT_SLUG)
        print(f"  {backend}: loading {nodes:,} nodes x 2 locales + {nodes // 10:,} products...", flush=True)
        loaded = await load(runtime, corpus, tenant_id, nodes)
        print(f"  {backend}: rebuilt in {loaded.rebuild_seconds:.1f} s; querying...", flush=True)
        count = queries + WARMUP
        all_series: list[Series] = []
        call = service_call(runtime.uow, tenant_id)
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
        app = create_app(runtime=runtime, configure_logs=False)
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
        print(f"  {backend}: {event_nodes:,} nodes through the content service and the relay...", flush=True)
        indexing = await consumer_throughput(runtime, corpus, tenant_id, event_nodes)
    return BackendResult(version, loaded, all_series, indexing, load_average())


# ------------------------------------------------------------------------------------------------- report


def _ms(values: Sequence[float], share: float) -> str:
    return f"{percentile(values, share) * 1000:.2f}"


def report(result: BackendResult) -> None:
    loaded = result.load
    indexing = result.indexing
    print()
    print(f"== {result.version} ==  (load average after the run: {result.load_average})")
    print(
        f"  source: {loaded.nodes:,} nodes (2 translations, 2 bodies, 0-3 tags each) bulk-inserted in "
        f"{loaded.source_seconds:.1f} s"
    )
    print(
        f"  rebuild (rustok.index.service.rebuild, batches of {REBUILD_BATCH}): {loaded.nodes:,} nodes -> "
        f"{loaded.documents:,} documents in {loaded.rebuild_seconds:.1f} s "
        f"({loaded.nodes / loaded.rebuild_seconds:,.0f} nodes/s, "
        f"{loaded.documents / loaded.rebuild_seconds:,.0f} documents/s, FTS structures included)"
    )
    print(
        f"  products: {loaded.products:,} index_products rows bulk-inserted in "
        f"{loaded.products_seconds:.1f} s"
    )
    print(
        f"  index consumers: {indexing.events:,} events of {indexing.nodes:,} new nodes delivered in "
        f"{indexing.seconds:.1f} s by one relay = {indexing.events / indexing.seconds:,.0f} events/s "
        f"({indexing.nodes / indexing.seconds:,.1f} nodes/s); {indexing.documents:,} documents after"
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
    print_table(
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
    print_table(["backend", "series", "p95 ms", "target"], rows, [False, False, True, False])
    if nodes != DEFAULT_NODES:
        print(f"  (the target is stated for {DEFAULT_NODES:,} nodes; this run loaded {nodes:,})")
    for backend, result in results:
        loaded = result.load
        print(
            f"  {backend}: rebuild of {loaded.nodes:,} nodes {loaded.rebuild_seconds:.1f} s; index consumers "
            f"{result.indexing.events / result.indexing.seconds:,.0f} events/s"
        )


def machine_facts(backends: Sequence[str], postgres_url: str) -> None:
    print_machine("search benchmark", APP_PACKAGES, backends=backends, postgres_url=postgres_url)
    print(
        "  service series: rustok.index.search.search in a read-only tenant unit of work per query; "
        f"rank window {RANK_WINDOW} per type"
    )
    print(
        "  HTTP series: the real app in process (create_app + app_client, httpx over ASGI), anonymous caller"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.split("\n\n")[0])
    add_backend_arguments(parser)
    parser.add_argument("--nodes", type=int, default=DEFAULT_NODES, help="nodes loaded (two rows each)")
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES, help="queries timed per series")
    parser.add_argument(
        "--event-nodes",
        type=int,
        default=DEFAULT_EVENT_NODES,
        help="nodes made through the content service for the consumers' throughput",
    )
    args = parser.parse_args(argv)
    if args.nodes < 1:
        parser.error("--nodes must be at least 1")
    if args.queries < 1:
        parser.error("--queries must be at least 1")
    if args.event_nodes < 1:
        parser.error("--event-nodes must be at least 1")
    return args


async def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    configure_logging("console", "WARNING")
    backends = chosen_backends(args.backend)
    machine_facts(backends, args.postgres_url)
    began = time.perf_counter()
    corpus = Corpus.make()
    print(
        f"  corpus: {VOCABULARY:,} words, {POOL:,} Zipf draws, made in {time.perf_counter() - began:.1f} s",
        flush=True,
    )
    results: list[tuple[str, BackendResult]] = []
    for backend in reachable_backends(backends, args.postgres_url):
        result = await run_backend(
            backend, corpus, args.nodes, args.queries, args.event_nodes, args.postgres_url
        )
        report(result)
        results.append((backend, result))
    if results:
        headline(results, args.nodes)
    print(f"\ntotal run time: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
