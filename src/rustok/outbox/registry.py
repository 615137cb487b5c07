"""Consumers: named handlers of event types, and the registry the relay delivers to.

A consumer is declared next to the code it serves (a module's ``consumers.py``)::

    @consumer("search.index_node", NodeCreated, NodeUpdated)  # or their names: "node.created", ...
    async def index_node(event: Envelope[Any], uow: UnitOfWork) -> None:
        match event.payload:
            case NodeCreated(node_id=node_id) | NodeUpdated(node_id=node_id): ...

The relay calls it inside a unit of work scoped to the event's tenant, in the same transaction as the
record that it has applied the event; so its effect happens once however often the event is delivered,
and events it records carry the handled event as their cause. The name is its identity in the outbox:
renaming a consumer makes it a new one, which has applied nothing yet.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rustok.core.events import Catalog, DomainEvent, Envelope, EventError
from rustok.core.uow import UnitOfWork

Handler = Callable[[Envelope[Any], UnitOfWork], Awaitable[None]]
Closer = Callable[[], Awaitable[None]]

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


@dataclass(frozen=True, slots=True)
class Consumer:
    name: str
    event_types: frozenset[str]
    handler: Handler
    # Releases what the consumer holds (a broker connection) when the relay that used it stops.
    close: Closer | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name) or len(self.name) > 100:
            raise ValueError(f"consumer name {self.name!r} is not a dotted lower-case name")
        if not self.event_types:
            raise ValueError(f"consumer {self.name} handles no event type")


def consumer(name: str, *event_types: str | type[DomainEvent]) -> Callable[[Handler], Consumer]:
    """Declare a consumer of ``event_types`` (their names, or their classes) named ``name``."""
    names = frozenset(t if isinstance(t, str) else t.event_type for t in event_types)

    def declare(handler: Handler) -> Consumer:
        return Consumer(name=name, event_types=names, handler=handler)

    return declare


class ConsumerRegistry:
    def __init__(self, consumers: Iterable[Consumer] = ()) -> None:
        self._consumers: dict[str, Consumer] = {}
        for item in consumers:
            self.add(item)

    def add(self, item: Consumer) -> Consumer:
        if item.name in self._consumers:
            raise ValueError(f"a consumer named {item.name} is already registered")
        self._consumers[item.name] = item
        return item

    def consumer(self, name: str, *event_types: str) -> Callable[[Handler], Consumer]:
        """Declare a consumer and register it here."""

        def declare(handler: Handler) -> Consumer:
            return self.add(consumer(name, *event_types)(handler))

        return declare

    def get(self, name: str) -> Consumer:
        try:
            return self._consumers[name]
        except KeyError:
            raise LookupError(f"no consumer named {name!r}") from None

    def for_type(self, event_type: str) -> list[Consumer]:
        return [c for c in self._consumers.values() if event_type in c.event_types]

    def __iter__(self) -> Iterator[Consumer]:
        return iter(self._consumers.values())

    def __len__(self) -> int:
        return len(self._consumers)

    async def close(self) -> None:
        for item in self:
            if item.close is not None:
                await item.close()

    def check(self, catalog: Catalog) -> None:
        """Every consumed event type exists in ``catalog``."""
        for item in self:
            unknown = sorted(t for t in item.event_types if t not in catalog)
            if unknown:
                raise EventError(f"consumer {item.name} subscribes to unknown event types {unknown}")
