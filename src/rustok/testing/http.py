"""Serving an app in process, for tests: its lifespan run, and an HTTP client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

BASE_URL = "http://testserver"


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Start `app` (its lifespan: engines, Redis), give an httpx client on it over ASGI, stop it after."""
    async with app.router.lifespan_context(app), http_client(app) as client:
        yield client


@asynccontextmanager
async def http_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on an app that is already started."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        yield client
