"""What the benchmark scripts share: a fresh database per backend and the runtime on it (through the
composition root, `rustok.bootstrap.open_runtime`), the command-line options for backends, simple
statistics, machine facts and a table printer."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from importlib import metadata as dist_metadata
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from rustok.bootstrap import Runtime, open_runtime
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWorkFactory
from rustok.migrations import upgrade_async
from rustok.tenants.schemas import LocaleIn
from rustok.tenants.service import enable_locale
from rustok.testing.auth import new_tenant
from rustok.testing.services import postgres_admin_url, reachable

BACKENDS = ("sqlite", "postgresql")


async def _admin(sql: str, admin_url: str | None = None) -> None:
    """Run CREATE/DROP DATABASE (which cannot run in a transaction) on the admin database."""
    connection = await asyncpg.connect(admin_url or postgres_admin_url())
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def fresh_database(backend: str, admin_url: str | None = None) -> AsyncIterator[str]:
    """The URL of a new, empty database on ``backend``, removed afterwards. PostgreSQL: made on the server
    of ``admin_url`` (default `postgres_admin_url`, from ``RUSTOK_TEST_POSTGRES_URL``)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="rustok-bench-") as directory:
            yield f"sqlite:///{(Path(directory) / 'bench.db').as_posix()}"
        return
    name = f"rustok_bench_{uuid.uuid4().hex[:12]}"
    admin_url = admin_url or postgres_admin_url()
    await _admin(f'CREATE DATABASE "{name}"', admin_url)
    try:
        yield f"{admin_url.rpartition('/')[0]}/{name}"
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin_url)


@contextlib.asynccontextmanager
async def migrated_runtime(settings: Settings, **options: Any) -> AsyncIterator[Runtime]:
    """The runtime on ``settings``' database (`open_runtime`, with ``options``), migrated to the newest
    revision first; closed afterwards."""
    async with open_runtime(settings, **options) as runtime:
        await upgrade_async(runtime.engine)
        yield runtime


async def new_tenant_with_german(uows: UnitOfWorkFactory, slug: str) -> uuid.UUID:
    """A tenant (``new_tenant``) with the ``de`` locale enabled beside its default ``en``; its id."""
    tenant_id = await new_tenant(uows, slug)
    async with uows(TenantScope.of(tenant_id)) as uow:
        await enable_locale(uow, tenant_id, LocaleIn(locale="de", name="Deutsch"))
    return tenant_id


# ------------------------------------------------------------------------------------------ command line


def add_backend_arguments(
    parser: argparse.ArgumentParser, *, every: str = "both", postgres_url: bool = True
) -> None:
    """``--backend sqlite|postgresql|<every>`` (default: every one), and ``--postgres-url`` (the server
    the bench makes its database on) unless ``postgres_url`` is false."""
    parser.add_argument("--backend", choices=("sqlite", "postgresql", every), default=every)
    if postgres_url:
        parser.add_argument(
            "--postgres-url",
            default=postgres_admin_url(),
            help="PostgreSQL server (its database is the admin one the bench creates and drops its own from)",
        )


def chosen_backends(choice: str) -> tuple[str, ...]:
    """The backends ``--backend`` names: one, or both for its catch-all choice."""
    return (choice,) if choice in BACKENDS else BACKENDS


def reachable_backends(backends: Sequence[str], postgres_url: str) -> Iterator[str]:
    """``backends`` in turn, leaving PostgreSQL out (and saying so) when its server does not answer."""
    for backend in backends:
        if backend == "postgresql" and not reachable(postgres_url, 5432):
            print(f"\nnote: PostgreSQL is not reachable at {postgres_url.rpartition('@')[2]}; skipped")
            continue
        yield backend


# ------------------------------------------------------------------------------------------ statistics


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of ``values`` (share in 0..1)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def package_version(name: str) -> str:
    try:
        return dist_metadata.version(name)
    except dist_metadata.PackageNotFoundError:
        return "?"


# The libraries on every bench's path, as (label, distribution name).
APP_PACKAGES = (
    ("SQLAlchemy", "sqlalchemy"),
    ("aiosqlite", "aiosqlite"),
    ("asyncpg", "asyncpg"),
    ("FastAPI", "fastapi"),
    ("httpx", "httpx"),
)


def print_machine(
    title: str,
    packages: Sequence[tuple[str, str]],
    *,
    cpu_notes: Sequence[str] = (),
    backends: Sequence[str] = (),
    postgres_url: str | None = None,
) -> None:
    """The header every bench prints: Python, the platform, the CPU and its load (and ``cpu_notes``, a
    line each), SQLite and the versions of ``packages`` (label, distribution name); and the PostgreSQL
    server when ``backends`` include it (``postgres_url``, by default `postgres_admin_url`)."""
    print(title)
    print(f"  Python {platform.python_version()} ({platform.python_implementation()}), {platform.platform()}")
    print(
        f"  CPU: {os.cpu_count()} logical cores, {cpu_model()}; "
        f"load average now {load_average()} (other processes skew every figure)"
    )
    for note in cpu_notes:
        print(f"  {note}")
    versions = ", ".join(f"{label} {package_version(name)}" for label, name in packages)
    print(f"  SQLite {sqlite3.sqlite_version}; {versions}")
    if "postgresql" in backends:
        server = (postgres_url or postgres_admin_url()).rpartition("@")[2]
        print(f"  PostgreSQL server: {server} (version below)")


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> None:
    """Rows under a header, in columns as wide as their widest cell, each aligned right or left."""
    widths = [max(len(line[i]) for line in (header, *rows)) for i in range(len(header))]
    for line in (header, *rows):
        cells = [
            cell.rjust(width) if align else cell.ljust(width)
            for cell, width, align in zip(line, widths, right, strict=True)
        ]
        print("  " + "  ".join(cells).rstrip())


def app_settings(url: str, **overrides: Any) -> Settings:
    """The settings every bench's app runs with: its database, no Redis, no default tenant or subdomains,
    no relay in the process (events are written, not delivered, so no relay competes), quiet logs."""
    fields: dict[str, Any] = {
        "database_url": url,
        "redis_url": None,
        "relay_in_process": False,
        "log_level": "WARNING",
        "default_tenant": None,
        "tenant_subdomain_base": None,
        "trust_proxy_headers": False,
        **overrides,
    }
    return Settings(_env_file=None, **fields)


async def server_version(engine: AsyncEngine) -> str:
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            version = (await connection.execute(text("SHOW server_version"))).scalar_one()
        return f"PostgreSQL {version}"
    return f"SQLite {sqlite3.sqlite_version} (WAL)"
