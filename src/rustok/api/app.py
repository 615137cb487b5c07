"""The app factory: one place that wires settings, the database, Redis, middleware, errors and routers.

The lifespan builds the process's world through the composition root (`rustok.bootstrap.open_runtime`) and
keeps it in ``app.state.runtime``; `create_app` takes overrides (an engine, a session factory, a consumer
registry) so the test kit can hand in its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

import rustok
from rustok import modules
from rustok.api import docs, health, index, metrics, openapi
from rustok.bootstrap import Runtime, open_runtime
from rustok.core.errors import install_error_handlers
from rustok.core.logging import configure_logging, get_logger
from rustok.core.middleware import BodyLimitMiddleware, RequestContextMiddleware
from rustok.core.routing import StrictJSONRoute
from rustok.core.settings import Settings, get_settings
from rustok.core.uow import SessionFactory
from rustok.outbox.registry import ConsumerRegistry
from rustok.tenants.resolution import TenantResolutionMiddleware
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
    runtime: Runtime | None = None,
    configure_logs: bool = True,
) -> FastAPI:
    """The app. ``engine``, ``session_factory`` and ``consumers`` (the relay's registry, by default every
    module's consumers) replace what the lifespan would build; or ``runtime`` is the whole world, already
    open (the lifespan then neither builds nor closes it)."""
    settings = runtime.settings if runtime is not None else settings or get_settings()
    if configure_logs:
        configure_logging(settings.effective_log_format, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            app.state.runtime = runtime or await stack.enter_async_context(
                open_runtime(settings, engine=engine, session_factory=session_factory, consumers=consumers)
            )
            async with _background(app.state.runtime):
                yield

    app = FastAPI(
        title="RusToK",
        version=rustok.__version__,
        summary="Multi-tenant, event-driven headless CMS and commerce",
        lifespan=lifespan,
        openapi_url=docs.OPENAPI_PATH,
        docs_url=None,  # served by rustok.api.docs from the package's own files
        redoc_url=None,
    )
    app.router.route_class = StrictJSONRoute
    app.state.settings = settings
    app.state.authenticator = authenticate_user
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
    app.include_router(index.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(docs.router)
    app.mount(docs.ASSETS_PATH, docs.assets(), name="docs-assets")
    for router in modules.routers():
        app.include_router(router)
    openapi.install(app)
    return app


@asynccontextmanager
async def _background(runtime: Runtime) -> AsyncIterator[None]:
    """What a serving process runs beside its requests: the tenant cache's Redis listener, and the relay
    when it runs in process (the embedded default)."""
    settings = runtime.settings
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    if runtime.redis is not None:
        tasks.append(asyncio.create_task(runtime.tenant_cache.listen(stop), name="rustok-tenant-cache"))
    stop_relay = asyncio.Event()
    relay_task: asyncio.Task[None] | None = None
    if settings.should_run_relay_in_process:
        relay_task = asyncio.create_task(runtime.relay().run(stop_relay), name="rustok-relay")
    log.info(
        "started",
        env=settings.env.value,
        database=runtime.backend,
        redis=runtime.redis is not None,
        relay="in-process" if relay_task is not None else "external",
    )
    try:
        yield
    finally:
        if relay_task is not None:
            stop_relay.set()  # the round in progress finishes; what it did not claim stays pending
            await relay_task
        stop.set()
        await asyncio.gather(*tasks)
        log.info("stopped")
