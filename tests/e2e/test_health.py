"""Liveness and readiness, and the API's own description. None of these is tenant-resolved or needs auth.

``/health/live`` says the process is up; ``/health/ready`` says its dependencies answer (the database, and
Redis when configured), else 503 naming what failed, so a load balancer stops sending it traffic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rustok.api.app import create_app
from rustok.core.errors import PROBLEM_MEDIA_TYPE, problem_type
from rustok.core.settings import Environment, Settings
from rustok.core.uow import SessionFactory
from rustok.testing import app_client

# Nothing listens on port 1: connecting there is refused at once.
DEAD_REDIS_URL = "redis://127.0.0.1:1/0"
DEAD_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"


def assert_not_ready(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == 503
    assert body["code"] == "not_ready"
    assert body["type"] == problem_type("not_ready")
    assert body["title"]
    return body


# ------------------------------------------------------------------------------------------------- liveness


async def test_live_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok"}


async def test_live_needs_no_tenant_and_no_credentials(client: httpx.AsyncClient) -> None:
    """Given a request naming a tenant that does not exist and a bogus token, then liveness still answers:
    health is neither tenant-resolved nor authenticated."""
    response = await client.get(
        "/health/live", headers={"X-Tenant-ID": "no-such-tenant", "Authorization": "Bearer not-a-token"}
    )

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# ------------------------------------------------------------------------------------------------ readiness


async def test_ready_checks_the_database(client: httpx.AsyncClient) -> None:
    """Given the app on a database that answers (SQLite or PostgreSQL) and no Redis configured, then
    readiness is 200 and checks the database only."""
    response = await client.get("/health/ready")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_ready_needs_no_tenant_and_no_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/health/ready", headers={"X-Tenant-ID": "no-such-tenant", "Authorization": "Bearer not-a-token"}
    )

    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


async def test_ready_checks_redis_when_it_is_configured(
    settings: Settings, db_engine: AsyncEngine, session_factory: SessionFactory, redis_test_url: str
) -> None:
    app = create_app(
        settings.model_copy(update={"redis_url": redis_test_url}),
        engine=db_engine,
        session_factory=session_factory,
        configure_logs=False,
    )

    async with app_client(app) as http:
        response = await http.get("/health/ready")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


async def test_ready_is_503_naming_redis_when_redis_does_not_answer(
    settings: Settings, db_engine: AsyncEngine, session_factory: SessionFactory
) -> None:
    """Given Redis configured at an address where nothing listens, then readiness is a 503 ``not_ready``
    problem whose `checks` say Redis failed and the database is fine."""
    app = create_app(
        settings.model_copy(update={"redis_url": DEAD_REDIS_URL}),
        engine=db_engine,
        session_factory=session_factory,
        configure_logs=False,
    )

    async with app_client(app) as http:
        response = await http.get("/health/ready")
        live = await http.get("/health/live")

    body = assert_not_ready(response)
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] != "ok"
    assert "redis" in body["detail"]
    assert "database" not in body["detail"]
    assert response.headers["x-request-id"]
    assert live.status_code == 200, "a dependency being down does not make the process dead"


async def test_ready_is_503_naming_the_database_when_it_does_not_answer(tmp_path: Path) -> None:
    """Given the app built on its own engine for a PostgreSQL server that is not there, then it still
    starts, liveness is 200, and readiness is a 503 naming the database."""
    settings = Settings(
        _env_file=None,
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        database_url=DEAD_DATABASE_URL,
        log_format="console",
    )
    app = create_app(settings, configure_logs=False)

    async with app_client(app) as http:
        response = await http.get("/health/ready")
        live = await http.get("/health/live")

    body = assert_not_ready(response)
    assert body["checks"]["database"] != "ok"
    assert set(body["checks"]) == {"database"}
    assert "database" in body["detail"]
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}


async def test_ready_names_both_when_neither_answers(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        database_url=DEAD_DATABASE_URL,
        redis_url=DEAD_REDIS_URL,
        log_format="console",
    )
    app = create_app(settings, configure_logs=False)

    async with app_client(app) as http:
        response = await http.get("/health/ready")

    body = assert_not_ready(response)
    assert set(body["checks"]) == {"database", "redis"}
    assert "ok" not in body["checks"].values()
    assert "database" in body["detail"]
    assert "redis" in body["detail"]


async def test_readiness_failure_does_not_reveal_connection_details(tmp_path: Path) -> None:
    """The 503 is public: it names the dependency, not its address or credentials."""
    settings = Settings(
        _env_file=None,
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        database_url="postgresql+asyncpg://rustok:s3cret-password@127.0.0.1:1/nothing",
        log_format="console",
    )
    app = create_app(settings, configure_logs=False)

    async with app_client(app) as http:
        response = await http.get("/health/ready")

    assert_not_ready(response)
    assert "s3cret-password" not in response.text
    assert "127.0.0.1" not in response.text


# ----------------------------------------------------------------------------------------- the API described


async def test_the_openapi_document_lists_the_health_routes(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "RusToK"
    assert "get" in document["paths"]["/health/live"]
    assert "get" in document["paths"]["/health/ready"]


async def test_the_openapi_document_describes_the_readiness_failure_as_a_problem(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()

    responses = document["paths"]["/health/ready"]["get"]["responses"]
    assert "200" in responses
    assert PROBLEM_MEDIA_TYPE in responses["503"]["content"]


async def test_the_docs_page_is_html(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text


@pytest.mark.parametrize("path", ["/docs/assets/nothing.js", "/metrics/nothing", "/health"])
async def test_paths_that_are_not_served_are_404_problems(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


async def test_ready_checks_the_broker_when_one_is_configured(
    settings: Settings, db_engine: AsyncEngine, session_factory: SessionFactory, nats_test_url: str
) -> None:
    configured = settings.model_copy(update={"nats_url": nats_test_url})
    app = create_app(configured, engine=db_engine, session_factory=session_factory, configure_logs=False)
    async with app_client(app) as http:
        response = await http.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


async def test_ready_names_a_broker_that_does_not_answer(
    settings: Settings, db_engine: AsyncEngine, session_factory: SessionFactory
) -> None:
    configured = settings.model_copy(update={"nats_url": "nats://127.0.0.1:1"})
    app = create_app(configured, engine=db_engine, session_factory=session_factory, configure_logs=False)
    async with app_client(app) as http:
        response = await http.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["code"] == "not_ready"
    assert response.json()["checks"]["broker"] != "ok"
    assert "broker" in response.json()["detail"]
