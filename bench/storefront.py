"""Storefront benchmark: what an anonymous shop front-end's reads cost on a catalog of some size, on SQLite
and PostgreSQL: a product page (by handle, with variants, prices in one currency, availability and
images), list pages newest first and by price (first and deep), a filtered list, beside the app's bare
endpoint measured in the same run; with the SQL statements each request ran.

Run it (PostgreSQL: ``--postgres-url``, default ``RUSTOK_TEST_POSTGRES_URL`` or
``postgresql://postgres@127.0.0.1:5432/test``; the bench creates a database ``rustok_bench_<hex>`` on that
server and drops it at the end)::

    .venv/bin/python -m bench.storefront [--backend sqlite|postgresql|both] [--products N] [--requests R]
                                         [--postgres-url URL]

Each backend gets a fresh database (SQLite: a temporary file), migrated with ``upgrade_async``, one tenant
(``new_tenant``) and a manager, who makes the catalog through the API: ``--products`` active products
(default 1,000), each with one image (one uploaded media item, shared) and two variants priced in EUR and
USD (the cheap one at a pseudo-random price, in stock for two products in three; the other dearer and sold
out). On PostgreSQL the bench then runs ``ANALYZE``, as autovacuum would (see `analyze`). The app is the
real one (``create_app``), started by ``app_client`` and called in process over ASGI by httpx, as the other
benches; settings as the other benches (no Redis, no relay in the process).

Series, each ``--requests`` (default 200) anonymous GETs sent one after the other (``X-Tenant-ID`` only):

- **bare**: ``GET /health/live`` (the middleware stack; no tenant, no database);
- **product page**: ``GET /api/commerce/products/by-handle/{handle}?currency=EUR``, a handle drawn in turn
  from the catalog;
- **newest**: ``GET /api/commerce/products?currency=EUR&limit=20``;
- **by price**: ``...&sort=price`` (first page), and **by price, deep**: the same with the cursor of page
  ``--products // 40`` (half-way through the catalog, walked once before the clock starts);
- **filtered**: ``...&sort=price&in_stock=true&min_price=2000&max_price=6000`` (about a third of the
  catalog by price, two thirds of that in stock).

Latency is the client's (httpx and the ASGI transport included), p50 and p99 by nearest rank;
requests/s is the series' requests over its wall time. Statements/request are those the app's engine ran
during the series (``rustok.testing.count_statements``), divided by its requests: the tenant cache is warm,
so they are the read's own. Before each series one request of it is sent untimed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import (
    APP_PACKAGES,
    add_backend_arguments,
    app_settings,
    chosen_backends,
    fresh_database,
    load_average,
    migrated_runtime,
    percentile,
    print_machine,
    print_table,
    reachable_backends,
    server_version,
)
from rustok.api.app import create_app
from rustok.core.logging import configure_logging
from rustok.core.settings import Settings
from rustok.testing.auth import new_tenant, sign_in_as
from rustok.testing.commerce import make_product, make_variant
from rustok.testing.http import app_client
from rustok.testing.media import upload_media
from rustok.testing.statements import count_statements

TENANT_SLUG = "bench-storefront"
PRODUCTS = "/api/commerce/products"
DEFAULT_PRODUCTS = 1000
DEFAULT_REQUESTS = 200
SEED = 15


@dataclass(slots=True)
class Series:
    label: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    statements: int = 0
    response_bytes: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies)


@dataclass(slots=True)
class BackendResult:
    version: str
    products: int
    series: list[Series]
    load: str


async def seed(client: httpx.AsyncClient, manager: dict[str, str], count: int) -> list[str]:
    """The catalog (see the module's docstring); the products' handles."""
    rng = random.Random(SEED)
    image = await upload_media(client, manager, alt="A pixel")
    handles = []
    for index in range(count):
        product = await make_product(
            client,
            manager,
            title=f"Product {index}",
            status="active",
            description=f"**Product {index}**, made for the storefront bench.",
            images=[{"media_id": image["id"]}],
        )
        amount = rng.randrange(500, 10_000)
        prices = [{"currency": "EUR", "amount": amount}, {"currency": "USD", "amount": amount + 100}]
        await make_variant(client, manager, product["id"], prices=prices, quantity=int(index % 3 != 0))
        dearer = [{"currency": "EUR", "amount": amount + 5000}, {"currency": "USD", "amount": amount + 5100}]
        await make_variant(client, manager, product["id"], prices=dearer, quantity=0)
        handles.append(product["translations"][0]["handle"])
    return handles


async def analyze(engine: AsyncEngine) -> None:
    """On PostgreSQL, gather the planner's statistics of the new catalog, as autovacuum does on a server
    that runs it (this machine's test server has it off: without statistics the in-stock filter's EXISTS
    gets a plan that reads every variant of the tenant per product). SQLite is left as the app leaves it."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
            await connection.commit()


async def deep_cursor(client: httpx.AsyncClient, headers: dict[str, str], pages: int) -> str:
    """The cursor after ``pages`` pages of 20 by price."""
    cursor: str | None = None
    for _ in range(pages):
        params: dict[str, Any] = {"currency": "EUR", "sort": "price", "limit": 20}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get(PRODUCTS, params=params, headers=headers)
        response.raise_for_status()
        cursor = response.json()["next_cursor"]
        if cursor is None:
            raise RuntimeError("the catalog ended before the deep page")
    assert cursor is not None
    return cursor


async def run_series(
    client: httpx.AsyncClient,
    engine: Any,
    headers: dict[str, str],
    series: Series,
    requests: int,
    handles: Sequence[str] = (),
) -> None:
    def path(index: int) -> str:
        return series.path.format(handle=handles[index % len(handles)]) if handles else series.path

    (await client.get(path(0), params=series.params, headers=headers)).raise_for_status()
    async with count_statements(engine) as statements:
        began = time.perf_counter()
        for index in range(requests):
            started = time.perf_counter()
            response = await client.get(path(index + 1), params=series.params, headers=headers)
            series.latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path(index + 1)}: {response.status_code}: {response.text[:300]}")
            series.response_bytes += len(response.content)
        series.wall = time.perf_counter() - began
    series.statements = statements.count


