"""Tenant cache benchmark: how many database lookups a burst of cold requests costs, and what resolving the
tenant adds to a request once it is cached, on SQLite and PostgreSQL.

Run it (PostgreSQL from ``RUSTOK_TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``;
the bench creates a database ``rustok_bench_<hex>`` on that server and drops it at the end; Redis at
``--redis``, default ``redis://127.0.0.1:6379/14``, of which it only touches keys under ``rustok:tenants:``)::

    .venv/bin/python -m bench.tenant_cache [--backend sqlite|postgresql|all] [--requests N] [--redis URL|none]

Each backend gets a fresh database (SQLite: a temporary file), migrated with ``upgrade_async``, with a few
tenants made by ``create_tenant`` in a platform unit of work. Every "process" below is the real app
(``create_app``: its middleware, its tenant cache, its routers; no relay) started by ``app_client`` (its
lifespan) and called in process over ASGI by httpx, with an engine of its own on which a
``before_cursor_execute`` listener counts the statements that read the tenants table (``FROM tenants``).

Figures:

- **Lookups per 1,000 concurrent cold requests**: a freshly started app (empty process cache, no Redis) gets
  1,000 ``GET /api/tenant`` with ``X-Tenant-ID: <slug>`` at once (``asyncio.gather``) for one existing
  tenant; another one gets 1,000 for a tenant that does not exist (404s). Printed: the database lookups the
  cache counted (``TenantCache.lookups``), the statements ``FROM tenants`` the engine ran, the responses and
  the burst's wall time. Expected: 1 and 1 (singleflight, then a positive or a negative entry).
- **The same with Redis as the shared layer**: two apps (two processes, simulated by two app instances, each
  with its own in-process cache and engine) on the same Redis, the bench's keys flushed first; 1,000 cold
  requests to the first, then 1,000 to the second. Expected: 1 lookup in the first, 0 in the second (it
  reads the entry the first wrote). Then the same for the missing tenant (a negative entry in Redis), and a
  variant where both bursts run at once: singleflight is per process, so each may miss Redis while the
  other's lookup is in flight (at most 1 each). Skipped, with a note, when Redis is unreachable or with
  ``--redis none``.
- **Resolution overhead per request, cached**: on one app, after a warm-up, ``--requests`` (default 5,000)
  sequential ``GET /api/tenant`` (resolved by the middleware, from the in-process cache) and as many
  ``GET /bench/bare``: a route the bench adds outside ``/api`` (so not resolved) that answers the same JSON
  (the same ``CurrentTenant`` of the same tenant, same path length, same headers, same middleware stack
  otherwise, ``public()`` like the real one). It is served like the real one too: the only route of an
  included router (FastAPI dispatches included routes in more steps than the app's own), placed just before
  the router that holds ``/api/tenant``. So the resolved request also tries, and misses, that one-route
  router on its way; a third series measures what that costs (the bare request with a one-route decoy
  router, ``/bench/decoy``, put in front of it), and "resolution alone" subtracts it. The series alternate
  in chunks of 50 to cancel drift. Timed twice: through ``app_client`` (httpx over ASGI, as the tests call
  the app) and straight into the app's ASGI callable (no client: the app alone, where the ratio is sharper;
  the router-miss series runs there, and its mean and p50 correct both). Mean, p50 and p99 microseconds,
  the ratio resolved / bare and the difference. Then the cache alone: ``await cache.get(("slug", slug))`` on
  a hit, and ``resolve(...)`` (the middleware's lookup from the headers), in a tight loop (best of 5 runs
  of 20,000; hot CPU caches, so less than the same calls cost inside a request).

While 1,000 requests (2,000 in the "both at once" run) hold the one event loop, the Redis apps' invalidation
listeners may log ``tenant_cache_redis_failed ... operation=listen`` (a read timing out, then a reconnect
after 1 s); the figures do not depend on it.

Absolute figures are the machine's: the header prints the Python, SQLite, PostgreSQL and Redis versions, the
CPU and the load average (the bench shares the CPU with PostgreSQL, Redis and anything else running). The
httpx round trip includes the client and the ASGI transport, which cost more than the app itself; "resolution
alone" (the difference less the router miss) is what resolving a cached tenant costs a request, and its
ratio the share of a request it adds, with or without that client around the app.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import event
from starlette.routing import BaseRoute
from starlette.types import Message, Scope

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
from rustok.bootstrap import Runtime, open_runtime
from rustok.core.logging import configure_logging
from rustok.core.routing import make_router, walk_routes
from rustok.core.security import public
from rustok.core.settings import Settings
from rustok.outbox.registry import ConsumerRegistry
from rustok.tenants.cache import ResolvedTenant, TenantCache, TenantKey
from rustok.tenants.http import CurrentTenant
from rustok.tenants.resolution import resolve
from rustok.tenants.schemas import TenantCreate
from rustok.tenants.service import create_tenant
from rustok.testing.http import app_client
from rustok.testing.services import postgres_admin_url

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
KEY_PREFIX = "rustok:tenants:"  # the cache's keys; the bench flushes only these
BURST = 1_000
SLUG = "bench-busy"  # the tenant every request asks for
GHOST = "bench-ghost"  # a tenant that does not exist
OTHER_SLUGS = ("bench-alpha", "bench-beta", "bench-gamma", "bench-delta")
RESOLVED_PATH = "/api/tenant"
BARE_PATH = "/bench/bare"  # same length as RESOLVED_PATH, outside /api: not resolved
DECOY_PATH = "/bench/decoy"  # never requested: a router the bare request misses in the calibration series
WARMUP_REQUESTS = 500
CHUNK = 50
RAW_LOOPS = 20_000
RAW_REPEATS = 5


# ----------------------------------------------------------------------------------------------- counting


class TenantQueries:
    """Counts the statements that read the tenants table, on one engine."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM tenants" in statement:
            self.count += 1


