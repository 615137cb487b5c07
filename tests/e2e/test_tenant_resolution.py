"""Tenant resolution through the real middleware and cache: the order of the spec, the errors, and the cost
of a burst of cold requests (one database lookup, also for a tenant that does not exist)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rustok.api.app import create_app
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import SessionFactory, UnitOfWork
from rustok.outbox.registry import ConsumerRegistry
from rustok.tenants.consumers import invalidate_cached_tenant
from rustok.tenants.models import Tenant
from rustok.tenants.schemas import TenantCreate
from rustok.tenants.service import create_tenant
from rustok.testing import app_client

MakeUoW = Callable[..., UnitOfWork]


class TenantQueries:
    """Counts the statements that read the tenants table, on the test's connection."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM tenants" in statement:
            self.count += 1


@pytest.fixture
def tenant_queries(db_connection: AsyncConnection) -> Iterator[TenantQueries]:
    counter = TenantQueries()
    target = db_connection.sync_connection
    assert target is not None
    event.listen(target, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(target, "before_cursor_execute", counter)


async def new_tenant(make_uow: MakeUoW, slug: str, **fields: Any) -> uuid.UUID:
    async with make_uow(TenantScope.all_tenants()) as uow:
        tenant = await create_tenant(uow, TenantCreate(name=slug.title(), slug=slug, **fields))
    return tenant.id


async def test_the_header_names_the_tenant_by_id_or_slug(
    client: httpx.AsyncClient, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme", default_locale="de")

    by_id = await client.get("/api/tenant", headers={"X-Tenant-ID": str(acme)})
    by_slug = await client.get("/api/tenant", headers={"X-Tenant-ID": "ACME"})

    assert by_id.status_code == 200
    assert by_id.json() == {
        "id": str(acme),
        "name": "Acme",
        "slug": "acme",
        "default_locale": "de",
        "locales": ["de"],
    }
    assert by_slug.json()["id"] == str(acme)


@pytest.mark.parametrize("header", ["nobody", str(uuid.UUID(int=7)), "not a slug!", ""])
async def test_an_unknown_tenant_is_a_404(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/api/tenant", headers={"X-Tenant-ID": header})

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "tenant_not_found"
    assert "X-Request-ID" in response.headers


async def test_a_disabled_tenant_is_a_403(client: httpx.AsyncClient, make_uow: MakeUoW) -> None:
    await new_tenant(make_uow, "sleepy", is_active=False)

    response = await client.get("/api/tenant", headers={"X-Tenant-ID": "sleepy"})

    assert response.status_code == 403
    assert response.json()["code"] == "tenant_disabled"


async def test_the_host_names_the_tenant_by_its_domain(client: httpx.AsyncClient, make_uow: MakeUoW) -> None:
    await new_tenant(make_uow, "shop", domain="shop.example.org")

    response = await client.get("/api/tenant", headers={"Host": "Shop.Example.org:8443"})

    assert response.json()["slug"] == "shop"


async def test_the_header_wins_over_the_host(client: httpx.AsyncClient, make_uow: MakeUoW) -> None:
    await new_tenant(make_uow, "shop", domain="shop.example.org")
    await new_tenant(make_uow, "blog")

    response = await client.get("/api/tenant", headers={"Host": "shop.example.org", "X-Tenant-ID": "blog"})

    assert response.json()["slug"] == "blog"


@pytest_asyncio.fixture(loop_scope="session")
async def configured(
    settings: Settings, db_engine: AsyncEngine, session_factory: SessionFactory
) -> AsyncIterator[Callable[..., Any]]:
    """``configured(**settings)``: an HTTP client on an app with those settings changed."""

    def make(**changes: Any) -> Any:
        app = create_app(
            settings.model_copy(update=changes),
            engine=db_engine,
            session_factory=session_factory,
            consumers=ConsumerRegistry(),
            configure_logs=False,
        )
        return app_client(app)

    yield make


async def test_the_default_tenant_answers_when_nothing_else_matches(
    configured: Callable[..., Any], make_uow: MakeUoW
) -> None:
    await new_tenant(make_uow, "main")

    async with configured(default_tenant="main") as http:
        response = await http.get("/api/tenant", headers={"Host": "unknown.example.net"})

    assert response.json()["slug"] == "main"


async def test_subdomain_mode_takes_the_first_label_as_the_slug(
    configured: Callable[..., Any], make_uow: MakeUoW
) -> None:
    await new_tenant(make_uow, "acme")

    async with configured(tenant_subdomain_base="rustok.test") as http:
        response = await http.get("/api/tenant", headers={"Host": "acme.rustok.test"})

    assert response.json()["slug"] == "acme"


async def test_forwarded_host_counts_only_behind_a_trusted_proxy(
    configured: Callable[..., Any], make_uow: MakeUoW
) -> None:
    await new_tenant(make_uow, "shop", domain="shop.example.org")
    headers = {"Host": "internal:8000", "X-Forwarded-Host": "shop.example.org"}

    async with configured() as untrusted:
        ignored = await untrusted.get("/api/tenant", headers=headers)
    async with configured(trust_proxy_headers=True) as trusted:
        honoured = await trusted.get("/api/tenant", headers=headers)

    assert ignored.status_code == 404
    assert honoured.json()["slug"] == "shop"


async def test_health_and_metrics_are_not_tenant_resolved(client: httpx.AsyncClient) -> None:
    for path in ("/health/live", "/metrics", "/openapi.json"):
        assert (await client.get(path, headers={"X-Tenant-ID": "nobody"})).status_code == 200


# ----------------------------------------------------------------------------------------------- bursts


async def burst(client: httpx.AsyncClient, header: str, n: int = 1000) -> list[int]:
    responses = await asyncio.gather(
        *(client.get("/api/tenant", headers={"X-Tenant-ID": header}) for _ in range(n))
    )
    return [r.status_code for r in responses]


async def test_a_thousand_cold_requests_cost_one_lookup(
    client: httpx.AsyncClient, make_uow: MakeUoW, tenant_queries: TenantQueries
) -> None:
    await new_tenant(make_uow, "busy")
    tenant_queries.count = 0

    statuses = await burst(client, "busy")

    assert statuses == [200] * 1000
    assert tenant_queries.count == 1


async def test_a_thousand_requests_for_a_missing_tenant_cost_one_lookup(
    client: httpx.AsyncClient, tenant_queries: TenantQueries
) -> None:
    statuses = await burst(client, "ghost")

    assert statuses == [404] * 1000
    assert tenant_queries.count == 1


# ------------------------------------------------------------------------------------------ invalidation


async def test_an_update_is_seen_after_the_cache_is_invalidated_by_its_event(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, make_relay: Callable[..., Any]
) -> None:
    """Given a cached tenant, when it is renamed and its tenant.updated event is delivered to the tenants
    module's consumer, then the next request sees the new name."""
    from rustok.tenants.events import TenantUpdated

    tenant_id = await new_tenant(make_uow, "renamed")
    await make_relay(ConsumerRegistry([invalidate_cached_tenant])).run_until_idle()
    assert (await client.get("/api/tenant", headers={"X-Tenant-ID": "renamed"})).json()["name"] == "Renamed"

    async with make_uow(TenantScope.all_tenants()) as uow:
        await uow.session.execute(update(Tenant).where(Tenant.id == tenant_id).values(name="New Name"))
        uow.record(TenantUpdated(tenant_id=tenant_id), tenant_id=tenant_id)
    stale = await client.get("/api/tenant", headers={"X-Tenant-ID": "renamed"})
    await make_relay(ConsumerRegistry([invalidate_cached_tenant])).run_until_idle()
    fresh = await client.get("/api/tenant", headers={"X-Tenant-ID": "renamed"})

    assert stale.json()["name"] == "Renamed", "cached until the event says otherwise"
    assert fresh.json()["name"] == "New Name"


async def test_a_tenant_created_after_a_miss_is_found_once_its_event_is_delivered(
    client: httpx.AsyncClient, make_uow: MakeUoW, make_relay: Callable[..., Any]
) -> None:
    assert (await client.get("/api/tenant", headers={"X-Tenant-ID": "late"})).status_code == 404

    await new_tenant(make_uow, "late")
    await make_relay(ConsumerRegistry([invalidate_cached_tenant])).run_until_idle()

    assert (await client.get("/api/tenant", headers={"X-Tenant-ID": "late"})).status_code == 200


# ------------------------------------------------------------------------------------------------ routes


async def test_anyone_lists_the_current_tenants_locales(client: httpx.AsyncClient, make_uow: MakeUoW) -> None:
    await new_tenant(make_uow, "acme", default_locale="de")

    response = await client.get("/api/tenant/locales", headers={"X-Tenant-ID": "acme"})

    assert response.status_code == 200
    assert response.json() == {
        "items": [{"locale": "de", "name": None, "is_default": True, "fallback_locale": None}],
        "next_cursor": None,
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/api/tenant"),
        ("POST", "/api/tenant/locales"),
        ("DELETE", "/api/tenant/locales/de"),
        ("GET", "/api/admin/tenants"),
        ("POST", "/api/admin/tenants"),
        ("GET", f"/api/admin/tenants/{uuid.UUID(int=1)}"),
    ],
)
async def test_changing_tenants_needs_credentials(
    client: httpx.AsyncClient, make_uow: MakeUoW, method: str, path: str
) -> None:
    await new_tenant(make_uow, "acme")

    response = await client.request(method, path, headers={"X-Tenant-ID": "acme"}, json={})

    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


async def test_with_redis_two_apps_share_one_lookup(
    configured: Callable[..., Any], make_uow: MakeUoW, tenant_queries: TenantQueries, redis_test_url: str
) -> None:
    """Given two app processes sharing Redis, when each gets 1,000 concurrent cold requests for a tenant
    (one after the other), then the database is asked once for the whole fleet; the same for a tenant that
    does not exist."""
    slug = f"shared-{uuid.uuid4().hex[:10]}"
    missing = f"absent-{uuid.uuid4().hex[:10]}"
    await new_tenant(make_uow, slug)
    tenant_queries.count = 0

    async with configured(redis_url=redis_test_url) as first, configured(redis_url=redis_test_url) as second:
        assert await burst(first, slug) == [200] * 1000
        assert await burst(second, slug) == [200] * 1000
        assert tenant_queries.count == 1
        assert await burst(first, missing) == [404] * 1000
        assert await burst(second, missing) == [404] * 1000
        assert tenant_queries.count == 2
