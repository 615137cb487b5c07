"""One way of doing things: a query parameter a route does not declare is a 422 ``validation_error``
naming it, on every route of the app (`rustok.core.routing.StrictJSONRoute`), and the parameters a route
does declare are served. ``GET /api/content/nodes?q=hello`` used to answer every node, as if the
filter had matched."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from rustok.core.permissions import Role
from rustok.core.routing import declared_query_names, walk_routes
from rustok.core.uow import UnitOfWork
from rustok.testing import login_as, make_node, new_tenant

MakeUoW = Callable[..., UnitOfWork]


def _path(route: APIRoute) -> str:
    path = route.path_format
    for param in route.dependant.path_params:
        value = str(uuid.uuid4()) if param.field_info.annotation is uuid.UUID else "zz"
        path = path.replace("{" + param.name + "}", value)
    return path


async def test_every_route_refuses_a_query_parameter_it_does_not_declare(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    headers = await login_as(client, app, acme, Role.ADMIN)
    routes = list(walk_routes(app.routes))
    assert len(routes) > 40

    wrong = []
    for route in routes:
        for method in sorted(route.methods or ()):
            path = _path(route).replace("/media/zz/", "/media/acme/")  # the public media URL names its tenant
            response = await client.request(method, path, params={"zz_unknown": "1"}, headers=headers)
            if method == "HEAD":  # the same answer as GET, without its body
                if response.status_code != 422:
                    wrong.append(f"{method} {route.path}: {response.status_code}")
                continue
            body = response.json() if response.status_code == 422 else {}
            if body.get("code") != "validation_error" or body.get("errors") != [
                {"loc": ["query", "zz_unknown"], "msg": "Unknown query parameter", "type": "extra_forbidden"}
            ]:
                wrong.append(f"{method} {route.path}: {response.status_code} {response.text[:200]}")

    assert wrong == []


@pytest.mark.parametrize(
    ("path", "unknown"),
    [
        ("/api/content/nodes?q=hello", "q"),
        ("/api/commerce/orders?customer_id=x", "customer_id"),
        ("/api/content/nodes?kind=post&limit=5&colour=red", "colour"),
    ],
)
async def test_a_list_with_an_unknown_filter_is_a_422_not_everything(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, path: str, unknown: str
) -> None:
    acme = await new_tenant(make_uow, "acme")
    headers = await login_as(client, app, acme, Role.ADMIN)

    response = await client.get(path, headers=headers)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["loc"] for e in response.json()["errors"]] == [["query", unknown]]


async def test_the_parameters_a_route_declares_are_served(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """The other side of the rule: every declared name, the page's own and a filter's, gets through."""
    acme = await new_tenant(make_uow, "acme")
    headers = await login_as(client, app, acme, Role.ADMIN)
    await make_node(client, headers, title="Hello", status="published")

    listed = await client.get(
        "/api/content/nodes", params={"kind": "post", "status": "published", "limit": 5}, headers=headers
    )
    searched = await client.get("/api/search", params={"q": "hello", "limit": 5}, headers=headers)

    assert listed.status_code == 200, listed.text
    assert [n["translations"][0]["title"] for n in listed.json()["items"]] == ["Hello"]
    assert searched.status_code == 200, searched.text


def test_a_query_model_contributes_its_field_names() -> None:
    """``GET /api/search`` takes its parameters as one pydantic model; its fields are the declared names."""
    from rustok.api.app import create_app
    from rustok.core.settings import Settings

    app = create_app(Settings(_env_file=None), configure_logs=False)
    search = next(r for r in walk_routes(app.routes) if r.path == "/api/search")

    assert declared_query_names(search.dependant) == {"q", "type", "locale", "kind", "limit", "cursor"}
