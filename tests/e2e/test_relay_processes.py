"""The relay across real processes and connections: crashes (SIGKILL) at the two dangerous moments lose no
event and apply none twice, two relays on PostgreSQL share the work without applying an event twice or out
of order, ``NOTIFY`` wakes an idle relay, and ``rustok worker`` starts, stands by and stops as an operator
runs it.

Each test works on a migrated database of its own (`isolated_database_url`) whose writes really commit.
Subprocesses run `relay_program` (a helper next to this file) or the installed ``rustok`` script, with a
clean environment, a private working directory and a timeout; the ones still running at the end are killed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_asyncio
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from rustok.bootstrap import Runtime, open_runtime
from rustok.content.events import NodeCreated
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWorkFactory
from rustok.outbox.models import EventStatus, ProcessedEvent, SysEvent
from rustok.outbox.registry import ConsumerRegistry
from rustok.outbox.relay import Relay, RelayConfig
from rustok.testing import only_on
from rustok.testing.events import pending_count
from tests.e2e.relay_program import CONSUMER, DIE_AFTER_EFFECT, EFFECTS_TABLE, create_effects_table, registry

PROGRAM = Path(__file__).with_name("relay_program.py")
RUSTOK = Path(sys.executable).parent / "rustok"
PROCESS_TIMEOUT = 60.0  # liveness guards only: nothing asserts how fast anything is
LOG_TIMEOUT = 30.0
EXIT_TIMEOUT = 15.0
DELIVERY_TIMEOUT = 60.0
ON_POSTGRESQL = only_on("postgresql")
OBSERVER = "rustok-test-observer"  # the application_name of the test's own PostgreSQL connections


# ------------------------------------------------------------------------------------------------- helpers


@dataclass(frozen=True, slots=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str

    def logs(self, event: str) -> list[dict[str, Any]]:
        return [line for line in json_lines(self.stdout) if line.get("event") == event]


@dataclass(frozen=True, slots=True)
class Effect:
    seq: int
    event_id: uuid.UUID
    tenant_id: uuid.UUID
    position: int


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def read(path: Path) -> str:
    return path.read_text()


T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], within: float, interval: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy, and return that; TimeoutError after ``within``
    seconds (a liveness guard, not a measurement)."""

    async def poll() -> T:
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(interval)

    return await asyncio.wait_for(poll(), within)


def process_env(tmp_path: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The caller's environment without any ``RUSTOK_*`` setting (nor the program's crash switch), plus a
    private data directory, JSON logs, the database and ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("RUSTOK_") and name != DIE_AFTER_EFFECT
    }
    env["RUSTOK_DATA_DIR"] = str(tmp_path / "data")
    env["RUSTOK_LOG_FORMAT"] = "json"
    if database_url is not None:
        env["RUSTOK_DATABASE_URL"] = database_url
    env.update(extra)
    return env


async def run_program(*args: str, env: dict[str, str], cwd: Path) -> Finished:
    """Run `relay_program` to its end (or its death), killing it if it outlives the timeout."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PROGRAM),
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), PROCESS_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


async def stop_tasks(tasks: list[asyncio.Task[None]]) -> bool:
    """Wait for ``tasks`` (told to stop) to end; True when they all did in time. The others are cancelled,
    so nothing is left running."""
    _, late = await asyncio.wait(tasks, timeout=EXIT_TIMEOUT)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    return not late


def name_connections(engine: AsyncEngine, name: str) -> None:
    """On PostgreSQL, give the connections ``engine`` opens from now on the ``application_name`` ``name``,
    so the test can tell its own connections from the subprocesses'."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine.sync_engine, "do_connect")
    def named(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["server_settings"] = {**cparams.get("server_settings", {}), "application_name": name}


async def wait_until_others_disconnected(engine: AsyncEngine) -> None:
    """On PostgreSQL, wait until no connection but the test's is open on the database: a killed process's
    server backend notices the closed socket, rolls back what was open and releases its locks."""
    if engine.dialect.name != "postgresql":
        return

    async def alone() -> bool:
        async with engine.connect() as connection:
            others = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend' AND application_name <> :observer"
                ),
                {"observer": OBSERVER},
            )
        return not others

    await eventually(alone, PROCESS_TIMEOUT)