@dataclass(slots=True)
class Process:
    """One app, started, as one process of the fleet would run it."""

    runtime: Runtime
    app: FastAPI
    client: httpx.AsyncClient
    queries: TenantQueries

    @property
    def cache(self) -> TenantCache:
        return self.runtime.tenant_cache


@dataclass(slots=True)
class Burst:
    lookups: int  # loads the cache counted (reached the database)
    statements: int  # statements FROM tenants the process's engine ran
    statuses: Counter[int]
    seconds: float

    def responses(self) -> str:
        return ", ".join(f"{count:,} x {status}" for status, count in sorted(self.statuses.items()))


@dataclass(slots=True)
class ColdRow:
    figure: str
    burst: Burst
    expected: int | None  # lookups; None: not judged


@dataclass(slots=True)
class Timing:
    resolved_us: list[float]  # through httpx (app_client)
    bare_us: list[float]
    app_resolved_us: list[float]  # straight into the app's ASGI callable
    app_bare_us: list[float]
    app_decoyed_us: list[float]  # the bare route behind a one-route router it misses
    cache_get_us: float
    resolve_us: float
    body_bytes: tuple[int, int]


@dataclass(slots=True)
class BackendResult:
    version: str
    cold: list[ColdRow]
    redis_note: str
    timing: Timing
    load: str


# ------------------------------------------------------------------------------------------------ the app


async def bare_tenant(request: Request) -> CurrentTenant:
    """The bench's route outside /api: the same answer as GET /api/tenant, without resolution."""
    tenant: ResolvedTenant = request.app.state.bench_tenant
    return CurrentTenant(
        id=str(tenant.id),
        name=tenant.name,
        slug=tenant.slug,
        default_locale=tenant.default_locale,
        locales=list(tenant.locales),
    )


def _one_route_router(path: str) -> APIRouter:
    """An included-router-to-be with one route, ``GET path``, answering like ``GET /api/tenant``."""
    prefix, _, rest = path.rpartition("/")
    router = make_router(prefix=prefix, tags=["bench"])
    router.add_api_route(
        "/" + rest, bare_tenant, methods=["GET"], response_model=CurrentTenant, dependencies=[public()]
    )
    return router


def _holder(app: FastAPI, path: str) -> int:
    """The index, among the app's top-level routes, of the one that serves ``path``."""
    return next(
        index
        for index, route in enumerate(app.router.routes)
        if any(found.path == path for found in walk_routes([route]))
    )


def add_bare_route(app: FastAPI) -> None:
    """Add ``GET /bench/bare`` the way ``GET /api/tenant`` is served: the only route of an included router
    (FastAPI dispatches included routes in more steps than the app's own), placed just before the router
    that holds ``/api/tenant``, so the router tries the same routes before reaching either, except this one
    for the resolved request."""
    app.include_router(_one_route_router(BARE_PATH))
    bare = app.router.routes.pop()
    app.router.routes.insert(_holder(app, RESOLVED_PATH), bare)


def make_decoy(app: FastAPI) -> BaseRoute:
    """A one-route included router (``GET /bench/decoy``), not in the app until `place_decoy` puts it
    there: in front of the bare route, it makes the bare request miss one router more, as the resolved
    request misses the bare route's router."""
    app.include_router(_one_route_router(DECOY_PATH))
    return app.router.routes.pop()


