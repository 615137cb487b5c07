"""The relay inside ``rustok serve``: on the embedded default (SQLite, nothing configured) the server runs the
event relay in its own process, so an event committed to its database gets delivered without a worker; with
``RUSTOK_RELAY_IN_PROCESS=false`` it leaves that to ``rustok worker``.

The server runs as an operator runs it (the console script, in a subprocess, on a private data directory);
the test process commits the events straight into the server's SQLite file through a unit of work.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from rustok import modules
from rustok.bootstrap import Runtime, open_runtime
from rustok.content.events import NodeCreated
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.outbox.models import EventStatus, SysEvent
from rustok.outbox.registry import ConsumerRegistry
from tests.e2e.test_cli import RUSTOK, SERVE_START_TIMEOUT, clean_env, free_port, json_lines

TENANT = uuid.UUID("01900000-0000-7000-8000-00000000f00d")
POLL_SECONDS = "0.2"
DISPATCH_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0


class Server:
    """``rustok serve`` in a subprocess, its output in files."""

    def __init__(self, tmp_path: Path, **settings: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.data_dir = tmp_path / "data"
        self.database = self.data_dir / "rustok.db"
        self.stdout_path = tmp_path / "serve.out"
        self.stderr_path = tmp_path / "serve.err"
        env = clean_env(self.data_dir, RUSTOK_LOG_FORMAT="json", RUSTOK_RELAY_POLL_SECONDS=POLL_SECONDS)
        env.update(settings)
        with self.stdout_path.open("w") as stdout, self.stderr_path.open("w") as stderr:
            self.process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
                [str(RUSTOK), "serve", "--port", str(self.port)],
                env=env,
                cwd=tmp_path,
                stdout=stdout,
                stderr=stderr,
            )

    def output(self) -> str:
        return f"{self.stdout_path.read_text()}\n{self.stderr_path.read_text()}"

    def logs(self) -> list[dict[str, Any]]:
        return json_lines(self.stdout_path.read_text())

    async def wait_until_live(self) -> None:
        """Poll ``/health/live`` until it answers 200; fail if the server exits or the time is up."""
        deadline = time.monotonic() + SERVE_START_TIMEOUT
        async with httpx.AsyncClient(base_url=self.base_url, timeout=1.0) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    pytest.fail(f"rustok serve exited with {self.process.returncode}:\n{self.output()}")
                try:
                    response = await http.get("/health/live")
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
                    continue
                if response.status_code == 200:
                    return
                await asyncio.sleep(0.1)
        pytest.fail(f"rustok serve did not answer within {SERVE_START_TIMEOUT}s:\n{self.output()}")

    async def stop(self) -> int:
        """SIGTERM, then wait for the exit (kill, and fail, when it does not come); the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
                pytest.fail(f"rustok serve did not stop within {STOP_TIMEOUT}s of SIGTERM:\n{self.output()}")
            await asyncio.sleep(0.1)
        return self.process.returncode


class Database:
    """The server's SQLite file, as the test process sees it: a runtime of the test's own on it."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def commit_node_created(self) -> uuid.UUID:
        """Commit one node.created event in a unit of work of the test's runtime, whose outbox writer is its
        own (the server's relay is not told: it finds the event by polling); the event's id."""
        async with self.runtime.uow(TenantScope.of(TENANT)) as uow:
            envelope = uow.record(NodeCreated(node_id=uuid.uuid4(), kind="post"))
        return envelope.id

    async def event(self, event_id: uuid.UUID) -> SysEvent:
        async with self.runtime.platform() as uow:
            return (await uow.session.scalars(select(SysEvent).where(SysEvent.id == event_id))).one()

    async def wait_for_status(self, event_id: uuid.UUID, status: EventStatus, server: Server) -> SysEvent:
        deadline = time.monotonic() + DISPATCH_TIMEOUT
        while True:
            event = await self.event(event_id)
            if event.status == status:
                return event
            if server.process.poll() is not None:
                pytest.fail(f"rustok serve exited with {server.process.returncode}:\n{server.output()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"event {event_id} still {event.status}, not {status}, after {DISPATCH_TIMEOUT}s:\n"
                    f"{server.output()}"
                )
            await asyncio.sleep(0.1)


@asynccontextmanager
async def server_database(path: Path) -> AsyncIterator[Database]:
    """The test's runtime on the server's SQLite file (no consumers, no Redis); its engine connects on
    first use, after the server migrated the file."""
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{path}")
    async with open_runtime(settings, consumers=ConsumerRegistry(), redis=False) as runtime:
        yield Database(runtime)


def events_named(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [line for line in logs if line.get("event") == name]


def assert_clean_exit(exit_code: int, server: Server) -> None:
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal: the exit is "killed by SIGTERM".
    assert exit_code in (0, -signal.SIGTERM), server.output()
    assert "Traceback" not in server.output()


async def test_given_the_embedded_default_when_serving_then_the_relay_in_the_server_dispatches_events(
    tmp_path: Path,
) -> None:
    """Given ``rustok serve`` on SQLite with nothing configured about the relay, when an event is committed
    to its database, then the server's own relay claims and dispatches it (no consumer is installed, so
    dispatched means handled), and on SIGTERM the relay stops before the app does and the server exits
    cleanly."""
    server = Server(tmp_path)
    async with server_database(server.database) as database:
        try:
            await server.wait_until_live()
            event_id = await database.commit_node_created()

            event = await database.wait_for_status(event_id, EventStatus.DISPATCHED, server)
        finally:
            exit_code = await server.stop()

    assert event.dispatched_at is not None
    assert event.attempts == 0
    assert event.last_error is None
    assert_clean_exit(exit_code, server)
    logs = server.logs()
    [started] = events_named(logs, "started")
    assert started["relay"] == "in-process"
    [relay_started] = events_named(logs, "relay_started")
    assert relay_started["relay"] == "relay"
    assert relay_started["consumers"] == sorted(c.name for c in modules.consumers())
    [relay_stopped] = events_named(logs, "relay_stopped")
    assert relay_stopped["handled"] >= 1
    names = [line.get("event") for line in logs]
    assert names.index("relay_started") < names.index("relay_stopped") < names.index("stopped")


async def test_given_the_relay_switched_off_when_serving_then_events_stay_pending(tmp_path: Path) -> None:
    """Given ``RUSTOK_RELAY_IN_PROCESS=false``, then the server starts no relay (it says the relay is
    external), and an event committed to its database is still pending after many poll intervals and after
    the server has stopped."""
    server = Server(tmp_path, RUSTOK_RELAY_IN_PROCESS="false")
    async with server_database(server.database) as database:
        try:
            await server.wait_until_live()
            event_id = await database.commit_node_created()
            # Ten poll intervals of an in-process relay: time enough for one to have dispatched the event.
            await asyncio.sleep(10 * float(POLL_SECONDS))
            while_serving = await database.event(event_id)
        finally:
            exit_code = await server.stop()
        after_stopping = await database.event(event_id)

    assert while_serving.status == EventStatus.PENDING
    assert after_stopping.status == EventStatus.PENDING
    assert after_stopping.dispatched_at is None
    assert_clean_exit(exit_code, server)
    logs = server.logs()
    [started] = events_named(logs, "started")
    assert started["relay"] == "external"
    assert events_named(logs, "relay_started") == []
    assert events_named(logs, "relay_stopped") == []
    assert events_named(logs, "stopped"), server.output()
