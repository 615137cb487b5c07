"""Orders benchmark: how many orders per second the real app places with many buyers at once, on one hot
variant and on many cold ones, beside the app's bare endpoint measured in the same run, on SQLite and
PostgreSQL; and a check, in the same run, that no stock was oversold.

Run it (PostgreSQL: ``--postgres-url``, default ``RUSTOK_TEST_POSTGRES_URL`` or
``postgresql://postgres@127.0.0.1:5432/test``; the bench creates a database ``rustok_bench_<hex>`` on that
server and drops it at the end)::

    .venv/bin/python -m bench.orders [--backend sqlite|postgresql|both] [--buyers N] [--orders-per-buyer K]
                                     [--postgres-url URL]

Each backend gets a fresh database (SQLite: a temporary file), migrated with ``upgrade_async``, one tenant
(``new_tenant``), a manager and ``--buyers`` customers (default 50) signed in through
``POST /api/auth/login`` (``sign_in_as``; cheap Argon2 settings, as the tests use, so signing 50 buyers in
takes no time). The catalog is made through the API (``make_product``, ``make_variant``): active products
priced in EUR. The app is the real one (``create_app``: its middleware, tenant cache and routers), started
by ``app_client`` (its lifespan) and called in process over ASGI by httpx, as the other benches and the
tests call it. Settings as the other benches (no Redis, ``relay_in_process=False``: every order commits its
events to the outbox in its own transaction, nothing delivers them during the run), with a pool of one
connection per buyer.

Scenarios (every buyer a client task on one httpx client, so one event loop and one CPU core for the
clients and the app, as one worker process serves; each buyer sends ``--orders-per-buyer`` orders (default
10) one after the other, each ``POST /api/commerce/orders`` of one unit of one variant, as that customer):

- **hot**: every buyer orders the same variant, whose stock is half of all the orders: the first half are
  placed (201: a conditional UPDATE of the one stock row, which every order waits its turn for, the order
  number drawn from the tenant's counter row, the order and its line, ``inventory.updated`` and
  ``order.placed`` in the outbox), the rest are refused once it is sold out (409 ``insufficient_stock``: the
  same reads, the UPDATE matches no row, the transaction rolls back).
- **cold**: each buyer orders a variant of its own, with stock for half of its orders: no two orders wait
  on one stock row (they still share the tenant's order counter and, on SQLite, the one write lock).
- **bare**: ``GET /health/live`` sent the same way (as many requests, the same number of client tasks): the
  same middleware stack, but no tenant, no authentication, no database.

Before the timed runs every buyer places one order of a warm-up variant (not counted: it opens the pool's
connections). Latency is the client's, from sending to having the whole response (httpx and the ASGI
transport included): p50 and p99 by nearest rank, for the placed (201) and refused (409) orders separately;
any other answer stops the bench. Placed/s is the placed orders over the time until the last of them was
answered; requests/s is every order over the scenario's wall time.

Oversell check, in the same run, after each scenario, from the database: for every variant the quantity
the orders placed (the order lines) is at most its initial stock, ``reserved`` equals it, ``available`` is
not negative, and what the API answered agrees (as many 201s as lines); the tenant's order numbers are
unique. A failure prints OVERSOLD and the bench exits with status 1.

Absolute figures are the machine's: the header prints the Python, SQLite and PostgreSQL versions, the CPU
and the load average (the bench shares the CPU with PostgreSQL and with anything else running).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
from sqlalchemy import func, select
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
    percentile,
    print_machine,
    print_table,
    reachable_backends,
    server_version,
)
from rustok.api.app import create_app
from rustok.commerce.models import InventoryLevel, Order, OrderLine
from rustok.core.logging import configure_logging
from rustok.core.settings import Settings
from rustok.testing.auth import new_tenant, sign_in_as
from rustok.testing.commerce import make_product, make_variant
from rustok.testing.http import app_client

TENANT_SLUG = "bench-orders"
ORDERS = "/api/commerce/orders"
DEFAULT_BUYERS = 50
DEFAULT_ORDERS_PER_BUYER = 10
PRICE = 1999  # EUR cents


# ------------------------------------------------------------------------------------------------ series


@dataclass(slots=True)
class Scenario:
    key: str
    label: str
    stock: dict[str, int] = field(default_factory=dict)  # variant id -> initial stock
    placed: list[float] = field(default_factory=list)  # seconds per 201
    refused: list[float] = field(default_factory=list)  # seconds per 409
    placed_per_variant: dict[str, int] = field(default_factory=dict)  # from the 201s
    wall: float = 0.0
    last_placed_at: float = 0.0  # seconds from the start to the last 201's answer
    check: list[str] = field(default_factory=list)  # what the oversell check found wrong
    summary: str = ""

    @property
    def requests(self) -> int:
        return len(self.placed) + len(self.refused)


@dataclass(slots=True)
class Bare:
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0


async def place(
    client: httpx.AsyncClient, headers: dict[str, str], variant_id: str, scenario: Scenario | None
) -> None:
    """One order of one unit; its latency filed under 201 or 409 (anything else stops the bench)."""
    body = {"currency": "EUR", "items": [{"variant_id": variant_id, "quantity": 1}]}
    started = time.perf_counter()
    response = await client.post(ORDERS, json=body, headers=headers)
    elapsed = time.perf_counter() - started
    refused = response.status_code == 409 and response.json().get("code") == "insufficient_stock"
    if response.status_code != 201 and not refused:
        raise RuntimeError(
            f"POST {ORDERS}: {response.status_code} (expected 201 or 409): {response.text[:500]}"
        )
    if scenario is None:
        return
    if refused:
        scenario.refused.append(elapsed)
        return
    scenario.placed.append(elapsed)
    scenario.placed_per_variant[variant_id] = scenario.placed_per_variant.get(variant_id, 0) + 1


async def run_scenario(
    client: httpx.AsyncClient,
    buyers: Sequence[dict[str, str]],
    variant_of: Callable[[int], str],
    per_buyer: int,
    scenario: Scenario,
) -> None:
    started = time.perf_counter()

    async def buyer(index: int) -> None:
        for _ in range(per_buyer):
            before = len(scenario.placed)
            await place(client, buyers[index], variant_of(index), scenario)
            if len(scenario.placed) > before:
                scenario.last_placed_at = max(scenario.last_placed_at, time.perf_counter() - started)

    await asyncio.gather(*(buyer(index) for index in range(len(buyers))))
    scenario.wall = time.perf_counter() - started


async def run_bare(client: httpx.AsyncClient, headers: dict[str, str], tasks: int, per_task: int) -> Bare:
    bare = Bare()

    async def worker() -> None:
        for _ in range(per_task):
            started = time.perf_counter()
            response = await client.get("/health/live", headers=headers)
            bare.latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"GET /health/live: {response.status_code}")

    for _ in range(2):  # the first round warms up
        bare.latencies.clear()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(tasks)))
        bare.wall = time.perf_counter() - started
    return bare


# --------------------------------------------------------------------------------------------- the check


async def check_stock(engine: AsyncEngine, scenario: Scenario) -> None:
    """From the database: per variant, placed (order lines) ≤ initial stock, reserved == placed, available
    ≥ 0, and as many lines as the API answered 201s. Problems go to ``scenario.check``."""
    ids = [uuid.UUID(v) for v in scenario.stock]
    async with engine.connect() as connection:
        lines = dict(
            (
                await connection.execute(
                    select(OrderLine.variant_id, func.sum(OrderLine.quantity))
                    .where(OrderLine.variant_id.in_(ids))
                    .group_by(OrderLine.variant_id)
                )
            ).all()
        )
        levels = {
            row[0]: (int(row[1]), int(row[2]))
            for row in (
                await connection.execute(
                    select(
                        InventoryLevel.variant_id,
                        func.sum(InventoryLevel.quantity),
                        func.sum(InventoryLevel.reserved),
                    )
                    .where(InventoryLevel.variant_id.in_(ids))
                    .group_by(InventoryLevel.variant_id)
                )
            ).all()
        }
    problems = scenario.check
    most_available, least_available, total_placed, total_stock = None, None, 0, 0
    for variant_id, stock in scenario.stock.items():
        key = uuid.UUID(variant_id)
        placed = int(lines.get(key) or 0)
        quantity, reserved = levels.get(key, (0, 0))
        available = quantity - reserved
        answered = scenario.placed_per_variant.get(variant_id, 0)
        total_placed += placed
        total_stock += stock
        least_available = available if least_available is None else min(least_available, available)
        most_available = available if most_available is None else max(most_available, available)
        if placed > stock:
            problems.append(f"variant {variant_id}: {placed} placed from a stock of {stock}")
        if reserved != placed:
            problems.append(f"variant {variant_id}: reserved {reserved}, but its order lines hold {placed}")
        if available < 0:
            problems.append(f"variant {variant_id}: available {available}")
        if quantity != stock:
            problems.append(f"variant {variant_id}: quantity on hand {quantity}, expected {stock}")
        if answered != placed:
            problems.append(
                f"variant {variant_id}: the API answered {answered} placed, the database has {placed}"
            )
    scenario.summary = (
        f"{len(scenario.stock)} variant(s): {total_placed:,} units placed from a stock of {total_stock:,}, "
        f"reserved == placed for each, available {least_available}..{most_available}"
    )


async def check_numbers(engine: AsyncEngine) -> tuple[int, int]:
    """Orders and distinct order numbers in the database (the one tenant)."""
    async with engine.connect() as connection:
        count, distinct = (
            await connection.execute(select(func.count(Order.id), func.count(func.distinct(Order.number))))
        ).one()
    return int(count), int(distinct)


# --------------------------------------------------------------------------------------------- the run


@dataclass(slots=True)
class BackendResult:
    version: str
    scenarios: list[Scenario]
    bare: Bare
    buyers: int
    per_buyer: int
    orders: int
    numbers: int
    load: str

    @property
    def problems(self) -> list[str]:
        found = [f"{s.key}: {p}" for s in self.scenarios for p in s.check]
        if self.numbers != self.orders:
            found.append(f"{self.orders} orders share {self.numbers} numbers")
        return found


def bench_settings(url: str, buyers: int) -> Settings:
    # Cheap hashes, as in the tests: the buyers sign in, nothing measures it.
    return app_settings(
        url, database_pool_size=max(buyers, 5), password_hash_time_cost=1, password_hash_memory_cost=64
    )


async def new_variant(client: httpx.AsyncClient, manager: dict[str, str], title: str, stock: int) -> str:
    product = await make_product(client, manager, title=title, status="active")
    variant = await make_variant(client, manager, product["id"], amount=PRICE, quantity=stock)
    return str(variant["id"])


async def run_backend(backend: str, buyers: int, per_buyer: int, postgres_url: str) -> BackendResult:
    began = time.perf_counter()
    total = buyers * per_buyer
    async with (
        fresh_database(backend, postgres_url) as url,
        migrated_runtime(bench_settings(url, buyers)) as runtime,
    ):
        engine = runtime.engine
        version = await server_version(engine)
        tenant_id = await new_tenant(runtime.uow, TENANT_SLUG)
        app = create_app(runtime=runtime, configure_logs=False)
        async with app_client(app) as client:
            manager = (await sign_in_as(client, app, tenant_id, "manager")).headers
            customers = [
                (await sign_in_as(client, app, tenant_id, "customer")).headers for _ in range(buyers)
            ]
            warm = await new_variant(client, manager, "Warm-up", buyers)
            hot = Scenario("hot", f"hot: {buyers} buyers, one variant")
            hot_id = await new_variant(client, manager, "Hot", total // 2)
            hot.stock[hot_id] = total // 2
            cold = Scenario("cold", f"cold: {buyers} buyers, a variant each")
            cold_ids = [
                await new_variant(client, manager, f"Cold {n}", per_buyer // 2) for n in range(buyers)
            ]
            cold.stock = dict.fromkeys(cold_ids, per_buyer // 2)
            await asyncio.gather(*(place(client, headers, warm, None) for headers in customers))
            print(
                f"  {backend}: ready in {time.perf_counter() - began:.1f} s; {buyers} buyers x "
                f"{per_buyer} orders, hot then cold...",
                flush=True,
            )
            began = time.perf_counter()
            bare = await run_bare(client, {"X-Tenant-ID": str(tenant_id)}, buyers, per_buyer)
            await run_scenario(client, customers, lambda _: hot_id, per_buyer, hot)
            await check_stock(engine, hot)
            await run_scenario(client, customers, lambda index: cold_ids[index], per_buyer, cold)
            await check_stock(engine, cold)
            print(f"  {backend}: done in {time.perf_counter() - began:.1f} s", flush=True)
        orders, numbers = await check_numbers(engine)
    return BackendResult(version, [hot, cold], bare, buyers, per_buyer, orders, numbers, load_average())


# ---------------------------------------------------------------------------------------------- report


def _ms(values: Sequence[float], share: float) -> str:
    return f"{percentile(values, share) * 1000:.2f}" if values else "-"


def placed_per_second(scenario: Scenario) -> float:
    return len(scenario.placed) / scenario.last_placed_at if scenario.last_placed_at else float("nan")


def report(result: BackendResult) -> None:
    print()
    print(f"== {result.version} ==  (load average after the run: {result.load})")
    print()
    print(
        f"{result.buyers} concurrent buyers on one event loop, {result.per_buyer} single-unit orders each "
        f"({result.buyers * result.per_buyer:,} per scenario); stock for half of them"
    )
    rows = []
    for s in result.scenarios:
        rows.append(
            [
                s.label,
                f"{s.requests:,}",
                f"{s.requests / s.wall:,.0f}",
                f"{len(s.placed):,}",
                f"{placed_per_second(s):,.0f}",
                f"{mean(s.placed) * 1000:.2f}",
                _ms(s.placed, 0.50),
                _ms(s.placed, 0.99),
                f"{len(s.refused):,}",
                f"{mean(s.refused) * 1000:.2f}" if s.refused else "-",
                _ms(s.refused, 0.50),
                _ms(s.refused, 0.99),
            ]
        )
    bare = result.bare
    rows.append(
        [
            "bare: GET /health/live",
            f"{len(bare.latencies):,}",
            f"{len(bare.latencies) / bare.wall:,.0f}",
            "",
            "",
            f"{mean(bare.latencies) * 1000:.2f}",
            _ms(bare.latencies, 0.50),
            _ms(bare.latencies, 0.99),
            "",
            "",
            "",
            "",
        ]
    )
    print_table(
        (
            "scenario",
            "requests",
            "req/s",
            "201",
            "placed/s",
            "201 mean ms",
            "201 p50",
            "201 p99",
            "409",
            "409 mean ms",
            "409 p50",
            "409 p99",
        ),
        rows,
        (False,) + (True,) * 11,
    )
    print(
        "  (placed/s = 201s / time to the last 201; req/s = every order / wall time; bare: the same number "
        "of requests by as many tasks, latency columns under 201)"
    )
    if result.version.startswith("SQLite"):
        print("  (SQLite: one writer at a time; every order queues for the write lock, BEGIN IMMEDIATE)")
    print()
    for s in result.scenarios:
        verdict = "OK" if not s.check else "OVERSOLD"
        print(f"  stock check, {s.key}: {verdict}: {s.summary}")
        for problem in s.check:
            print(f"    !!! OVERSOLD !!! {problem}")
    numbers_ok = result.numbers == result.orders
    print(
        f"  order numbers: {result.orders:,} orders (warm-up included), {result.numbers:,} distinct numbers: "
        f"{'OK' if numbers_ok else 'DUPLICATES'}"
    )


def headline(results: Sequence[tuple[str, BackendResult]]) -> None:
    print()
    print(
        "HEADLINE: placing an order ÷ bare, same app, same run. placed/s ÷ bare req/s (the share of the bare "
        "throughput kept); p50/p99 of a placed order ÷ bare p50/p99 (times slower)"
    )
    rows = []
    for backend, result in results:
        bare = result.bare
        bare_ops = len(bare.latencies) / bare.wall
        bare_p50, bare_p99 = percentile(bare.latencies, 0.5), percentile(bare.latencies, 0.99)
        for s in result.scenarios:
            rows.append(
                [
                    backend,
                    s.key,
                    f"{placed_per_second(s):,.0f}",
                    f"{placed_per_second(s) / bare_ops:.3f}",
                    f"{percentile(s.placed, 0.5) / bare_p50:.1f}x",
                    f"{percentile(s.placed, 0.99) / bare_p99:.1f}x",
                    f"{percentile(s.refused, 0.5) / bare_p50:.1f}x" if s.refused else "-",
                    "OK" if not s.check else "OVERSOLD",
                ]
            )
        rows.append(
            [
                backend,
                "(bare)",
                f"{bare_ops:,.0f}",
                "",
                f"{bare_p50 * 1000:.2f} ms",
                f"{bare_p99 * 1000:.2f} ms",
                "",
                "",
            ]
        )
    print_table(
        ("backend", "scenario", "placed/s", "÷ bare", "p50 ÷ bare", "p99 ÷ bare", "409 p50 ÷ bare", "stock"),
        rows,
        (False, False, True, True, True, True, True, False),
    )


def machine_facts(backends: Sequence[str], postgres_url: str) -> None:
    print_machine("orders benchmark", APP_PACKAGES, backends=backends, postgres_url=postgres_url)
    print(
        "  the real app in process (create_app + app_client, httpx over ASGI), one event loop, no Redis; "
        "relay not in process:"
    )
    print(
        "  each order commits its events to the outbox in its transaction, but they are not delivered "
        "during the run"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.orders", description=__doc__.split("\n\n")[0])
    add_backend_arguments(parser)
    parser.add_argument("--buyers", type=int, default=DEFAULT_BUYERS, help="concurrent buyers (client tasks)")
    parser.add_argument(
        "--orders-per-buyer",
        type=int,
        default=DEFAULT_ORDERS_PER_BUYER,
        help="orders each buyer places per scenario, one after the other (stock: half of them)",
    )
    args = parser.parse_args(argv)
    if args.buyers < 1:
        parser.error("--buyers must be at least 1")
    if args.orders_per_buyer < 2:
        parser.error("--orders-per-buyer must be at least 2 (stock is half of them)")
    return args


async def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging("console", "WARNING")
    backends = chosen_backends(args.backend)
    machine_facts(backends, args.postgres_url)
    results: list[tuple[str, BackendResult]] = []
    for backend in reachable_backends(backends, args.postgres_url):
        result = await run_backend(backend, args.buyers, args.orders_per_buyer, args.postgres_url)
        report(result)
        results.append((backend, result))
    if results:
        headline(results)
    problems = [f"{backend}: {p}" for backend, result in results for p in result.problems]
    if problems:
        print()
        print("!" * 100)
        print(f"OVERSOLD: the stock check failed ({len(problems)} problem(s)):")
        for problem in problems:
            print(f"  {problem}")
        print("!" * 100)
        return 1
    print()
    print("stock check: no oversell on any backend (placed ≤ stock, reserved == placed, available ≥ 0)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
