"""The tenant cache with Redis as the shared layer, against the real Redis: a burst is one lookup in the
whole fleet, invalidation reaches the other processes, and a Redis that is down costs nothing but speed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sqlalchemy import update

from rustok.core.settings import Settings
from rustok.core.singleflight import SingleFlight
from rustok.core.tenancy import TenantScope
from rustok.core.uow import SessionFactory, UnitOfWork
from rustok.tenants.cache import TenantCache
from rustok.tenants.models import Tenant
from rustok.tenants.schemas import TenantCreate
from rustok.tenants.service import build_tenant_cache, create_tenant

MakeUoW = Callable[..., UnitOfWork]


@pytest_asyncio.fixture(loop_scope="session")
async def redis(redis_test_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_test_url)
    try:
        yield client
    finally:
        await client.aclose()


async def new_tenant(make_uow: MakeUoW) -> tuple[uuid.UUID, str]:
    slug = f"t-{uuid.uuid4().hex[:12]}"
    async with make_uow(TenantScope.all_tenants()) as uow:
        tenant = await create_tenant(uow, TenantCreate(name="Cached", slug=slug))
    return tenant.id, slug


async def burst(cache: TenantCache, slug: str, n: int = 1000) -> set[Any]:
    results = await asyncio.gather(*(cache.get(("slug", slug)) for _ in range(n)))
    return {None if r is None else r.slug for r in results}


async def test_a_burst_is_one_lookup_across_processes_sharing_redis(
    settings: Settings, redis: Redis, make_uow: MakeUoW
) -> None:
    _, slug = await new_tenant(make_uow)
    first = build_tenant_cache(settings, make_uow, redis)
    second = build_tenant_cache(settings, make_uow, redis)

    assert await burst(first, slug) == {slug}
    assert await burst(second, slug) == {slug}

    assert (first.lookups, second.lookups) == (1, 0), "the second process read Redis, not the database"


async def test_a_missing_tenant_is_one_lookup_across_processes_too(
    settings: Settings, redis: Redis, make_uow: MakeUoW
) -> None:
    slug = f"missing-{uuid.uuid4().hex[:12]}"
    first = build_tenant_cache(settings, make_uow, redis)
    second = build_tenant_cache(settings, make_uow, redis)

    assert await burst(first, slug) == {None}
    assert await burst(second, slug) == {None}

    assert (first.lookups, second.lookups) == (1, 0)


async def test_an_invalidation_reaches_the_other_processes(
    settings: Settings, redis: Redis, make_uow: MakeUoW
) -> None:
    """Given a tenant cached in two processes, when one invalidates it after a change, then the other drops
    its copy (pub/sub) and reads the change."""
    tenant_id, slug = await new_tenant(make_uow)
    writer = build_tenant_cache(settings, make_uow, redis)
    reader = build_tenant_cache(settings, make_uow, redis)
    assert (await reader.get(("slug", slug))) is not None
    stop, listening = asyncio.Event(), asyncio.Event()
    listener = asyncio.create_task(reader.listen(stop, listening))
    try:
        await asyncio.wait_for(listening.wait(), 5)
        async with make_uow(TenantScope.all_tenants()) as uow:
            await uow.session.execute(update(Tenant).where(Tenant.id == tenant_id).values(name="Changed"))
        await writer.invalidate(tenant_id)

        async def changed() -> None:
            # Polls the public API: the pub/sub message lands in the reader's own time.
            while (found := await reader.get(("slug", slug))) is None or found.name != "Changed":  # noqa: ASYNC110
                await asyncio.sleep(0.02)

        await asyncio.wait_for(changed(), 5)
    finally:
        stop.set()
        await listener


async def test_redis_down_serves_from_the_process_and_the_database(
    settings: Settings, session_factory: SessionFactory, make_uow: MakeUoW
) -> None:
    _, slug = await new_tenant(make_uow)
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        cache = build_tenant_cache(settings, make_uow, down)

        assert await burst(cache, slug, n=50) == {slug}
        assert await burst(cache, f"nobody-{uuid.uuid4().hex[:8]}", n=50) == {None}
        tenant = await cache.get(("slug", slug))
        assert tenant is not None
        await cache.invalidate(tenant.id, tenant)  # logged, not raised
    finally:
        await down.aclose()

    assert cache.lookups == 2


async def test_entries_expire_after_their_ttl(settings: Settings, session_factory: SessionFactory) -> None:
    now = [0.0]
    loads: list[Any] = []

    async def load(key: Any) -> None:
        loads.append(key)

    cache = TenantCache(load, ttl=60, negative_ttl=5, clock=lambda: now[0])
    await cache.get(("slug", "x"))
    now[0] = 4.9
    await cache.get(("slug", "x"))
    now[0] = 5.1
    await cache.get(("slug", "x"))

    assert len(loads) == 2, "a negative entry lives negative_ttl seconds"


# ------------------------------------------------------------------------------------------ singleflight


async def test_singleflight_does_not_cache_a_failure() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise RuntimeError("down")

    results = await asyncio.gather(*(flights.do("k", failing) for _ in range(10)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert calls == 1
    with pytest.raises(RuntimeError):
        await flights.do("k", failing)
    assert calls == 2
    assert len(flights) == 0


async def test_singleflight_survives_a_cancelled_caller() -> None:
    """The first caller going away (a client that hung up) does not cancel the work for the others."""
    flights: SingleFlight[str, int] = SingleFlight()
    release = asyncio.Event()

    async def slow() -> int:
        await release.wait()
        return 42

    first = asyncio.create_task(flights.do("k", slow))
    second = asyncio.create_task(flights.do("k", slow))
    await asyncio.sleep(0)
    first.cancel()
    release.set()

    assert await second == 42
    with pytest.raises(asyncio.CancelledError):
        await first
