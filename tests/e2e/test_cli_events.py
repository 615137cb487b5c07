"""``rustok events``, driven as an operator drives it: the installed console script, in a subprocess, on a
database of the test's own (``RUSTOK_DATABASE_URL``), whose outbox the test process fills through real units
of work and a real relay, so what the command reads has really been committed.

The history most tests start from (see `history`), oldest first::

    a_created    node.created   tenant A   dispatched
    a_dead       node.created   tenant A   failed      (its consumer raised; one attempt allowed)
    b_dead       node.created   tenant B   failed
    b_published  node.published tenant B   dispatched  (nobody consumes it)
    a_updated    node.updated   tenant A   pending     (committed after the relay ran)
    b_created    node.created   tenant B   pending
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from rustok import modules
from rustok.bootstrap import Runtime, open_runtime
from rustok.content.events import NodeCreated, NodePublished, NodeUpdated
from rustok.core.events import CATALOG, DomainEvent, Envelope
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork
from rustok.outbox.models import DeliveryStatus, EventDelivery, EventStatus, SysEvent
from rustok.outbox.registry import ConsumerRegistry, consumer
from rustok.outbox.relay import Relay, RelayConfig
from rustok.tenants.models import Tenant
from tests.e2e.test_cli import COMMAND_TIMEOUT, RUSTOK, clean_env

TENANT_A = uuid.UUID("01900000-0000-7000-8000-00000000c11a")
TENANT_B = uuid.UUID("01900000-0000-7000-8000-00000000c11b")
SLUG_A, SLUG_B = "tenant-a", "tenant-b"
PICKY = "test.picky"  # the test process's consumer of node.created; it fails for the events it is told to


@dataclass(frozen=True, slots=True)
class CliResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.returncode == 0, f"rustok {' '.join(self.args)} exited {self.returncode}: {self.stderr}"
        return json.loads(self.stdout)


async def run_rustok(*args: str, env: dict[str, str], cwd: Path, stdin: str | None = None) -> CliResult:
    """Run the console script to completion (bounded by a timeout); its exit code and output. ``stdin``
    is what it reads (by default nothing: stdin is not a terminal)."""
    process = await asyncio.create_subprocess_exec(
        str(RUSTOK),
        *args,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        communicated = process.communicate(None if stdin is None else stdin.encode())
        stdout, stderr = await asyncio.wait_for(communicated, COMMAND_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return CliResult(args, process.returncode, stdout.decode(), stderr.decode())


@dataclass(frozen=True, slots=True)
class RowState:
    """What an operator command may change on an event."""

    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    dispatched_at: datetime | None


@dataclass(slots=True)
class Outbox:
    """The test's own database, as the test process (writer, relay, reader: a runtime of its own) and the
    CLI both see it."""

    runtime: Runtime
    env: dict[str, str]
    cwd: Path
    failing: set[uuid.UUID] = field(default_factory=set)

    async def rustok(self, *args: str) -> CliResult:
        return await run_rustok(*args, env=self.env, cwd=self.cwd)

    async def commit(self, tenant: uuid.UUID, event: DomainEvent) -> uuid.UUID:
        """Commit ``event`` for ``tenant`` in a unit of work of its own; the event's id."""
        async with self.runtime.uow(TenantScope.of(tenant)) as uow:
            envelope = uow.record(event)
        return envelope.id

    async def deliver(self) -> int:
        """Run a relay (one attempt per delivery) until nothing is due, with the consumer ``test.picky``
        of node.created, which raises for the events in ``failing``."""

        @consumer(PICKY, "node.created")
        async def picky(event: Envelope[Any], uow: UnitOfWork) -> None:
            if event.id in self.failing:
                raise RuntimeError(f"cannot handle {event.id}")

        relay = Relay(
            self.runtime.uow,
            ConsumerRegistry([picky]),
            writer=self.runtime.outbox,
            config=RelayConfig(max_attempts=1),
        )
        return await relay.run_until_idle()

    async def events(self) -> dict[uuid.UUID, RowState]:
        async with self.runtime.platform() as uow:
            rows = (await uow.session.scalars(select(SysEvent))).all()
        return {
            row.id: RowState(row.status, row.attempts, row.next_attempt_at, row.last_error, row.dispatched_at)
            for row in rows
        }

    async def statuses(self) -> dict[uuid.UUID, str]:
        return {event_id: state.status for event_id, state in (await self.events()).items()}

    async def deliveries(self, event_id: uuid.UUID) -> list[tuple[str, str, int]]:
        """(consumer, status, attempts) of the event's delivery rows."""
        async with self.runtime.platform() as uow:
            rows = (
                await uow.session.scalars(select(EventDelivery).where(EventDelivery.event_id == event_id))
            ).all()
        return [(row.consumer, row.status, row.attempts) for row in rows]


