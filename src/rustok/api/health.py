"""Liveness and readiness. Neither is tenant-resolved; both are public."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from rustok.api.deps import RuntimeDep
from rustok.core.db import ping
from rustok.core.errors import problem_response, problem_responses
from rustok.core.logging import get_logger
from rustok.core.routing import make_router
from rustok.core.security import public

router = make_router(prefix="/health", tags=["ops"], dependencies=[public(authenticate=False)])
log = get_logger("rustok.health")


class Live(BaseModel):
    status: str = "ok"


class Ready(BaseModel):
    status: str = "ok"
    checks: dict[str, str]


@router.get("/live", response_model=Live, summary="The process is up")
async def live() -> Live:
    return Live()


@router.get(
    "/ready",
    response_model=Ready,
    summary="The database (and Redis, the broker and S3 media storage, when configured) answer",
    responses=problem_responses(503),
)
async def ready(request: Request, runtime: RuntimeDep) -> Ready | Response:
    checks: dict[str, Callable[[], Awaitable[Any]]] = {"database": lambda: _ping_database(runtime.engine)}
    if runtime.redis is not None:
        checks["redis"] = runtime.redis.ping
    nats_url = runtime.settings.nats_url
    if nats_url is not None:
        checks["broker"] = lambda: _ping_nats(nats_url)
    if runtime.settings.media_storage == "s3":
        checks["media_storage"] = runtime.media_storage.ready
    timeout = runtime.settings.health_timeout_seconds
    results = await asyncio.gather(*(_run(name, check, timeout) for name, check in checks.items()))
    outcome = dict(results)
    failed = sorted(name for name, result in outcome.items() if result != "ok")
    if failed:
        return problem_response(
            503,
            code="not_ready",
            detail=f"Not ready: {', '.join(failed)} did not answer.",
            instance=request.url.path,
            extra={"checks": outcome},
        )
    return Ready(checks=outcome)


async def _ping_database(engine: Any) -> None:
    await ping(engine)


async def _ping_nats(url: str) -> None:
    import nats

    client = await nats.connect(url, connect_timeout=1.0, max_reconnect_attempts=0, allow_reconnect=False)
    try:
        await client.flush(timeout=1)
    finally:
        await client.close()


async def _run(name: str, check: Callable[[], Awaitable[Any]], seconds: float) -> tuple[str, str]:
    try:
        await asyncio.wait_for(check(), seconds)
    except TimeoutError:
        log.warning("readiness_check_failed", check=name, error="timeout")
        return name, "timeout"
    except Exception as exc:  # readiness reports any failure of a dependency, whatever its type
        log.warning("readiness_check_failed", check=name, error=repr(exc))
        return name, f"error: {type(exc).__name__}"
    return name, "ok"
