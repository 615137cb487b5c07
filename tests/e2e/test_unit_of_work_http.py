"""A request's unit of work ends before its answer is sent: a change that fails to commit is never
answered as a success. And a request is one transaction, its authentication included."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from rustok.core.deps import UoWDep
from rustok.core.errors import Conflict
from rustok.core.tenancy import scope_of
from rustok.core.uow import UnitOfWork, UnitOfWorkFactory
from rustok.testing import login_as, new_tenant


@pytest.fixture
def committing_routes(app: FastAPI) -> list[str]:
    """Routes whose commit fails, and one whose commit succeeds; returns what the commits saw."""
    seen: list[str] = []

    async def refuse(uow: UnitOfWork) -> None:
        seen.append(f"commit of a {'write' if uow.write else 'read'}")
        raise Conflict("The change could not be committed.", code="commit_refused")

    async def record(uow: UnitOfWork) -> None:
        seen.append("committed")

    @app.post("/_probe/fails-at-commit", status_code=201)
    async def fails_at_commit(uow: UoWDep) -> dict[str, str]:
        uow.before_commit(refuse)
        return {"status": "created"}

    @app.post("/_probe/commits", status_code=201)
    async def commits(uow: UoWDep) -> dict[str, str]:
        uow.after_commit(record)
        return {"status": "created"}

    return seen


async def test_a_failed_commit_is_the_answer_not_the_endpoints_success(
    client: httpx.AsyncClient, committing_routes: list[str]
) -> None:
    response = await client.post("/_probe/fails-at-commit")

    assert response.status_code == 409
    assert response.json()["code"] == "commit_refused"
    assert committing_routes == ["commit of a write"]


async def test_a_successful_commit_happens_before_the_answer(
    client: httpx.AsyncClient, committing_routes: list[str]
) -> None:
    response = await client.post("/_probe/commits")

    assert response.status_code == 201
    assert committing_routes == ["committed"]  # already done when the answer arrived


# --------------------------------------------------------------------------- one transaction per request


@contextmanager
def counted_transactions() -> Iterator[list[str]]:
    """The transactions sessions begin meanwhile (each entry: the session's tenant scope); a SAVEPOINT a
    service takes inside its transaction is not one."""
    begun: list[str] = []

    def began(session: Session, transaction: SessionTransaction, _connection: Any) -> None:
        if transaction.nested:
            return
        scope = scope_of(session)
        begun.append("none" if scope is None else "platform" if scope.platform else "tenant")

    event.listen(Session, "after_begin", began)
    try:
        yield begun
    finally:
        event.remove(Session, "after_begin", began)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/auth/me", None),  # authentication only
        ("GET", "/api/content/nodes", None),  # authentication and a read
        ("POST", "/api/content/categories", {"translations": [{"locale": "en", "name": "News"}]}),
    ],
)
async def test_an_authenticated_request_is_one_transaction(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: UnitOfWorkFactory,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    """The caller's session is read in the request's own unit of work, not in one of its own."""
    tenant_id = await new_tenant(make_uow, f"one-tx-{uuid.uuid4().hex[:8]}")
    headers = await login_as(client, app, tenant_id, "admin")

    with counted_transactions() as begun:
        response = await client.request(method, path, headers=headers, json=body)

    assert response.status_code < 300, response.text
    assert begun == ["tenant"]


async def test_a_platform_request_is_one_transaction_widened_after_the_check(
    client: httpx.AsyncClient, app: FastAPI, make_uow: UnitOfWorkFactory
) -> None:
    tenant_id = await new_tenant(make_uow, f"one-tx-{uuid.uuid4().hex[:8]}")
    headers = await login_as(client, app, tenant_id, "super_admin")

    with counted_transactions() as begun:
        response = await client.get("/api/admin/tenants", headers=headers)

    assert response.status_code == 200
    assert begun == ["tenant"]  # begun for authentication, in the tenant's scope, then widened


async def test_a_public_request_without_credentials_reads_in_one_transaction_at_most(
    client: httpx.AsyncClient, make_uow: UnitOfWorkFactory
) -> None:
    tenant_id = await new_tenant(make_uow, f"one-tx-{uuid.uuid4().hex[:8]}")
    headers = {"X-Tenant-ID": str(tenant_id)}
    await client.get("/api/tenant", headers=headers)  # the tenant is resolved (and cached) once

    with counted_transactions() as begun:
        response = await client.get("/api/content/nodes", headers=headers)

    assert response.status_code == 200
    assert begun == ["tenant"]


async def test_a_request_that_reads_nothing_opens_no_transaction(
    client: httpx.AsyncClient, make_uow: UnitOfWorkFactory
) -> None:
    """An anonymous caller of a route that needs no database (the current tenant, from the cache) costs
    no session at all: the request's unit of work makes its session on first use."""
    tenant_id = await new_tenant(make_uow, f"one-tx-{uuid.uuid4().hex[:8]}")
    headers = {"X-Tenant-ID": str(tenant_id)}
    await client.get("/api/tenant", headers=headers)  # the tenant is resolved (and cached) once

    with counted_transactions() as begun:
        response = await client.get("/api/tenant", headers=headers)

    assert response.status_code == 200
    assert begun == []