@dataclass(frozen=True, slots=True)
class History:
    a_created: uuid.UUID
    a_dead: uuid.UUID
    b_dead: uuid.UUID
    b_published: uuid.UUID
    a_updated: uuid.UUID
    b_created: uuid.UUID

    @property
    def oldest_first(self) -> list[uuid.UUID]:
        return [self.a_created, self.a_dead, self.b_dead, self.b_published, self.a_updated, self.b_created]

    @property
    def newest_first(self) -> list[uuid.UUID]:
        return self.oldest_first[::-1]

    @property
    def failed(self) -> set[uuid.UUID]:
        return {self.a_dead, self.b_dead}

    @property
    def pending(self) -> set[uuid.UUID]:
        return {self.a_updated, self.b_created}

    @property
    def dispatched(self) -> set[uuid.UUID]:
        return {self.a_created, self.b_published}


def ids_of(page: dict[str, Any]) -> list[uuid.UUID]:
    return [uuid.UUID(item["id"]) for item in page["items"]]


def newest_first(history: History, wanted: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    chosen = set(wanted)
    return [event_id for event_id in history.newest_first if event_id in chosen]


async def walk(outbox: Outbox, *args: str) -> list[dict[str, Any]]:
    """Every page of ``events list *args``, following ``next_cursor`` until it is null."""
    pages: list[dict[str, Any]] = []
    cursor: list[str] = []
    while True:
        page = (await outbox.rustok("events", "list", *args, *cursor)).json()
        pages.append(page)
        if page["next_cursor"] is None:
            return pages
        assert len(pages) < 10, "paging does not end"
        cursor = ["--cursor", page["next_cursor"]]


@pytest_asyncio.fixture(loop_scope="session")
async def outbox(isolated_database_url: str, tmp_path: Path) -> AsyncIterator[Outbox]:
    settings = Settings(_env_file=None, database_url=isolated_database_url)
    env = clean_env(tmp_path / "data", RUSTOK_DATABASE_URL=isolated_database_url)
    async with open_runtime(settings, consumers=ConsumerRegistry(), redis=False) as runtime:
        # The tenants the events are of (`--tenant` names one by slug or id), made without an event.
        async with runtime.platform(write=True) as uow:
            for tenant_id, slug in ((TENANT_A, SLUG_A), (TENANT_B, SLUG_B)):
                uow.session.add(Tenant(id=tenant_id, name=slug, slug=slug, default_locale="en"))
        yield Outbox(runtime, env, tmp_path)


@pytest_asyncio.fixture(loop_scope="session")
async def history(outbox: Outbox) -> History:
    """The history of the module docstring, committed."""
    a_created = await outbox.commit(TENANT_A, NodeCreated(node_id=uuid.uuid4(), kind="post"))
    a_dead = await outbox.commit(TENANT_A, NodeCreated(node_id=uuid.uuid4(), kind="post"))
    b_dead = await outbox.commit(TENANT_B, NodeCreated(node_id=uuid.uuid4(), kind="page"))
    b_published = await outbox.commit(TENANT_B, NodePublished(node_id=uuid.uuid4(), kind="page"))
    outbox.failing = {a_dead, b_dead}
    assert await outbox.deliver() == 4
    a_updated = await outbox.commit(TENANT_A, NodeUpdated(node_id=uuid.uuid4(), kind="post"))
    b_created = await outbox.commit(TENANT_B, NodeCreated(node_id=uuid.uuid4(), kind="page"))
    made = History(a_created, a_dead, b_dead, b_published, a_updated, b_created)
    statuses = await outbox.statuses()
    assert {event_id for event_id, status in statuses.items() if status == EventStatus.FAILED} == made.failed
    assert {i for i, status in statuses.items() if status == EventStatus.DISPATCHED} == made.dispatched
    assert {i for i, status in statuses.items() if status == EventStatus.PENDING} == made.pending
    return made


# ------------------------------------------------------------------------------------------------------ help


async def test_given_the_console_script_when_asking_for_help_then_worker_and_events_are_listed(
    tmp_path: Path,
) -> None:
    """``rustok --help`` lists ``worker`` and the ``events`` group beside ``serve`` and ``migrate``;
    ``rustok events --help`` lists the group's five commands."""
    top, events = await asyncio.gather(
        run_rustok("--help", env=clean_env(tmp_path), cwd=tmp_path),
        run_rustok("events", "--help", env=clean_env(tmp_path), cwd=tmp_path),
    )

    assert top.returncode == 0, top.stderr
    assert events.returncode == 0, events.stderr
    for command in ("serve", "migrate", "worker", "events"):
        assert re.search(rf"^\W*{command}\s", top.stdout, re.MULTILINE), f"{command}:\n{top.stdout}"
    for command in ("list", "stats", "retry", "replay", "schema"):
        assert re.search(rf"^\W*{command}\s", events.stdout, re.MULTILINE), f"{command}:\n{events.stdout}"


# ------------------------------------------------------------------------------------------------------ list


async def test_given_a_history_when_listing_then_every_event_is_printed_newest_first(
    outbox: Outbox, history: History
) -> None:
    """Given six committed events, when ``events list`` runs, then it prints them all as JSON, newest (the
    highest position) first, each with its type, tenant, status and payload, and no next page."""
    page = (await outbox.rustok("events", "list")).json()

    assert set(page) == {"items", "next_cursor"}
    assert page["next_cursor"] is None
    assert ids_of(page) == history.newest_first
    positions = [item["position"] for item in page["items"]]
    assert positions == sorted(positions, reverse=True)
    assert len(set(positions)) == len(positions)
    items = {uuid.UUID(item["id"]): item for item in page["items"]}
    dead = items[history.a_dead]
    assert dead["event_type"] == "node.created"
    assert dead["tenant_id"] == str(TENANT_A)
    assert dead["status"] == "failed"
    assert dead["attempts"] == 1
    assert PICKY in dead["last_error"]
    assert dead["schema_version"] == 1
    assert set(dead["payload"]) >= {"node_id", "kind"}
    assert dead["payload"]["kind"] == "post"
    assert items[history.a_created]["status"] == "dispatched"
    assert items[history.a_created]["dispatched_at"] is not None
    assert items[history.b_published]["event_type"] == "node.published"
    assert items[history.b_created]["status"] == "pending"
    assert items[history.b_created]["dispatched_at"] is None


async def test_given_a_history_when_listing_with_filters_then_only_the_matching_events_are_printed(
    outbox: Outbox, history: History
) -> None:
    """``--status``, ``--type`` and ``--tenant`` (a slug or an id) each narrow the list, and combine; the
    order stays newest first."""
    # Read-only, so the commands run side by side.
    results = await asyncio.gather(
        outbox.rustok("events", "list", "--status", "failed"),
        outbox.rustok("events", "list", "--status", "pending"),
        outbox.rustok("events", "list", "--type", "node.created"),
        outbox.rustok("events", "list", "--tenant", str(TENANT_A)),
        outbox.rustok("events", "list", "--tenant", SLUG_B, "--status", "failed"),
        outbox.rustok("events", "list", "--type", "order.placed"),
        outbox.rustok("events", "list", "--tenant", SLUG_A),
    )
    failed, pending, created, tenant_a, b_failed, nothing, a_by_slug = (result.json() for result in results)

    assert ids_of(failed) == newest_first(history, history.failed)
    assert {item["status"] for item in failed["items"]} == {"failed"}
    assert ids_of(pending) == newest_first(history, history.pending)
    assert ids_of(created) == [history.b_created, history.b_dead, history.a_dead, history.a_created]
    assert {item["event_type"] for item in created["items"]} == {"node.created"}
    assert ids_of(tenant_a) == [history.a_updated, history.a_dead, history.a_created]
    assert {item["tenant_id"] for item in tenant_a["items"]} == {str(TENANT_A)}
    assert a_by_slug == tenant_a
    assert ids_of(b_failed) == [history.b_dead]
    assert nothing == {"items": [], "next_cursor": None}


async def test_given_a_history_when_paging_with_limit_and_cursor_then_pages_cover_it_without_overlap(
    outbox: Outbox, history: History
) -> None:
    """Given six events and ``--limit 4``, then the first page has the four newest and a cursor, and the
    page after that cursor the two oldest and no cursor (the last page has none); with a filter, paging
    follows the filter."""
    all_pages, failed_pages = await asyncio.gather(
        walk(outbox, "--limit", "4"), walk(outbox, "--status", "failed", "--limit", "1")
    )

    assert [len(page["items"]) for page in all_pages] == [4, 2]
    assert all_pages[0]["next_cursor"] is not None
    walked = [event_id for page in all_pages for event_id in ids_of(page)]
    assert walked == history.newest_first
    assert len(set(walked)) == len(walked)
    assert [ids_of(page) for page in failed_pages] == [[history.b_dead], [history.a_dead]]


async def test_given_a_cursor_the_cli_did_not_issue_when_listing_then_it_fails_with_a_message(
    outbox: Outbox,
) -> None:
    result = await outbox.rustok("events", "list", "--cursor", "not-a-cursor")

    assert result.returncode == 1
    assert result.stderr.startswith("rustok: ")
    assert "cursor" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--status", "lost"), "--status"),
        (("--limit", "0"), "--limit"),
    ],
    ids=["unknown-status", "limit-zero"],
)
async def test_given_an_invalid_option_when_listing_then_it_is_refused_with_exit_code_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    """Options are checked before any database is opened: no database is configured here."""
    result = await run_rustok("events", "list", *args, env=clean_env(tmp_path / "data"), cwd=tmp_path)

    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "rustok.db").exists()


