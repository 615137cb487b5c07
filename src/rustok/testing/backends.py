"""Which database backends a test run covers (``RUSTOK_TEST_BACKENDS``), and tests for one backend only."""

from __future__ import annotations

import os

import pytest

ALL_BACKENDS = ("sqlite", "postgresql")


def selected_backends() -> list[str]:
    chosen = os.environ.get("RUSTOK_TEST_BACKENDS")
    if not chosen:
        return list(ALL_BACKENDS)
    names = [name.strip() for name in chosen.split(",") if name.strip()]
    unknown = set(names) - set(ALL_BACKENDS)
    if unknown:
        raise pytest.UsageError(f"RUSTOK_TEST_BACKENDS names unknown backends: {sorted(unknown)}")
    return names


def only_on(backend: str) -> pytest.MarkDecorator:
    """Run a database test on ``backend`` only (what it tests exists nowhere else), instead of on every
    backend: ``@only_on("postgresql")``. Deselected runs (``RUSTOK_TEST_BACKENDS``) skip it, saying so."""
    if backend not in ALL_BACKENDS:
        raise ValueError(f"unknown backend {backend!r}")
    marks = []
    if backend not in selected_backends():
        marks.append(pytest.mark.skip(reason=f"{backend} is not in RUSTOK_TEST_BACKENDS"))
    return pytest.mark.parametrize("database_url", [pytest.param(backend, marks=marks)], indirect=True)
