"""rbac.md, "for every route and every role (and anonymous), the outcome matches this table": every route of
the app that declares ``requires(...)`` is called by each role with a real token, and the answer is held
against the matrix (`rustok.core.permissions.scope_for`). Path parameters are random (a 404 or a 422 then
means the caller got past the permission check)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from rustok.core.permissions import Permission, Role, scope_for
from rustok.core.routing import walk_routes
from rustok.core.security import declared_permission
from rustok.core.uow import UnitOfWork
from rustok.testing import login_as, new_tenant

MakeUoW = Callable[..., UnitOfWork]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    permissions: tuple[Permission, ...]


def _path_value(route: APIRoute, name: str) -> str:
    param = next(p for p in route.dependant.path_params if p.name == name)
    # A UUID where one is expected, otherwise a short lower-case word (a locale, a slug) that fits.
    return str(uuid.uuid4()) if param.field_info.annotation is uuid.UUID else "zz"


def guarded_calls(app: FastAPI) -> list[Call]:
    calls = []
    for route in walk_routes(app.routes):
        check = declared_permission(route)
        if check is None or not check.permissions:
            continue
        path = route.path_format
        for param in route.dependant.path_params:
            path = path.replace("{" + param.name + "}", _path_value(route, param.name))
        for method in sorted(route.methods or ()):
            calls.append(Call(method, path, check.permissions))
    return calls


def test_the_matrix_covers_the_users_routes() -> None:
    """Guards the guard: the walk finds the routes this module declares."""
    from rustok.api.app import create_app
    from rustok.core.settings import Settings

    found = {
        (c.method, str(p)) for c in guarded_calls(create_app(Settings(_env_file=None))) for p in c.permissions
    }

    assert {
        ("GET", "users:list"),
        ("POST", "users:create"),
        ("GET", "users:read"),
        ("PATCH", "users:update"),
        ("DELETE", "users:delete"),
    } <= found


def test_the_matrix_covers_the_media_routes() -> None:
    """The walk finds the media routes that change alt text and serve public files (GET and HEAD)."""
    from rustok.api.app import create_app
    from rustok.core.settings import Settings

    found = {
        (c.method, c.path.split("/")[1], str(p))
        for c in guarded_calls(create_app(Settings(_env_file=None)))
        for p in c.permissions
    }

    assert {
        ("PATCH", "api", "media:update"),
        ("GET", "media", "media:read"),
        ("HEAD", "media", "media:read"),
        ("HEAD", "api", "media:read"),
    } <= found


def test_the_matrix_covers_the_storefront_read_by_handle() -> None:
    """Guards the guard: the product by handle is walked, with a handle filled in, as ``products:read``."""
    from rustok.api.app import create_app
    from rustok.core.settings import Settings

    calls = guarded_calls(create_app(Settings(_env_file=None)))

    assert [
        (c.method, c.path, tuple(map(str, c.permissions)))
        for c in calls
        if c.path.startswith("/api/commerce/products/by-handle/")
    ] == [("GET", "/api/commerce/products/by-handle/zz", ("products:read",))]


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: "anonymous" if r is None else str(r))
async def test_every_guarded_route_answers_each_role_as_the_matrix_says(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, role: Role | None
) -> None:
    acme = await new_tenant(make_uow, "acme")
    headers = {"X-Tenant-ID": str(acme)} if role is None else await login_as(client, app, acme, role)
    calls = guarded_calls(app)
    assert calls

    wrong = []
    for call in calls:
        body: dict[str, object] | None = {} if call.method in {"POST", "PUT", "PATCH"} else None
        response = await client.request(call.method, call.path, json=body, headers=headers)
        # A route with alternatives lets in a caller holding any of them.
        allowed = any(scope_for(role, p) is not None for p in call.permissions)
        if allowed:
            ok = response.status_code not in (401, 403)
        else:
            ok = response.status_code == (401 if role is None else 403)
        assert response.status_code < 500, f"{call.method} {call.path}: {response.text}"
        if not ok:
            needs = " | ".join(map(str, call.permissions))
            wrong.append(f"{call.method} {call.path} ({needs}): {response.status_code}")

    assert wrong == [], f"{role or 'anonymous'} got answers the matrix does not allow"
