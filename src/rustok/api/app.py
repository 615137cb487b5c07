"""The app factory: one place that wires settings, the database, Redis, middleware, errors and routers.

`create_app` takes overrides (an engine, a session factory) so the test kit can hand in its own; the
lifespan builds whatever was not handed in and disposes of what it built.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

import rustok
from rustok import modules
from rustok.api import health, metrics
from rustok.core.db import create_engine, create_sessionmaker
from rustok.core.errors import install_error_handlers
from rustok.core.logging import configure_logging, get_logger
from rustok.core.middleware import BodyLimitMiddleware, RequestContextMiddleware
from rustok.core.routing import StrictJSONRoute
from rustok.core.settings import Settings, get_settings
from rustok.core.uow import SessionFactory
from rustok.outbox.registry import ConsumerRegistry
from rustok.outbox.worker import build_relay
from rustok.outbox.writer import OutboxWriter
from rustok.tenants.resolution import TenantResolutionMiddleware
from rustok.tenants.service import build_tenant_cache
from rustok.users.auth import authenticate as authenticate_user

log = get_logger("rustok.app")

# Routes that stream their request body to storage and count it themselves.
UPLOAD_ROUTES = frozenset({("POST", "/api/media")})


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    session_factory: SessionFactory | None = None,
    consumers: ConsumerRegistry | None = None,
    configure_logs: bool = True,
) -> FastAPI:
    """The app. ``engine``, ``session_factory`` and ``consumers`` (the relay's registry, by default every
    module's consumers) replace what the lifespan would build."""
    settings = settings or get_settings()
    if configure_logs:
        configure_logging(settings.effective_log_format, settings.log_level)
    registry = consumers if consumers is not None else modules.consumers(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine is None
        app.state.engine = engine if engine is not None else create_engine(settings)
        app.state.session_factory = session_factory or create_sessionmaker(app.state.engine)
        app.state.redis = _connect_redis(settings.redis_url) if settings.redis_url else None
        app.state.tenant_cache = build_tenant_cache(settings, app.state.session_factory, app.state.redis)
        stop_background = asyncio.Event()
        background: list[asyncio.Task[None]] = []
        if app.state.redis is not None:
            listener = app.state.tenant_cache.listen(stop_background)
            background.append(asyncio.create_task(listener, name="rustok-tenant-cache"))
        stop_relay = asyncio.Event()
        relay_task: asyncio.Task[None] | None = None
        if settings.should_run_relay_in_process:
            relay = build_relay(
                settings,
                registry,
                engine=app.state.engine,
                session_factory=app.state.session_factory,
                writer=app.state.outbox,
            )
            relay_task = asyncio.create_task(relay.run(stop_relay), name="rustok-relay")
        log.info(
            "started",
            env=settings.env.value,
            database=app.state.engine.dialect.name,
            redis=settings.redis_url is not None,
            relay="in-process" if relay_task is not None else "external",
        )
        try:
            yield
        finally:
            if relay_task is not None:
                stop_relay.set()  # the round in progress finishes; what it did not claim stays pending
                await relay_task
            stop_background.set()
            await asyncio.gather(*background)
            if app.state.redis is not None:
                await app.state.redis.aclose()
            if own_engine:
                await app.state.engine.dispose()
            log.info("stopped")

    app = FastAPI(
        title="RusToK",
        version=rustok.__version__,
        summary="Multi-tenant, event-driven headless CMS and commerce",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.router.route_class = StrictJSONRoute
    app.state.settings = settings
    app.state.outbox = OutboxWriter()
    app.state.authenticator = authenticate_user
    app.state.consumers = registry
    install_error_handlers(app)
    app.add_middleware(TenantResolutionMiddleware)  # inside the request context: it has the request id
    app.add_middleware(
        BodyLimitMiddleware,
        limit=settings.max_request_bytes,
        streamed=UPLOAD_ROUTES,
        # The file plus its multipart envelope and the small fields beside it.
        streamed_limit=settings.media_max_bytes + 64 * 1024,
    )
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    app.include_router(metrics.router)
    for router in modules.routers():
        app.include_router(router)
    return app


def _connect_redis(url: str) -> Any:
    try:
        from redis.asyncio import Redis
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError(
            "RUSTOK_REDIS_URL is set but the redis extra is not installed: pip install 'rustok[redis]'"
        ) from exc
    return Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0, health_check_interval=30)
