"""The pytest plugin of the test kit. A project enables it in its top conftest.py, with the kit's extra
installed (``pip install 'rustok[testing]'``): ``pytest_plugins = ["rustok.testing.plugin"]``.

Database fixtures are parametrized over the backends: every test that uses one runs on SQLite and on
PostgreSQL (`[sqlite]`, `[postgresql]` in the test id). Each backend's database is created and migrated once
per test run; each test then gets a connection inside a transaction that is rolled back when it ends, and
the app and sessions it uses work in SAVEPOINTs of that transaction, so tests see their own writes and
leave nothing behind. Select backends with ``RUSTOK_TEST_BACKENDS=sqlite`` (default: both).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from rustok.api.app import create_app
from rustok.core.db import create_engine
from rustok.core.events import CATALOG, Catalog
from rustok.core.settings import Environment, Settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import SessionFactory, UnitOfWork, UnitOfWorkFactory
from rustok.migrations import upgrade_async
from rustok.outbox.registry import ConsumerRegistry
from rustok.outbox.relay import Relay, RelayConfig
from rustok.outbox.writer import OutboxWriter
from rustok.testing.backends import selected_backends
from rustok.testing.clock import FrozenClock
from rustok.testing.events import EventRecorder
from rustok.testing.http import http_client
from rustok.testing.services import (
    nats_url,
    postgres_admin_url,
    reachable,
    redis_url,
    require_service,
    services_required,
)

TEST_JWT_SECRET = "rustok-test-secret-0123456789abcdef0123456789"  # noqa: S105


def pytest_report_header(config: pytest.Config) -> list[str]:
    required = "required (fail when down)" if services_required() else "optional (skip when down)"
    return [f"rustok: database backends {', '.join(selected_backends())}; services {required}"]


# --------------------------------------------------------------------------------------------- databases


async def _on_admin_database(admin_url: str, sql: str) -> None:
    """Run one statement (CREATE/DROP DATABASE, which cannot run in a transaction) on the admin database."""
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session", params=selected_backends())
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A fresh, empty database for this test run on one backend (the fixture's parameter)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "rustok-test.db"
        yield f"sqlite+aiosqlite:///{path.as_posix()}"
        return
    admin_url = postgres_admin_url()
    if not reachable(admin_url, 5432):
        require_service("postgres", admin_url)
    name = f"rustok_test_{uuid.uuid4().hex[:12]}"
    await _on_admin_database(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rpartition('/')[0]}/{name}"
    finally:
        await _on_admin_database(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_backend(database_url: str) -> str:
    """``"sqlite"`` or ``"postgresql"``: the backend this test runs on."""
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the run's database, migrated to the newest revision."""
    engine = create_engine(Settings(_env_file=None, database_url=database_url))
    await upgrade_async(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def isolated_database_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database of this test's own, on the test's backend, dropped afterwards. For tests whose
    writes must really commit: several connections, relays or processes working on the same data."""
    if database_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{(tmp_path / 'isolated.db').as_posix()}"
        created = None
    else:
        admin_url = postgres_admin_url()
        created = f"rustok_iso_{uuid.uuid4().hex[:12]}"
        await _on_admin_database(admin_url, f'CREATE DATABASE "{created}"')
        url = f"{admin_url.rpartition('/')[0]}/{created}"
    try:
        engine = create_engine(Settings(_env_file=None, database_url=url))
        try:
            await upgrade_async(engine)
        finally:
            await engine.dispose()
        yield url
    finally:
        if created is not None:
            await _on_admin_database(
                postgres_admin_url(), f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)'
            )


@pytest_asyncio.fixture(loop_scope="session")
async def db_connection(db_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction that is rolled back after the test, whatever it wrote."""
    async with db_engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture
def session_factory(db_connection: AsyncConnection) -> SessionFactory:
    """Sessions inside the test's transaction: their commits release SAVEPOINTs, never the transaction."""

    def factory() -> AsyncSession:
        return AsyncSession(
            bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    return factory


@pytest_asyncio.fixture(loop_scope="session")
async def db_session(session_factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A plain session in the test's transaction, with no tenant scope (bind one with
    `rustok.core.tenancy.bind_scope`, or use `make_uow`)."""
    session = session_factory()
    try:
        yield session
    finally:
        await session.close()


@pytest.fixture
def outbox_writer() -> OutboxWriter:
    """The outbox writer of the test's units of work (`make_uow`) and relays (`make_relay`)."""
    return OutboxWriter()


@pytest.fixture
def make_uow(session_factory: SessionFactory, outbox_writer: OutboxWriter) -> UnitOfWorkFactory:
    """``make_uow(scope=None, write=True)``: a unit of work inside the test's transaction, writing its
    events to the outbox."""

    def make(scope: TenantScope | None = None, *, write: bool = True) -> UnitOfWork:
        return UnitOfWork(session_factory, scope, write=write, events=outbox_writer)

    return make


@pytest.fixture
def event_recorder(session_factory: SessionFactory) -> EventRecorder:
    """Records what code committed to the outbox: ``async with event_recorder.watch() as events``."""
    return EventRecorder(session_factory)


@pytest.fixture
def make_relay(make_uow: UnitOfWorkFactory, outbox_writer: OutboxWriter) -> Callable[..., Relay]:
    """``make_relay(registry, catalog=CATALOG, config=RelayConfig())``: a relay inside the test's
    transaction. Drive it with ``await relay.run_until_idle()`` (or `rustok.testing.events.settle`)."""

    def make(
        registry: ConsumerRegistry, *, catalog: Catalog = CATALOG, config: RelayConfig | None = None
    ) -> Relay:
        return Relay(make_uow, registry, writer=outbox_writer, catalog=catalog, config=config)

    return make


# ------------------------------------------------------------------------------------------- settings, app


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for a test: the run's database, a private data directory, no `.env` file."""
    return Settings(
        _env_file=None,
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        database_url=database_url,
        jwt_secret=TEST_JWT_SECRET,
        password_hash_time_cost=1,  # cheap hashes: tests sign in often
        password_hash_memory_cost=64,
        log_format="console",
        relay_in_process=False,  # tests run relays themselves (make_relay), when they want one
    )


@pytest.fixture
def isolated_settings(settings: Settings, isolated_database_url: str) -> Settings:
    """`settings` on `isolated_database_url`: for a runtime of the test's own (`open_runtime`,
    `rustok.testing.live_app`) whose units of work really commit."""
    return settings.model_copy(update={"database_url": isolated_database_url})


@pytest_asyncio.fixture(loop_scope="session")
async def app(
    settings: Settings, db_engine: AsyncEngine, session_factory: SessionFactory
) -> AsyncIterator[FastAPI]:
    """The real app (lifespan run) on the test's transaction."""
    application = create_app(
        settings, engine=db_engine, session_factory=session_factory, configure_logs=False
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, in process (httpx over ASGI)."""
    async with http_client(app) as http:
        yield http


# ------------------------------------------------------------------------------------------ other services


@pytest.fixture
def redis_test_url() -> str:
    """The Redis URL for service-backed tests (``RUSTOK_TEST_REDIS_URL``); skips or fails when down."""
    url = redis_url()
    if not reachable(url, 6379):
        require_service("redis", url)
    return url


@pytest.fixture
def nats_test_url() -> str:
    """The NATS (JetStream) URL for broker tests (``RUSTOK_TEST_NATS_URL``); skips or fails when down."""
    url = nats_url()
    if not reachable(url, 4222):
        require_service("nats", url)
    return url


@pytest.fixture
def frozen_clock() -> Iterator[FrozenClock]:
    """The clock stands still at 2026-01-01T00:00:00Z for this test; `advance()` moves it."""
    with FrozenClock() as frozen:
        yield frozen
