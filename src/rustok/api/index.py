"""``GET /``: what this server is and where to go from here. Not tenant-resolved; it reads no credentials."""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

import rustok
from rustok.core.routing import make_router
from rustok.core.security import public

router = make_router(tags=["ops"], dependencies=[public(authenticate=False)])


class Links(BaseModel):
    docs: str = Field(description="Swagger UI: try every operation from the browser")
    redoc: str = Field(description="ReDoc: the same document, to read")
    openapi: str = Field(description="The OpenAPI document")
    health: str = Field(description="Readiness: the database and the configured services answer")
    metrics: str = Field(description="Prometheus metrics")


class Index(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "RusToK",
                    "version": "0.1.0",
                    "links": {
                        "docs": "/docs",
                        "redoc": "/redoc",
                        "openapi": "/openapi.json",
                        "health": "/health/ready",
                        "metrics": "/metrics",
                    },
                }
            ]
        }
    )

    name: str
    version: str
    links: Links


@router.get("/", response_model=Index, summary="What this server is, and links to its docs and probes")
async def index(request: Request) -> Index:
    """The links are paths on this server (under the proxy's prefix, when it mounts the app under one)."""
    prefix = request.scope.get("root_path", "").rstrip("/")
    return Index(
        name=request.app.title,
        version=rustok.__version__,
        links=Links(
            docs=f"{prefix}/docs",
            redoc=f"{prefix}/redoc",
            openapi=f"{prefix}{request.app.openapi_url}",
            health=f"{prefix}/health/ready",
            metrics=f"{prefix}/metrics",
        ),
    )
