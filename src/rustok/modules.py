"""The domain modules this build assembles, in dependency order, and what the app, the relay and the
migrations load from each. A module is a package `rustok.<name>` with the anatomy described in
docs/architecture.md; each part is optional."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

from fastapi import APIRouter

from rustok.core.settings import Settings
from rustok.outbox.registry import Consumer, ConsumerRegistry

INSTALLED_MODULES: tuple[str, ...] = ("outbox", "tenants", "users", "content", "commerce", "index")


def _submodules(name: str) -> Iterator[ModuleType]:
    for package in INSTALLED_MODULES:
        try:
            yield importlib.import_module(f"rustok.{package}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"rustok.{package}.{name}":
                raise


def load_models() -> None:
    """Import every module's tables, so `Base.metadata` is complete (for migrations and their check)."""
    for _ in _submodules("models"):
        pass


def load_events() -> None:
    """Import every module's event types, so `rustok.core.events.CATALOG` is complete."""
    for _ in _submodules("events"):
        pass


def load_permissions() -> None:
    """Import every module (its package imports its ``permissions.py``), so that
    `rustok.core.permissions.MATRIX` holds every resource and grant."""
    for package in INSTALLED_MODULES:
        importlib.import_module(f"rustok.{package}")


def consumers(settings: Settings | None = None) -> ConsumerRegistry:
    """A registry of every module's consumers (the ``CONSUMERS`` of its ``consumers.py``), and, when
    ``settings`` name a broker (``RUSTOK_NATS_URL``), the publisher to it."""
    load_events()
    found: list[Consumer] = []
    for module in _submodules("consumers"):
        found.extend(module.CONSUMERS)
    if settings is not None and settings.nats_url:
        from rustok.outbox.broker import NatsPublisher

        publisher = NatsPublisher(
            settings.nats_url, stream=settings.nats_stream, subject_prefix=settings.nats_subject_prefix
        )
        found.append(publisher.consumer())
    return ConsumerRegistry(found)


def routers() -> list[APIRouter]:
    return [module.router for module in _submodules("http")]
