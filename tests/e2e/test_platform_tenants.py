"""The platform's tenant API (``/api/admin/tenants``, super_admin) and the current tenant's locales: a tenant
created through the API can be given its first admin, who then signs in to it; the locales are a page like
every other collection."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
from fastapi import FastAPI

from rustok.core.uow import UnitOfWork
from rustok.testing import EventRecorder, login_as, new_tenant

MakeUoW = Callable[..., UnitOfWork]


async def _operator(client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW) -> dict[str, str]:
    home = await new_tenant(make_uow, f"platform-{uuid.uuid4().hex[:8]}")
    return await login_as(client, app, home, "super_admin")


async def test_a_tenant_created_with_an_admin_can_be_signed_in_to(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    operator = await _operator(client, app, make_uow)

    async with event_recorder.watch() as events:
        created = await client.post(
            "/api/admin/tenants",
            json={
                "name": "Globex",
                "slug": "globex",
                "default_locale": "de",
                "admin": {
                    "email": "Owner@Globex.example",
                    "password": "a long enough secret",
                    "name": "Olga",
                },
            },
            headers=operator,
        )

    assert created.status_code == 201, created.text
    tenant = created.json()
    assert (tenant["slug"], tenant["default_locale"]) == ("globex", "de")
    admin = tenant["admin"]
    assert (admin["email"], admin["role"], admin["name"], admin["tenant_id"]) == (
        "Owner@Globex.example",
        "admin",
        "Olga",
        tenant["id"],
    )
    assert events.types == ["tenant.created", "locale.enabled", "user.registered"]
    assert {str(e.tenant_id) for e in events} == {tenant["id"]}

    signed_in = await client.post(
        "/api/auth/login",
        json={"email": "owner@globex.example", "password": "a long enough secret"},
        headers={"X-Tenant-ID": "globex"},
    )
    assert signed_in.status_code == 200, signed_in.text
    me = await client.get(
        "/api/auth/me",
        headers={"X-Tenant-ID": "globex", "Authorization": f"Bearer {signed_in.json()['access_token']}"},
    )
    assert (me.json()["role"], me.json()["tenant_id"]) == ("admin", tenant["id"])


async def test_a_tenant_created_without_an_admin_says_so(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    operator = await _operator(client, app, make_uow)

    created = await client.post(
        "/api/admin/tenants", json={"name": "Initech", "slug": "initech"}, headers=operator
    )

    assert created.status_code == 201, created.text
    assert created.json()["admin"] is None


async def test_a_bad_admin_is_a_422_and_creates_no_tenant(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    operator = await _operator(client, app, make_uow)

    async with event_recorder.watch() as events:
        refused = await client.post(
            "/api/admin/tenants",
            json={"name": "Hooli", "slug": "hooli", "admin": {"email": "not-an-email", "password": "short"}},
            headers=operator,
        )

    assert refused.status_code == 422
    assert {tuple(e["loc"]) for e in refused.json()["errors"]} == {
        ("body", "admin", "email"),
        ("body", "admin", "password"),
    }
    assert list(events) == []
    assert (await client.get("/api/tenant", headers={"X-Tenant-ID": "hooli"})).status_code == 404


async def test_only_a_super_admin_creates_tenants_with_admins(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await login_as(client, app, acme, "admin")

    refused = await client.post(
        "/api/admin/tenants",
        json={
            "name": "Evil",
            "slug": "evil",
            "admin": {"email": "me@evil.example", "password": "a long secret"},
        },
        headers=admin,
    )

    assert refused.status_code == 403


async def test_the_locales_are_a_page_like_every_collection(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme", default_locale="de")
    admin = await login_as(client, app, acme, "admin")
    enabled = await client.post(
        "/api/tenant/locales", json={"locale": "en", "name": "English"}, headers=admin
    )
    assert enabled.status_code == 201, enabled.text

    response = await client.get("/api/tenant/locales", headers={"X-Tenant-ID": "acme"})

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {"locale": "de", "name": None, "is_default": True, "fallback_locale": None},
            {"locale": "en", "name": "English", "is_default": False, "fallback_locale": None},
        ],
        "next_cursor": None,
    }


async def test_a_tenant_has_at_most_a_page_of_locales(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """The cap that keeps the locale list one page: the 101st locale is a 409 ``locale_limit``."""
    from rustok.tenants.service import MAX_LOCALES

    acme = await new_tenant(make_uow, "acme")
    admin = await login_as(client, app, acme, "admin")
    # en is the default; x-private-use tags make up the rest (valid BCP 47, two to eight letters).
    for index in range(MAX_LOCALES - 1):
        tag = "zz-" + "".join(chr(ord("a") + int(d)) for d in f"{index:03d}")
        answer = await client.post("/api/tenant/locales", json={"locale": tag}, headers=admin)
        assert answer.status_code == 201, answer.text

    refused = await client.post("/api/tenant/locales", json={"locale": "fr"}, headers=admin)
    listed = await client.get("/api/tenant/locales", headers=admin)
    again = await client.post("/api/tenant/locales", json={"locale": "en", "name": "English"}, headers=admin)

    assert refused.status_code == 409
    assert refused.json()["code"] == "locale_limit"
    assert len(listed.json()["items"]) == MAX_LOCALES
    assert listed.json()["next_cursor"] is None
    assert again.status_code == 201  # an already enabled locale can still be renamed