async def event_statuses(engine: AsyncEngine) -> dict[uuid.UUID, str]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(SysEvent.id, SysEvent.status))
        return {row.id: row.status for row in rows}


async def event_ids_by_position(engine: AsyncEngine) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each tenant's event ids in ``position`` order."""
    by_tenant: dict[uuid.UUID, list[uuid.UUID]] = collections.defaultdict(list)
    async with engine.connect() as connection:
        rows = await connection.execute(select(SysEvent.tenant_id, SysEvent.id).order_by(SysEvent.position))
        for row in rows:
            by_tenant[row.tenant_id].append(row.id)
    return dict(by_tenant)


async def processed_ids(engine: AsyncEngine) -> list[uuid.UUID]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(ProcessedEvent.event_id).where(ProcessedEvent.consumer == CONSUMER)
        )
        return list(rows.scalars())


async def effects(engine: AsyncEngine) -> list[Effect]:
    """The consumer's effect rows, in the order they were written."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                f"SELECT seq, event_id, tenant_id, event_position FROM {EFFECTS_TABLE} "  # noqa: S608
                "WHERE consumer = :consumer ORDER BY seq"
            ),
            {"consumer": CONSUMER},
        )
        return [
            Effect(int(seq), uuid.UUID(event_id), uuid.UUID(tenant_id), int(position))
            for seq, event_id, tenant_id, position in rows
        ]


def applications(found: list[Effect]) -> collections.Counter[uuid.UUID]:
    """How many times each event was applied."""
    return collections.Counter(effect.event_id for effect in found)


async def commit_events(uows: UnitOfWorkFactory, tenant_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    """Commit ``count`` node.created events of ``tenant_id`` in one unit of work of ``uows``; their ids."""
    async with uows(TenantScope.of(tenant_id)) as uow:
        for _ in range(count):
            uow.record(NodeCreated(node_id=uuid.uuid4(), kind="post"))
    return [envelope.id for envelope in uow.events]


@pytest_asyncio.fixture(loop_scope="session")
async def database(isolated_database_url: str) -> AsyncIterator[Runtime]:
    """The test's own migrated database, with the consumer's effect table; the test's runtime on it, for
    its own reads and writes (no consumers, and an outbox writer no relay listens to). On PostgreSQL its
    connections are named `OBSERVER`."""
    settings = Settings(_env_file=None, database_url=isolated_database_url)
    async with open_runtime(settings, consumers=ConsumerRegistry(), redis=False) as runtime:
        name_connections(runtime.engine, OBSERVER)
        await create_effects_table(runtime.engine)
        yield runtime


# ---------------------------------------------------------------------------------------------- crashes


async def test_events_committed_by_a_process_killed_right_after_its_commit_are_delivered_once(
    database: Runtime, isolated_database_url: str, tmp_path: Path
) -> None:
    """Given a process that commits events through a real unit of work and is killed (SIGKILL) right after
    its last commit, with no relay running, when a relay process runs afterwards, then every committed
    event was kept and is applied exactly once, and all end ``dispatched``."""
    env = process_env(tmp_path, isolated_database_url)

    writer = await run_program("emit", "3", "4", "--die-after-commit", env=env, cwd=tmp_path)

    assert writer.returncode == -signal.SIGKILL, writer.stderr
    committed = [uuid.UUID(i) for line in writer.logs("committed") for i in line["event_ids"]]
    assert len(committed) == 12, writer.stdout
    statuses = await event_statuses(database.engine)
    assert sorted(statuses) == sorted(committed), "the last commit before the kill is durable"
    assert set(statuses.values()) == {EventStatus.PENDING}
    assert await effects(database.engine) == [], "no relay has run yet"
    await wait_until_others_disconnected(database.engine)

    relay = await run_program("relay", env=env, cwd=tmp_path)

    assert relay.returncode == 0, relay.stderr
    assert [line["handled"] for line in relay.logs("relayed")] == [12]
    assert applications(await effects(database.engine)) == dict.fromkeys(committed, 1)
    assert set((await event_statuses(database.engine)).values()) == {EventStatus.DISPATCHED}


async def test_a_relay_killed_between_the_consumers_commit_and_its_outcome_has_no_second_effect(
    database: Runtime, isolated_database_url: str, tmp_path: Path
) -> None:
    """Given events of two tenants, when the relay process is killed (SIGKILL) right after the consumer's
    unit of work for the first tenant committed (effect and processed ids), before the relay recorded any
    outcome, then all events are still pending; and when a relay runs again, the second tenant's events
    are applied, the first tenant's are not applied again (the processed-ids table skips them), and every
    event ends ``dispatched`` with exactly one effect."""
    first, second = uuid.uuid4(), uuid.uuid4()
    first_ids = await commit_events(database.uow, first, 3)
    second_ids = await commit_events(database.uow, second, 3)
    everything = first_ids + second_ids

    crashed = await run_program(
        "relay", env=process_env(tmp_path, isolated_database_url, **{DIE_AFTER_EFFECT: "1"}), cwd=tmp_path
    )

    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert crashed.logs("relayed") == []
    assert applications(await effects(database.engine)) == dict.fromkeys(first_ids, 1)
    assert sorted(await processed_ids(database.engine)) == sorted(first_ids)
    statuses = set((await event_statuses(database.engine)).values())
    assert statuses == {EventStatus.PENDING}, "no outcome recorded"
    await wait_until_others_disconnected(database.engine)

    restarted = await run_program("relay", env=process_env(tmp_path, isolated_database_url), cwd=tmp_path)

    assert restarted.returncode == 0, restarted.stderr
    assert [line["handled"] for line in restarted.logs("relayed")] == [len(everything)]
    found = await effects(database.engine)
    assert applications(found) == dict.fromkeys(everything, 1)
    assert [e.event_id for e in found] == everything, "applied in commit order"
    assert sorted(await processed_ids(database.engine)) == sorted(everything)
    assert set((await event_statuses(database.engine)).values()) == {EventStatus.DISPATCHED}


# ----------------------------------------------------------------------------------- several relays


TENANTS = 20
ROUNDS = 10
PER_COMMIT = 10  # 20 tenants x 10 rounds x 10 events = 2,000 events
WRITERS = 4


@ON_POSTGRESQL  # several relays run only there: SQLite has one relay per database
async def test_two_relays_on_postgresql_apply_every_event_once_and_each_tenants_in_commit_order(
    database: Runtime, isolated_database_url: str
) -> None:
    """Given two relays running side by side on PostgreSQL, each with its own engine and a small batch, when
    writers commit 2,000 events of 20 tenants concurrently, then every event is applied exactly once, each
    tenant's events are applied in the order they were committed (which is their position order), and both
    relays did part of the work."""
    settings = Settings(_env_file=None, database_url=isolated_database_url, relay_batch_size=50)
    tenants = [uuid.uuid4() for _ in range(TENANTS)]
    committed: dict[uuid.UUID, list[uuid.UUID]] = {tenant: [] for tenant in tenants}

    async def write(mine: list[uuid.UUID]) -> None:
        for _ in range(ROUNDS):
            for tenant in mine:
                committed[tenant] += await commit_events(database.uow, tenant, PER_COMMIT)

    async def all_dispatched() -> bool:
        return await pending_count(database.sessions) == 0

    async with contextlib.AsyncExitStack() as stack:
        runtimes = [  # a runtime of its own (engine, outbox writer) for each relay
            await stack.enter_async_context(open_runtime(settings, consumers=registry(), redis=False))
            for _ in range(2)
        ]
        relays = [runtime.relay(name=f"relay-{index}") for index, runtime in enumerate(runtimes)]
        stop = asyncio.Event()
        running = [asyncio.create_task(relay.run(stop), name=relay.name) for relay in relays]
        try:
            await asyncio.wait_for(
                asyncio.gather(*(write(tenants[i::WRITERS]) for i in range(WRITERS))), PROCESS_TIMEOUT
            )
            await eventually(all_dispatched, DELIVERY_TIMEOUT)
        finally:
            stop.set()
            stopped = await stop_tasks(running)
    assert stopped, "both relays stopped when asked"
    for task in running:
        assert task.exception() is None

    everything = [event_id for ids in committed.values() for event_id in ids]
    assert len(everything) == TENANTS * ROUNDS * PER_COMMIT
    found = await effects(database.engine)
    assert applications(found) == dict.fromkeys(everything, 1), "every event applied exactly once"
    by_position = await event_ids_by_position(database.engine)
    for tenant in tenants:
        applied = [e.event_id for e in found if e.tenant_id == tenant]
        assert by_position[tenant] == committed[tenant], "a tenant's positions follow its commit order"
        assert applied == committed[tenant], f"tenant {tenant}: effects in commit order"
    assert set((await event_statuses(database.engine)).values()) == {EventStatus.DISPATCHED}
    assert [relay.delivered > 0 for relay in relays] == [True, True], [r.delivered for r in relays]


# -------------------------------------------------------------------------------------------- wake-up


class IdleCountingRelay(Relay):
    """The real relay, counting how often it checked for work and found none (`observe` runs at the end of
    every round that handled nothing, just before the relay goes to sleep)."""

    idle_checks = 0

    async def observe(self) -> datetime | None:
        due = await super().observe()
        self.idle_checks += 1
        return due


@ON_POSTGRESQL  # LISTEN/NOTIFY is PostgreSQL's
async def test_a_notify_from_another_connection_wakes_an_idle_relay_on_postgresql(
    database: Runtime, isolated_database_url: str
) -> None:
    """Given a relay that polls only every 300 s, running and idle (its first round found nothing, then its
    ``LISTEN`` connection caught up with a second round), when another engine commits an event through an
    outbox writer of its own (so no in-process wake-up), then the event is delivered long before the poll
    would find it, and the relay stops cleanly when asked."""
    settings = Settings(_env_file=None, database_url=isolated_database_url)
    async with open_runtime(settings, consumers=registry(), redis=False) as runtime:
        relay = IdleCountingRelay(
            runtime.uow,
            runtime.consumers,
            writer=runtime.outbox,
            config=RelayConfig(poll_seconds=300),
            engine=runtime.engine,
            name="listener",
        )
        stop = asyncio.Event()
        running = asyncio.create_task(relay.run(stop))

        async def idle() -> bool:
            # Round one (at start) and round two (woken once LISTEN is in place) both found nothing. The
            # test runs only while the relay's task is suspended, and after its second check that is in its
            # sleep.
            return relay.idle_checks >= 2

        try:
            try:
                await eventually(idle, LOG_TIMEOUT, interval=0.01)
            except TimeoutError:
                pytest.fail(
                    f"the relay did not settle after its LISTEN caught up ({relay.idle_checks} idle checks)"
                )
            assert (relay.delivered, relay.idle_checks) == (0, 2)

            # Committed by the test's runtime, on another engine, through an outbox writer of its own.
            [event_id] = await commit_events(database.uow, uuid.uuid4(), 1)
            try:
                found = await eventually(lambda: effects(database.engine), 20.0, interval=0.02)
            except TimeoutError:
                pytest.fail("the idle relay was not woken by the commit's NOTIFY (its next poll is in 300 s)")
        finally:
            stop.set()
            stopped = await stop_tasks([running])

    assert [e.event_id for e in found] == [event_id]
    assert relay.delivered == 1
    assert stopped, "the relay stopped when asked"
    assert running.exception() is None


# -------------------------------------------------------------------------------------- rustok worker


async def wait_for_log(
    process: asyncio.subprocess.Process, output: Path, event: str, count: int = 1
) -> list[dict[str, Any]]:
    """Wait until ``output`` holds ``count`` JSON lines of ``event``; fail if the process exits first."""

    async def logged() -> list[dict[str, Any]]:
        found = [line for line in json_lines(read(output)) if line.get("event") == event]
        if len(found) < count and process.returncode is not None:
            pytest.fail(f"the worker exited with {process.returncode}:\n{read(output)}")
        return found if len(found) >= count else []

    try:
        return await eventually(logged, LOG_TIMEOUT)
    except TimeoutError:
        pytest.fail(f"no {event} within {LOG_TIMEOUT}s:\n{read(output)}")


async def start_worker(env: dict[str, str], cwd: Path, output: Path) -> asyncio.subprocess.Process:
    with output.open("w") as sink:
        return await asyncio.create_subprocess_exec(
            str(RUSTOK), "worker", env=env, cwd=cwd, stdout=sink, stderr=asyncio.subprocess.STDOUT
        )


async def terminate(process: asyncio.subprocess.Process) -> int:
    """SIGTERM, then the exit code (killed, and a failure, if it does not exit in time)."""
    process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), EXIT_TIMEOUT)
    except TimeoutError:
        pytest.fail(f"the worker did not exit within {EXIT_TIMEOUT}s of SIGTERM")


async def kill_leftovers(*processes: asyncio.subprocess.Process) -> None:
    for process in processes:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_rustok_worker_logs_relay_started_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    """Given ``rustok worker`` started as an operator starts it (the console script, a SQLite database named
    by ``RUSTOK_DATABASE_URL``), when it has logged ``relay_started`` and gets SIGTERM, then it finishes,
    logs ``relay_stopped`` and exits 0."""
    log_file = tmp_path / "worker.log"
    env = process_env(tmp_path, f"sqlite:///{(tmp_path / 'worker.db').as_posix()}")
    worker: asyncio.subprocess.Process | None = None
    try:
        worker = await start_worker(env, tmp_path, log_file)
        [started] = await wait_for_log(worker, log_file, "relay_started")
        exit_code = await terminate(worker)
    finally:
        if worker is not None:
            await kill_leftovers(worker)

    assert exit_code == 0, read(log_file)
    assert started["relay"] == "worker"
    events = [line.get("event") for line in json_lines(read(log_file))]
    assert events.index("relay_started") < events.index("relay_stopped")


async def test_a_second_rustok_worker_on_the_same_sqlite_database_stands_by_until_the_first_stops(
    tmp_path: Path,
) -> None:
    """Given ``rustok worker`` running on a SQLite database, when a second one starts on the same database,
    then it logs ``relay_standby`` (one relay per SQLite database, by a lock file beside it) and does not
    start a relay; when the first stops (SIGTERM), the second takes over; both exit 0 on SIGTERM."""
    database = tmp_path / "worker.db"
    # A short poll, so that the standby retries the lock soon after the first worker has let it go.
    env = process_env(tmp_path, f"sqlite:///{database.as_posix()}", RUSTOK_RELAY_POLL_SECONDS="0.2")
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    processes: list[asyncio.subprocess.Process] = []
    try:
        first = await start_worker(env, tmp_path, first_log)
        processes.append(first)
        await wait_for_log(first, first_log, "relay_started")
        second = await start_worker(env, tmp_path, second_log)
        processes.append(second)
        [standby, *_] = await wait_for_log(second, second_log, "relay_standby")
        still_standing_by = "relay_started" not in read(second_log)

        first_exit = await terminate(first)
        [taken_over] = await wait_for_log(second, second_log, "relay_started")
        second_exit = await terminate(second)
    finally:
        await kill_leftovers(*processes)

    assert standby["lock"] == f"{database.as_posix()}.relay.lock"
    assert still_standing_by, "the second worker did not start a relay while the first held the lock"
    assert first_exit == 0, read(first_log)
    assert "relay_standby" not in read(first_log)
    assert taken_over["relay"] == "worker"
    assert second_exit == 0, read(second_log)
    second_events = [line.get("event") for line in json_lines(read(second_log))]
    assert second_events.index("relay_standby") < second_events.index("relay_started")
    assert second_events[-1] == "relay_stopped"