# ----------------------------------------------------------------------------------------------------- stats


async def test_given_an_empty_outbox_when_asking_for_stats_then_everything_is_zero(outbox: Outbox) -> None:
    stats = (await outbox.rustok("events", "stats")).json()

    assert stats == {
        "pending": 0,
        "failed": 0,
        "oldest_pending_age_seconds": 0.0,
        "consumers": [{"name": c.name, "lag": 0} for c in sorted(modules.consumers(), key=lambda c: c.name)],
    }


async def test_given_a_history_when_asking_for_stats_then_pending_and_failed_are_counted(
    outbox: Outbox, history: History
) -> None:
    """Given two pending and two failed events, then ``events stats`` counts them, gives the oldest pending
    event's age, and lists the consumers of the CLI's registry (every installed module's)."""
    stats = (await outbox.rustok("events", "stats")).json()

    assert set(stats) == {"pending", "failed", "oldest_pending_age_seconds", "consumers"}
    assert stats["pending"] == len(history.pending) == 2
    assert stats["failed"] == len(history.failed) == 2
    assert isinstance(stats["oldest_pending_age_seconds"], float)
    assert stats["oldest_pending_age_seconds"] > 0  # committed before the command started
    assert [c["name"] for c in stats["consumers"]] == sorted(c.name for c in modules.consumers())
    assert all(isinstance(c["lag"], int) and c["lag"] >= 0 for c in stats["consumers"])


