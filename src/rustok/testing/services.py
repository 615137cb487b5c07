"""Tests that need a service (PostgreSQL, Redis, NATS) skip with a clear message when it is unreachable,
unless ``RUSTOK_TEST_REQUIRE_SERVICES=1`` (CI sets it), where they fail instead: CI must never pass by
skipping."""

from __future__ import annotations

import os
import socket
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


def services_required() -> bool:
    return os.environ.get("RUSTOK_TEST_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}


def postgres_admin_url() -> str:
    return os.environ.get("RUSTOK_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def redis_url() -> str:
    return os.environ.get("RUSTOK_TEST_REDIS_URL") or DEFAULT_REDIS_URL


def nats_url() -> str:
    return os.environ.get("RUSTOK_TEST_NATS_URL") or DEFAULT_NATS_URL


def reachable(url: str, default_port: int, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, why: str = "") -> NoReturn:
    """Skip the test (or fail it, when services are required) because `name` at `url` is unreachable."""
    message = f"{name} is not reachable at {url}{': ' + why if why else ''}"
    if services_required():
        pytest.fail(f"{message} (RUSTOK_TEST_REQUIRE_SERVICES=1: service-backed tests are mandatory)")
    pytest.skip(f"{message}; set RUSTOK_TEST_{name.upper()}_URL or start it to run these tests")
