"""Signing in, for tests: a user of a given role created through the users service, then logged in through
the real API, so the token a test uses is exactly what a client would hold::

    tenant_id = await new_tenant(make_uow, "acme")
    headers = await login_as(client, app, tenant_id, "admin")
    response = await client.get("/api/users", headers=headers)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from rustok.core.ids import new_id
from rustok.core.permissions import Role
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork
from rustok.tenants.schemas import TenantCreate
from rustok.tenants.service import create_tenant
from rustok.users.schemas import UserCreate
from rustok.users.service import create_user

DEFAULT_PASSWORD = "correct horse battery staple"  # noqa: S105


@dataclass(frozen=True, slots=True)
class SignedInUser:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    role: Role
    email: str
    password: str
    access_token: str
    refresh_token: str
    headers: dict[str, str] = field(default_factory=dict)


async def new_tenant(make_uow: Callable[..., UnitOfWork], slug: str, **fields: Any) -> uuid.UUID:
    """A tenant made through the tenants service in a platform unit of work; its id."""
    async with make_uow(TenantScope.all_tenants()) as uow:
        tenant = await create_tenant(uow, TenantCreate(name=slug.title(), slug=slug, **fields))
    return tenant.id


async def sign_in_as(
    client: httpx.AsyncClient,
    app: FastAPI,
    tenant_id: uuid.UUID,
    role: Role | str,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    name: str | None = None,
) -> SignedInUser:
    """Create a user of ``role`` in the tenant (with the app's settings and outbox) and log it in."""
    role = Role(role)
    email = email or f"{role.value}-{new_id().hex[-12:]}@example.test"
    uow = app.state.runtime.uow(TenantScope.of(tenant_id))
    async with uow:
        data = UserCreate(email=email, password=password, name=name, role=role)
        user = await create_user(uow, tenant_id, data, settings=app.state.settings)
    response = await client.post(
        "/api/auth/login",
        json={"email": email, "password": password},
        headers={"X-Tenant-ID": str(tenant_id)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return SignedInUser(
        user_id=user.id,
        tenant_id=tenant_id,
        role=role,
        email=email,
        password=password,
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
        headers={"Authorization": f"Bearer {body['access_token']}", "X-Tenant-ID": str(tenant_id)},
    )


async def login_as(
    client: httpx.AsyncClient, app: FastAPI, tenant_id: uuid.UUID, role: Role | str, **options: Any
) -> dict[str, str]:
    """The headers of a request by a new user of ``role``: ``Authorization`` and ``X-Tenant-ID``."""
    return (await sign_in_as(client, app, tenant_id, role, **options)).headers