async def run_backend(backend: str, products: int, requests: int, postgres_url: str) -> BackendResult:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rustok-bench-media-") as media_dir:
        async with fresh_database(backend, postgres_url) as url:
            # Cheap hashes, as in the tests: the manager signs in, nothing measures it.
            settings = app_settings(
                url, media_dir=Path(media_dir), password_hash_time_cost=1, password_hash_memory_cost=64
            )
            return await _run(backend, settings, products, requests, began)


async def _run(backend: str, settings: Settings, products: int, requests: int, began: float) -> BackendResult:
    async with migrated_runtime(settings) as runtime:
        version = await server_version(runtime.engine)
        tenant_id = await new_tenant(runtime.uow, TENANT_SLUG)
        app = create_app(runtime=runtime, configure_logs=False)
        async with app_client(app) as client:
            manager = (await sign_in_as(client, app, tenant_id, "manager")).headers
            handles = await seed(client, manager, products)
            await analyze(runtime.engine)
            visitor = {"X-Tenant-ID": str(tenant_id)}
            cursor = await deep_cursor(client, visitor, max(1, products // 40))
            print(
                f"  {backend}: catalog of {products} ready in {time.perf_counter() - began:.1f} s", flush=True
            )
            eur = {"currency": "EUR", "limit": 20}
            by_price = {**eur, "sort": "price"}
            series = [
                Series("bare: GET /health/live", "/health/live"),
                Series(
                    "product page (by handle, EUR)", f"{PRODUCTS}/by-handle/{{handle}}", {"currency": "EUR"}
                ),
                Series("list: newest, 20", PRODUCTS, eur),
                Series("list: by price, 20, first page", PRODUCTS, by_price),
                Series("list: by price, 20, half-way", PRODUCTS, {**by_price, "cursor": cursor}),
                Series(
                    "list: by price, in stock, 20-60 EUR",
                    PRODUCTS,
                    {**by_price, "in_stock": "true", "min_price": 2000, "max_price": 6000},
                ),
            ]
            for one in series:
                await run_series(
                    client, runtime.engine, visitor, one, requests, handles if "{handle}" in one.path else ()
                )
    return BackendResult(version, products, series, load_average())


def report(backend: str, result: BackendResult) -> None:
    print()
    print(f"{backend}: {result.version}; {result.products} products; load average after: {result.load}")
    rows = []
    for series in result.series:
        ms = [value * 1000 for value in series.latencies]
        rows.append(
            [
                series.label,
                f"{series.requests / series.wall:,.0f}",
                f"{percentile(ms, 0.5):.2f}",
                f"{percentile(ms, 0.99):.2f}",
                f"{series.statements / series.requests:.1f}",
                f"{series.response_bytes / series.requests / 1024:.1f}",
            ]
        )
    print_table(
        ["series", "req/s", "p50 ms", "p99 ms", "SQL/req", "KiB/resp"],
        rows,
        [False, True, True, True, True, True],
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.storefront", description=__doc__.split("\n\n")[0])
    add_backend_arguments(parser)
    parser.add_argument(
        "--products", type=int, default=DEFAULT_PRODUCTS, help="active products in the catalog"
    )
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS, help="requests per series")
    args = parser.parse_args(argv)
    if args.products < 40:
        parser.error("--products must be at least 40 (the deep page is products // 40 pages in)")
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    return args


async def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging("console", "WARNING")
    backends = chosen_backends(args.backend)
    print_machine("storefront benchmark", APP_PACKAGES, backends=backends, postgres_url=args.postgres_url)
    print("  the real app in process (create_app + app_client, httpx over ASGI), one event loop, no Redis")
    for backend in reachable_backends(backends, args.postgres_url):
        report(backend, await run_backend(backend, args.products, args.requests, args.postgres_url))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
