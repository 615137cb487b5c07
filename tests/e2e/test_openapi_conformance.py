"""Schemathesis over the whole OpenAPI document, against the real app served by uvicorn on a database of
the test's own: every operation called with generated cases by three callers (anonymous, a tenant's admin,
a customer), each with the ``X-Tenant-ID`` of a seeded tenant that has content, a product with a variant
and an order, so that ids exist (a case takes a seeded id for its path parameters about half the time).
Cases are valid requests and requests that break the schema (schemathesis' positive and negative modes).

Every answer must be no 5xx, a status the operation documents, with a documented content type, the
documented headers and a body that matches the documented schema. All failures are collected and
reported together, each with the curl command that reproduces it. It is the fuzz test (marked ``fuzz``):
its size is `EXAMPLES` cases per operation and caller, at least `MIN_CASES` in all. What it found stays
below it as plain regression tests.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.errors import FailureGroup

from rustok.api.app import create_app
from rustok.core.settings import Settings
from rustok.core.uow import UnitOfWorkFactory
from rustok.testing import (
    live_app,
    login_as,
    make_category,
    make_node,
    make_order,
    make_product,
    make_tag,
    make_variant,
    new_tenant,
    sign_in_as,
)

EXAMPLES = 12  # generated cases per operation and caller
MIN_CASES = 1000
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Operations that end the caller's session when they succeed: run last, so the others keep their token.
SESSION_ENDERS = {("POST", "/api/auth/logout"), ("POST", "/api/auth/sessions/revoke-all")}
# Deletions run after the other operations of a caller, so those find the seeded ids.
STARTUP_TIMEOUT = 30.0  # seconds; a guard against a server that never starts, not a measurement


@dataclass(frozen=True, slots=True)
class Caller:
    name: str
    headers: dict[str, str]


@dataclass(slots=True)
class World:
    """The seeded tenant, its callers, and the ids of what it holds, by path parameter name."""

    callers: list[Caller]
    ids: dict[str, list[str]] = field(default_factory=dict)


@dataclass(slots=True)
class Run:
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    # (caller, method, path) of every operation that answered a success at least once
    succeeded: set[tuple[str, str, str]] = field(default_factory=set)
    statuses: dict[int, int] = field(default_factory=dict)


async def _seed(settings: Settings) -> World:
    """A tenant with an admin and a customer (signed in through the API), and content, a product with a
    variant, and an order, made through the API as clients make them."""
    async with live_app(settings) as live:
        slug = f"fuzz-{uuid.uuid4().hex[:8]}"
        tenant_id = await new_tenant(live.uow, slug)
        admin = await sign_in_as(live.client, live.app, tenant_id, "admin")
        customer = await sign_in_as(live.client, live.app, tenant_id, "customer")
        staff = await sign_in_as(live.client, live.app, tenant_id, "manager")  # whose id the cases use
        category = await make_category(live.client, admin.headers, name="News")
        tag = await make_tag(live.client, admin.headers, name="python")
        node = await make_node(
            live.client,
            admin.headers,
            title="Hello",
            body="# Hi",
            status="published",
            category_id=category["id"],
        )
        product = await make_product(live.client, admin.headers, title="Shirt", status="active")
        variant = await make_variant(live.client, admin.headers, product["id"], quantity=50)
        order = await make_order(live.client, customer.headers, [(variant["id"], 1)])
        await live.deliver()  # the search index follows the events
    world = World(
        callers=[
            Caller("anonymous", {"X-Tenant-ID": slug}),
            Caller("customer", customer.headers),
            Caller("admin", admin.headers),  # last: its deletions would leave the others fewer ids
        ]
    )
    world.ids = {
        "node_id": [node["id"]],
        "category_id": [category["id"]],
        "tag_id": [tag["id"]],
        "product_id": [product["id"]],
        "variant_id": [variant["id"]],
        "order_id": [order["id"]],
        "user_id": [str(staff.user_id)],
        "tenant_id": [str(tenant_id)],
        "locale": ["en"],
        "slug": [node["translations"][0]["slug"]],
    }
    return world


@pytest.fixture
async def world(isolated_settings: Settings) -> World:
    return await _seed(isolated_settings)


@pytest.fixture
def server(isolated_settings: Settings, world: World) -> Iterator[str]:
    """The app served by uvicorn in a thread of its own, with its own runtime, on a free local port; its
    base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(isolated_settings, configure_logs=False)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not instance.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join()
        sock.close()


