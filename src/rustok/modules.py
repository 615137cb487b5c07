"""The domain modules this build assembles, in dependency order, and what the app and migrations load
from each. A module is a package `rustok.<name>` with the anatomy described in docs/architecture.md."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

from fastapi import APIRouter

INSTALLED_MODULES: tuple[str, ...] = ()


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


def routers() -> list[APIRouter]:
    return [module.router for module in _submodules("http")]
