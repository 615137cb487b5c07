"""Asserting on events: what a piece of code committed to the outbox, and running the relay in a test.

`EventRecorder` reads the real outbox (``sys_events``), so it sees exactly what a committed unit of work
wrote and nothing that was rolled back::

    async with event_recorder.watch() as events:
        async with make_uow(scope) as uow:
            await create_node(uow, ...)
    assert events.types == ["node.created"]

`settle` runs a relay until nothing is pending, moving a frozen clock to each retry's due time, for tests
of retries and dead letters that should not sleep.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from rustok.core.events import CATALOG, Catalog, Envelope
from rustok.core.tenancy import TenantScope
from rustok.core.uow import SessionFactory, UnitOfWork
from rustok.outbox.models import EventStatus
from rustok.outbox.relay import Relay
from rustok.outbox.repository import EventRepository
from rustok.outbox.writer import envelope_of
from rustok.testing.clock import FrozenClock


class RecordedEvents(Sequence[Envelope[Any]]):
    """The events committed during a `EventRecorder.watch` block, in commit order (filled when it ends)."""

    def __init__(self) -> None:
        self._events: list[Envelope[Any]] = []

    def __getitem__(self, index: Any) -> Any:
        return self._events[index]

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Envelope[Any]]:
        return iter(self._events)

    def __repr__(self) -> str:
        return f"RecordedEvents({self.types})"

    @property
    def types(self) -> list[str]:
        return [e.event_type for e in self._events]

    def of_type(self, event_type: str) -> list[Envelope[Any]]:
        return [e for e in self._events if e.event_type == event_type]

    def one(self, event_type: str) -> Envelope[Any]:
        """The only event of ``event_type``; an AssertionError naming what there was otherwise."""
        found = self.of_type(event_type)
        assert len(found) == 1, f"expected one {event_type}, the outbox got {self.types}"
        return found[0]


class EventRecorder:
    def __init__(self, session_factory: SessionFactory, catalog: Catalog = CATALOG) -> None:
        self._sessions = session_factory
        self._catalog = catalog

    async def _last_position(self) -> int:
        async with UnitOfWork(self._sessions, TenantScope.all_tenants(), write=False) as uow:
            return await EventRepository(uow.session).last_position()

    async def since(self, position: int) -> list[Envelope[Any]]:
        async with UnitOfWork(self._sessions, TenantScope.all_tenants(), write=False) as uow:
            rows = await EventRepository(uow.session).after(position)
        return [envelope_of(row, self._catalog) for row in rows]

    @asynccontextmanager
    async def watch(self) -> AsyncIterator[RecordedEvents]:
        """Collect what is committed to the outbox inside the block, also when the block raises."""
        start = await self._last_position()
        recorded = RecordedEvents()
        try:
            yield recorded
        finally:
            recorded._events = await self.since(start)


async def pending_count(session_factory: SessionFactory) -> int:
    async with UnitOfWork(session_factory, TenantScope.all_tenants(), write=False) as uow:
        return await EventRepository(uow.session).count(EventStatus.PENDING)


async def settle(relay: Relay, clock: FrozenClock, *, max_steps: int = 1000) -> int:
    """Run ``relay`` until no event is pending, moving ``clock`` to each next retry; the rounds' total."""
    handled = 0
    for _ in range(max_steps):
        handled += await relay.run_until_idle()
        next_due = await relay.observe()
        if next_due is None:
            return handled
        if next_due > clock.current:
            clock.set(next_due)
    raise AssertionError(f"events were still pending after {max_steps} steps")