def _ordered(schema: Any) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted(
        found, key=lambda op: ((op.method.upper(), op.path) in SESSION_ENDERS, op.method.upper() == "DELETE")
    )


def _fuzz(operation: Any, caller: Caller, world: World, base_url: str, run: Run) -> None:
    # Valid requests, and requests that break the schema (those must be refused with a documented 4xx).
    generated = st.one_of(
        operation.as_strategy(), operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE)
    )

    @hypothesis.given(case=generated, known=st.booleans())
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def cases(case: Any, known: bool) -> None:
        if known and case.path_parameters:
            for name in case.path_parameters:
                if name in world.ids:
                    case.path_parameters[name] = world.ids[name][0]
        run.cases += 1
        try:
            response = case.call(base_url=base_url, headers=caller.headers)
            run.statuses[response.status_code] = run.statuses.get(response.status_code, 0) + 1
            if response.status_code < 300:
                run.succeeded.add((caller.name, operation.method.upper(), operation.path))
            case.validate_response(response, checks=CHECKS, headers=caller.headers)
        except (FailureGroup, Exception) as failure:  # every failure of every case, reported below
            curl = case.as_curl_command(headers=caller.headers, base_url=base_url)
            run.failures.append(
                f"[{caller.name}] {operation.method.upper()} {operation.path}: {failure}\n{curl}"
            )

    cases()


@pytest.mark.fuzz
def test_every_operation_answers_as_documented(server: str, world: World) -> None:
    # given the app's own document
    document = httpx.get(f"{server}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    run = Run()

    # when every caller calls every operation with generated cases
    for caller in world.callers:
        for operation in _ordered(schema):
            _fuzz(operation, caller, world, server, run)

    # then every answer was documented, conformant and no server error
    assert run.failures == [], f"{len(run.failures)} failures in {run.cases} cases:\n\n" + "\n\n".join(
        run.failures[:40]
    )
    assert run.cases >= MIN_CASES, run.cases
    # and the cases reached past the tenant and the permission checks: each caller was served by many
    # operations, the seeded ids among them
    served = {
        name: {(m, p) for n, m, p in run.succeeded if n == name}
        for name in ("anonymous", "customer", "admin")
    }
    assert len(served["anonymous"]) >= 15, sorted(served["anonymous"])
    assert len(served["customer"]) >= 20, sorted(served["customer"])
    assert len(served["admin"]) >= 40, sorted(served["admin"])
    assert ("GET", "/api/commerce/products/{product_id}") in served["anonymous"]
    assert ("GET", "/api/commerce/orders/{order_id}") in served["customer"]
    assert ("GET", "/api/users/{user_id}") in served["admin"]


# ------------------------------------------------------------------------------- what fuzzing has found

LONG_LOCALE = "gq-7r-ML7Hav-TZoSWsG2-8PYVK-5t-J2J-vd"  # the pattern of a locale, 37 characters


async def test_a_locale_longer_than_its_columns_is_a_422_not_a_500(
    client: httpx.AsyncClient, app: FastAPI, make_uow: UnitOfWorkFactory
) -> None:
    """Found by this fuzz test: a locale of the right shape but over 35 characters passed validation and
    was refused by PostgreSQL's varchar(35) (a 500 there; SQLite stored it)."""
    tenant_id = await new_tenant(make_uow, f"locales-{uuid.uuid4().hex[:8]}")
    headers = await login_as(client, app, tenant_id, "admin")

    enabled = await client.post("/api/tenant/locales", json={"locale": LONG_LOCALE}, headers=headers)
    written = await client.post(
        "/api/content/nodes",
        json={"kind": "post", "translations": [{"locale": LONG_LOCALE, "title": "Hello"}]},
        headers=headers,
    )

    for response in (enabled, written):
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_error"
    locales = (await client.get("/api/tenant/locales", headers=headers)).json()
    items = locales["items"] if isinstance(locales, dict) else locales
    assert [item["locale"] for item in items] == ["en"]
