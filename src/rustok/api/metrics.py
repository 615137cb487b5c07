"""``GET /metrics``: the process's Prometheus metrics, as text. Not tenant-resolved."""

from __future__ import annotations

from fastapi import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from rustok.core.routing import make_router
from rustok.core.security import public

router = make_router(tags=["ops"], dependencies=[public(authenticate=False)])


@router.get("/metrics", response_class=Response, summary="Prometheus metrics")
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
