"""A request's unit of work ends before its answer is sent: a change that fails to commit is never
answered as a success."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from rustok.core.deps import UoWDep
from rustok.core.errors import Conflict
from rustok.core.uow import UnitOfWork


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