# ----------------------------------------------------------------------------------------------------- retry


async def test_given_a_failed_event_when_retrying_it_then_it_is_pending_again_and_redelivered(
    outbox: Outbox, history: History
) -> None:
    """Given a dead-lettered event, when ``events retry <id>`` runs, then it prints the event, now pending;
    its dead delivery has a fresh set of attempts; the other events are untouched; and the next relay round
    delivers it (the consumer has been fixed) and dispatches it."""
    before = await outbox.events()

    result = await outbox.rustok("events", "retry", str(history.a_dead))

    printed = result.json()
    assert printed["retried"] == 1
    [event] = printed["events"]
    assert event["id"] == str(history.a_dead)
    assert event["status"] == "pending"
    assert event["event_type"] == "node.created"
    after = await outbox.events()
    assert after[history.a_dead].status == EventStatus.PENDING
    assert {i: s for i, s in after.items() if i != history.a_dead} == {
        i: s for i, s in before.items() if i != history.a_dead
    }
    assert await outbox.deliveries(history.a_dead) == [(PICKY, DeliveryStatus.PENDING, 0)]

    outbox.failing = set()
    await outbox.deliver()

    statuses = await outbox.statuses()
    assert statuses[history.a_dead] == EventStatus.DISPATCHED
    assert statuses[history.b_dead] == EventStatus.FAILED
    assert await outbox.deliveries(history.a_dead) == [(PICKY, DeliveryStatus.DONE, 0)]


async def test_given_two_failed_events_when_retrying_both_by_id_then_both_are_pending(
    outbox: Outbox, history: History
) -> None:
    printed = (await outbox.rustok("events", "retry", str(history.a_dead), str(history.b_dead))).json()

    assert printed["retried"] == 2
    assert [e["id"] for e in printed["events"]] == [str(history.a_dead), str(history.b_dead)]
    statuses = await outbox.statuses()
    assert statuses[history.a_dead] == statuses[history.b_dead] == EventStatus.PENDING


async def test_given_a_dispatched_event_when_retrying_it_then_it_is_refused_and_nothing_changes(
    outbox: Outbox, history: History
) -> None:
    """Retrying a dispatched event is a conflict (409-style): exit 1, a message pointing at replay, no
    output on stdout, and no row changed."""
    before = await outbox.events()

    result = await outbox.rustok("events", "retry", str(history.a_created))

    assert result.returncode == 1
    assert f"rustok: Event {history.a_created} was dispatched" in result.stderr
    assert "only failed or pending events can be retried" in result.stderr
    assert "replay" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert await outbox.events() == before