def place_decoy(app: FastAPI, decoy: BaseRoute, present: bool) -> None:
    routes = app.router.routes
    if decoy in routes:
        routes.remove(decoy)
    if present:
        routes.insert(_holder(app, BARE_PATH), decoy)


def bench_settings(url: str, redis_url: str | None) -> Settings:
    return app_settings(url, redis_url=redis_url)


@contextlib.asynccontextmanager
async def process(url: str, redis_url: str | None = None) -> AsyncIterator[Process]:
    """A started app with an engine of its own (counted), its own tenant cache, and a client on it."""
    async with open_runtime(bench_settings(url, redis_url), consumers=ConsumerRegistry()) as runtime:
        engine = runtime.engine
        queries = TenantQueries()
        event.listen(engine.sync_engine, "before_cursor_execute", queries)
        try:
            app = create_app(runtime=runtime, configure_logs=False)
            add_bare_route(app)
            async with app_client(app) as client:
                yield Process(runtime, app, client, queries)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", queries)


# ------------------------------------------------------------------------------------------- databases


async def prepare(url: str) -> str:
    """Migrate, create the tenants; the server's version."""
    async with migrated_runtime(bench_settings(url, None), consumers=ConsumerRegistry()) as runtime:
        async with runtime.platform(write=True) as uow:
            for slug in (SLUG, *OTHER_SLUGS):
                await create_tenant(uow, TenantCreate(name=slug.replace("-", " ").title(), slug=slug))
        return await server_version(runtime.engine)


# ------------------------------------------------------------------------------------------------- redis


async def redis_facts(url: str | None) -> tuple[bool, str]:
    """Whether Redis answers at ``url``, and what to print about it."""
    if url is None:
        return False, "not used (--redis none)"
    client = Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
    try:
        await client.ping()
        info: dict[str, Any] = await client.info("server")
        return True, f"Redis {info.get('redis_version', '?')} at {url}"
    except (RedisError, OSError) as exc:
        return False, f"unreachable at {url} ({type(exc).__name__})"
    finally:
        await client.aclose()


async def flush_bench_keys(url: str) -> int:
    """Delete the cache's keys (``rustok:tenants:*``) in the bench's Redis database, nothing else."""
    client = Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=5.0)
    try:
        keys = [key async for key in client.scan_iter(match=KEY_PREFIX + "*", count=1_000)]
        if keys:
            await client.delete(*keys)
        return len(keys)
    finally:
        await client.aclose()


# ---------------------------------------------------------------------------------------------- figures


async def burst(proc: Process, header: str, n: int = BURST) -> Burst:
    """``n`` concurrent GET /api/tenant for ``header``; what they cost the database."""
    proc.queries.count = 0
    lookups = proc.cache.lookups
    started = time.perf_counter()
    responses = await asyncio.gather(
        *(proc.client.get(RESOLVED_PATH, headers={"X-Tenant-ID": header}) for _ in range(n))
    )
    seconds = time.perf_counter() - started
    return Burst(
        proc.cache.lookups - lookups,
        proc.queries.count,
        Counter(r.status_code for r in responses),
        seconds,
    )


async def measure_cold(url: str, redis_url: str | None, redis_ok: bool) -> list[ColdRow]:
    rows: list[ColdRow] = []
    for header, what in ((SLUG, "existing tenant"), (GHOST, "missing tenant (404)")):
        async with process(url) as proc:
            rows.append(ColdRow(f"{BURST:,} cold, {what}, no Redis", await burst(proc, header), 1))
    if redis_url is None or not redis_ok:
        return rows
    for header, what in ((SLUG, "existing"), (GHOST, "missing")):
        await flush_bench_keys(redis_url)
        async with process(url, redis_url) as first, process(url, redis_url) as second:
            one = await burst(first, header)
            two = await burst(second, header)
        rows.append(ColdRow(f"Redis, {what}: app 1, {BURST:,} cold", one, 1))
        rows.append(ColdRow(f"  then app 2, {BURST:,} cold", two, 0))
    await flush_bench_keys(redis_url)
    async with process(url, redis_url) as first, process(url, redis_url) as second:
        one, two = await asyncio.gather(burst(first, SLUG), burst(second, SLUG))
    rows.append(ColdRow(f"Redis, existing, both at once: app 1, {BURST:,}", one, None))
    rows.append(ColdRow(f"  app 2, {BURST:,} at the same time", two, None))
    await flush_bench_keys(redis_url)
    return rows


async def _per_call_us(call: Callable[[], Awaitable[object]]) -> float:
    """Microseconds per ``await call()``, best of ``RAW_REPEATS`` runs of ``RAW_LOOPS`` (loop included)."""
    best = float("inf")
    for _ in range(RAW_REPEATS):
        started = time.perf_counter()
        for _ in range(RAW_LOOPS):
            await call()
        best = min(best, time.perf_counter() - started)
    return best / RAW_LOOPS * 1e6


