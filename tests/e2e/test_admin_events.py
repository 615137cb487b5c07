"""Operators' event endpoints are behind ``events:*``: an anonymous caller gets 401 (each role and route
outcomes are in the permission matrix test)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork
from rustok.tenants.schemas import TenantCreate
from rustok.tenants.service import create_tenant


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/admin/events"),
        ("GET", "/api/admin/events/stats"),
        ("POST", f"/api/admin/events/{uuid.UUID(int=1)}/retry"),
    ],
)
async def test_the_outbox_is_not_for_anonymous_callers(
    client: httpx.AsyncClient, make_uow: Callable[..., UnitOfWork], method: str, path: str
) -> None:
    async with make_uow(TenantScope.all_tenants()) as uow:
        await create_tenant(uow, TenantCreate(name="Ops", slug="ops"))

    response = await client.request(method, path, headers={"X-Tenant-ID": "ops"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