async def test_given_a_failed_and_a_dispatched_event_when_retrying_both_then_neither_changes(
    outbox: Outbox, history: History
) -> None:
    """The ids are retried in one transaction: the refusal of the dispatched one undoes the re-queueing of
    the failed one named before it."""
    before = await outbox.events()

    result = await outbox.rustok("events", "retry", str(history.a_dead), str(history.b_published))

    assert result.returncode == 1
    assert f"Event {history.b_published} was dispatched" in result.stderr
    assert await outbox.events() == before


async def test_given_an_unknown_id_when_retrying_it_then_it_fails_with_a_message(
    outbox: Outbox, history: History
) -> None:
    unknown = uuid.uuid4()
    before = await outbox.events()

    result = await outbox.rustok("events", "retry", str(unknown))

    assert result.returncode == 1
    assert f"No event with id {unknown}" in result.stderr
    assert result.stdout == ""
    assert await outbox.events() == before


async def test_given_failed_events_when_retrying_all_failed_then_every_failed_one_is_pending(
    outbox: Outbox, history: History
) -> None:
    """``--all-failed`` re-queues every failed event (and only those), and says how many; a second run finds
    none left."""
    before = await outbox.events()

    first = (await outbox.rustok("events", "retry", "--all-failed")).json()
    second = (await outbox.rustok("events", "retry", "--all-failed")).json()

    assert first == {"retried": 2}
    assert second == {"retried": 0}
    after = await outbox.events()
    assert {i for i, s in after.items() if s.status == EventStatus.FAILED} == set()
    assert {
        i for i, s in after.items() if s.status == EventStatus.PENDING
    } == history.pending | history.failed
    for event_id in history.dispatched | history.pending:
        assert after[event_id] == before[event_id]
    for event_id in history.failed:
        assert await outbox.deliveries(event_id) == [(PICKY, DeliveryStatus.PENDING, 0)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name event ids or --all-failed"),
        ((str(uuid.UUID(int=1)), "--all-failed"), "name event ids or --all-failed"),
        (("not-an-id",), "EVENT_ID must be a UUID, not 'not-an-id'"),
    ],
    ids=["neither", "both", "not-a-uuid"],
)
async def test_given_no_valid_choice_of_events_when_retrying_then_it_is_refused_with_exit_code_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = await run_rustok("events", "retry", *args, env=clean_env(tmp_path / "data"), cwd=tmp_path)

    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "data" / "rustok.db").exists()


# ---------------------------------------------------------------------------------------------------- replay


async def test_given_an_unknown_consumer_when_replaying_then_it_is_refused_listing_the_consumers(
    outbox: Outbox, history: History
) -> None:
    """``events replay`` delivers to one consumer of the CLI's registry; a name not in it is refused with
    exit code 2 and the list of the consumers there are, and nothing is delivered."""
    before = await outbox.events()
    names = ", ".join(sorted(c.name for c in modules.consumers())) or "none"

    result = await outbox.rustok("events", "replay", "--consumer", "test.nobody")

    assert result.returncode == 2
    assert f"no consumer named 'test.nobody' (consumers: {names})" in result.stderr
    assert result.stdout == ""
    assert await outbox.events() == before


# ---------------------------------------------------------------------------------------------------- schema


async def test_given_the_catalog_when_printing_the_schema_then_every_event_type_has_a_json_schema(
    tmp_path: Path,
) -> None:
    """``events schema`` needs no database. It prints every event type of the installed modules (the
    spec's 40 and the content module's three extensions), at schema version 1, with the JSON Schema of
    its payload."""
    result = await run_rustok("events", "schema", env=clean_env(tmp_path / "data"), cwd=tmp_path)

    printed = result.json()
    assert set(printed) == {"event_types"}
    types: dict[str, Any] = printed["event_types"]
    modules.load_events()
    assert len(types) == 43
    assert sorted(types) == sorted(cls.event_type for cls in CATALOG)
    for name, entry in types.items():
        assert entry["schema_version"] == 1, name
        schema = entry["schema"]
        assert schema["type"] == "object", name
        assert isinstance(schema["properties"], dict), name
        assert schema["properties"], name
        assert isinstance(schema["required"], list), name
        assert set(schema["required"]) <= set(schema["properties"]), name
    node_created = types["node.created"]["schema"]
    assert node_created == NodeCreated.model_json_schema()
    assert set(node_created["required"]) == {"node_id", "kind"}
    assert node_created["properties"]["node_id"]["format"] == "uuid"
    assert not (tmp_path / "data" / "rustok.db").exists()