async def call_app(app: FastAPI, path: str) -> int:
    """One GET of ``path`` straight into the app's ASGI callable (no client, no transport): its status."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"x-tenant-id", SLUG.encode())],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50_000),
    }
    status = 0
    requested = False
    done = asyncio.Event()

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    await app(scope, receive, send)
    return status


async def interleaved(
    requests: int,
    get: Callable[[str], Awaitable[int]],
    series: Sequence[tuple[str, bool]],
    set_decoy: Callable[[bool], None],
) -> list[list[float]]:
    """``requests`` sequential GETs for each of ``series`` (a path, and whether the decoy router is in
    place), alternating in chunks of ``CHUNK``: microseconds of each request, per series."""
    timings: list[list[float]] = [[] for _ in series]
    statuses: Counter[int] = Counter()
    chunks = [CHUNK] * (requests // CHUNK) + ([requests % CHUNK] if requests % CHUNK else [])
    try:
        for size in chunks:
            for (path, decoy), into in zip(series, timings, strict=True):
                set_decoy(decoy)
                for _ in range(size):
                    started = time.perf_counter()
                    status = await get(path)
                    into.append((time.perf_counter() - started) * 1e6)
                    statuses[status] += 1
    finally:
        set_decoy(False)
    if set(statuses) != {200}:
        raise RuntimeError(f"unexpected statuses in the timed requests: {dict(statuses)}")
    return timings


async def measure_cached(url: str, requests: int) -> Timing:
    async with process(url) as proc:
        client, app = proc.client, proc.app
        headers = {"X-Tenant-ID": SLUG}
        tenant = await proc.cache.get(("slug", SLUG))
        assert tenant is not None
        app.state.bench_tenant = tenant
        resolved_body = (await client.get(RESOLVED_PATH, headers=headers)).content
        bare_body = (await client.get(BARE_PATH, headers=headers)).content
        if resolved_body != bare_body:
            raise RuntimeError(f"the two routes answer differently: {resolved_body!r} != {bare_body!r}")

        async def through_httpx(path: str) -> int:
            return (await client.get(path, headers=headers)).status_code

        async def straight_in(path: str) -> int:
            return await call_app(app, path)

        decoy = make_decoy(app)

        def set_decoy(present: bool) -> None:
            place_decoy(app, decoy, present)

        for index in range(WARMUP_REQUESTS):
            set_decoy(index % 4 == 3)
            path = RESOLVED_PATH if index % 2 else BARE_PATH
            await through_httpx(path)
            await straight_in(path)
        set_decoy(False)
        resolved, bare = await interleaved(
            requests, through_httpx, [(RESOLVED_PATH, False), (BARE_PATH, False)], set_decoy
        )
        app_resolved, app_bare, app_decoyed = await interleaved(
            requests, straight_in, [(RESOLVED_PATH, False), (BARE_PATH, False), (BARE_PATH, True)], set_decoy
        )

        cache = proc.cache
        key: TenantKey = ("slug", SLUG)
        settings: Settings = app.state.settings
        raw_headers = {b"x-tenant-id": SLUG.encode(), b"host": b"testserver"}
        cache_get_us = await _per_call_us(lambda: cache.get(key))
        resolve_us = await _per_call_us(lambda: resolve(cache, settings, raw_headers))
    return Timing(
        resolved,
        bare,
        app_resolved,
        app_bare,
        app_decoyed,
        cache_get_us,
        resolve_us,
        (len(resolved_body), len(bare_body)),
    )


async def run_backend(
    backend: str, requests: int, redis_url: str | None, redis_ok: bool, redis_about: str
) -> BackendResult:
    async with fresh_database(backend) as url:
        version = await prepare(url)
        print(f"  {backend}: {BURST:,}-request cold bursts...", flush=True)
        cold = await measure_cold(url, redis_url, redis_ok)
        print(f"  {backend}: {requests:,} cached requests each way...", flush=True)
        timing = await measure_cached(url, requests)
    note = "" if redis_url is not None and redis_ok else f"Redis part skipped: {redis_about}"
    return BackendResult(version, cold, note, timing, load_average())


# ---------------------------------------------------------------------------------------------- report


def report(result: BackendResult) -> None:
    print()
    print(f"== {result.version} ==  (load average during the run: {result.load})")
    print("lookups per 1,000 concurrent cold GET /api/tenant")
    rows: list[list[str]] = []
    for row in result.cold:
        b = row.burst
        if row.expected is None:
            verdict = "<= 1 (per-process singleflight)"
        else:
            ok = b.lookups == row.expected and b.statements == row.expected
            verdict = f"{row.expected}: {'ok' if ok else 'UNEXPECTED'}"
        rows.append(
            [
                row.figure,
                f"{b.lookups:,}",
                f"{b.statements:,}",
                b.responses(),
                f"{b.seconds * 1000:,.0f} ms",
                verdict,
            ]
        )
    print_table(
        ("burst", "db lookups", "FROM tenants", "responses", "wall", "expected"),
        rows,
        (False, True, True, False, True, False),
    )
    if result.redis_note:
        print(f"  note: {result.redis_note}")

    t = result.timing
    print()
    print(
        f"resolution overhead per request, cached ({len(t.resolved_us):,} sequential requests each way, "
        f"alternating in chunks of {CHUNK}; both answer the same {t.body_bytes[0]} bytes of JSON)"
    )
    stats: tuple[Callable[[Sequence[float]], float], ...] = (
        mean,
        lambda v: percentile(v, 0.5),
        lambda v: percentile(v, 0.99),
    )
    # What the resolved request's routing costs more: missing the bare route's one-route router.
    miss = [f(t.app_decoyed_us) - f(t.app_bare_us) for f in stats[:2]]
    rows = []
    for how, resolved, bare in (
        ("httpx over ASGI (app_client)", t.resolved_us, t.bare_us),
        ("app alone (a direct ASGI call)", t.app_resolved_us, t.app_bare_us),
    ):
        rows.append(
            [f"{how}: GET {RESOLVED_PATH} (resolved, cached)", *(f"{f(resolved):,.1f}" for f in stats)]
        )
        rows.append([f"  GET {BARE_PATH} (outside /api: not resolved)", *(f"{f(bare):,.1f}" for f in stats)])
        rows.append(["  ratio resolved / bare", *(f"{f(resolved) / f(bare):.3f}x" for f in stats)])
        rows.append(["  difference resolved - bare", *(f"{f(resolved) - f(bare):+,.1f}" for f in stats)])
        if resolved is t.app_resolved_us:
            rows.append(
                [
                    f"  GET {BARE_PATH} behind a one-route router it misses",
                    *(f"{f(t.app_decoyed_us):,.1f}" for f in stats),
                ]
            )
            rows.append(
                [
                    "  missing a one-route router (resolved pays it, bare not)",
                    *(f"{m:+,.1f}" for m in miss),
                    "",
                ]
            )
        corrected = [f(resolved) - f(bare) - m for f, m in zip(stats[:2], miss, strict=True)]
        rows.append(["  resolution alone: difference - router miss", *(f"{c:+,.1f}" for c in corrected), ""])
        rows.append(
            [
                "  resolution alone as a ratio: (resolved - miss) / bare",
                *(f"{(f(bare) + c) / f(bare):.3f}x" for f, c in zip(stats[:2], corrected, strict=True)),
                "",
            ]
        )
    print_table(("per request, us", "mean", "p50", "p99"), rows, (False, True, True, True))
    print(f"  raw: await cache.get(('slug', slug)), a hit: {t.cache_get_us:.2f} us per call (loop included)")
    print(
        "  raw: await resolve(cache, settings, headers), the middleware's lookup: "
        f"{t.resolve_us:.2f} us per call (loop included)"
    )


def machine_facts(backends: Sequence[str], redis_about: str) -> None:
    print_machine("tenant cache benchmark", [*APP_PACKAGES, ("redis-py", "redis")], backends=backends)
    print(f"  Redis: {redis_about}")
    print("  the app in process (create_app + app_client, httpx over ASGI), no relay, one event loop")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.tenant_cache", description=__doc__.split("\n\n")[0]
    )
    add_backend_arguments(parser, every="all", postgres_url=False)
    parser.add_argument(
        "--requests", type=int, default=5_000, help="cached requests timed each way (resolved and bare)"
    )
    parser.add_argument(
        "--redis", default=DEFAULT_REDIS_URL, help="Redis URL for the shared-cache part, or 'none' to skip it"
    )
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    return args


async def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    configure_logging("console", "WARNING")
    backends = chosen_backends(args.backend)
    redis_url: str | None = None if args.redis.lower() == "none" else args.redis
    redis_ok, redis_about = await redis_facts(redis_url)
    machine_facts(backends, redis_about)
    for backend in reachable_backends(backends, postgres_admin_url()):
        report(await run_backend(backend, args.requests, redis_url, redis_ok, redis_about))


if __name__ == "__main__":
    asyncio.run(main())
