"""Domain events: the typed payloads, their catalog with versions and upcasters, the envelope, and where
an event comes from (correlation, causation, actor).

A payload type is a small frozen pydantic model named in the past tense, with a stable dotted wire name
and a schema version, declared as class keywords::

    class NodeCreated(DomainEvent, event_type="node.created"):
        node_id: uuid.UUID
        kind: str

Declaring it registers it in `CATALOG`. A breaking change raises ``version`` and registers an upcaster
from the previous version's stored payload (a dict) to the new one; `Catalog.load` applies them in turn,
so a consumer always receives the current shape, also for rows stored long ago. Stored rows are never
rewritten.

Services never publish: they `record` events on their unit of work, which hands them to an `EventSink`
(the outbox) inside the transaction of the change (see `rustok.core.uow`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from rustok.core import clock
from rustok.core.context import current_request_id
from rustok.core.ids import new_id, parse_id

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]

_EVENT_TYPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.")
# Request ids that are not UUIDs map to a stable UUID, so one request's events share a correlation id.
_REQUEST_NAMESPACE = uuid.UUID("0f0e6a52-8c1e-4b8e-9a8f-7b6d2f1d0c11")


class EventError(ValueError):
    """An event type, version or payload the catalog cannot accept."""


class DomainEvent(BaseModel):
    """One event type's payload. Subclasses declare ``event_type=`` and, when it changes, ``version=``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int]

    def __init_subclass__(
        cls,
        *,
        event_type: str | None = None,
        version: int = 1,
        catalog: Catalog | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if event_type is None:
            return  # an abstract intermediate class
        cls.event_type = event_type
        cls.schema_version = version
        (catalog if catalog is not None else CATALOG).register(cls)


E = TypeVar("E", bound=DomainEvent)


class Catalog:
    """Event types by wire name, each at its current version, and the upcasters between versions."""

    def __init__(self) -> None:
        self._types: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, event_class: type[DomainEvent]) -> None:
        name, version = event_class.event_type, event_class.schema_version
        if not name or set(name) - _EVENT_TYPE_CHARS or "." not in name or name[0] == "." or name[-1] == ".":
            raise EventError(f"event type {name!r} is not a dotted lower-case name")
        if version < 1:
            raise EventError(f"{name}: schema versions start at 1")
        if name in self._types and self._types[name] is not event_class:
            raise EventError(f"event type {name} is already registered by {self._types[name].__qualname__}")
        self._types[name] = event_class

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function turning a stored ``from_version`` payload into a ``from_version + 1`` one."""

        def decorate(function: Upcaster) -> Upcaster:
            key = (event_type, from_version)
            if key in self._upcasters:
                raise EventError(f"{event_type}: an upcaster from v{from_version} is already registered")
            self._upcasters[key] = function
            return function

        return decorate

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._types

    def __iter__(self) -> Iterator[type[DomainEvent]]:
        return iter(sorted(self._types.values(), key=lambda cls: cls.event_type))

    def __len__(self) -> int:
        return len(self._types)

    def get(self, event_type: str) -> type[DomainEvent]:
        try:
            return self._types[event_type]
        except KeyError:
            raise EventError(f"unknown event type {event_type!r}") from None

    def check(self) -> None:
        """Every type above version 1 has an upcaster from each earlier version."""
        for event_class in self:
            for version in range(1, event_class.schema_version):
                if (event_class.event_type, version) not in self._upcasters:
                    raise EventError(f"{event_class.event_type}: no upcaster from v{version}")

    def load(self, event_type: str, version: int, payload: Mapping[str, Any]) -> DomainEvent:
        """The current-version payload of a stored event: upcast step by step, then validated."""
        event_class = self.get(event_type)
        if version > event_class.schema_version:
            raise EventError(
                f"{event_type} v{version} is newer than this build knows (v{event_class.schema_version})"
            )
        data = dict(payload)
        for step in range(version, event_class.schema_version):
            upcast = self._upcasters.get((event_type, step))
            if upcast is None:
                raise EventError(f"{event_type}: no upcaster from v{step}")
            data = upcast(data)
        return event_class.model_validate(data)

    def json_schemas(self) -> dict[str, Any]:
        """The JSON Schema of every type's current payload, keyed by event type."""
        return {
            cls.event_type: {
                "schema_version": cls.schema_version,
                "schema": cls.model_json_schema(),
            }
            for cls in self
        }


CATALOG = Catalog()
"""The product's catalog: every module's event types register here when their module is imported."""


# ------------------------------------------------------------------------------------------------ origin


@dataclass(frozen=True, slots=True)
class EventOrigin:
    """Where the events recorded now come from: the chain they belong to and who acted.

    ``correlation_id`` names the request or job that started the chain; ``causation_id`` is the event a
    consumer is handling when it records new ones. Unset fields fall back to the request (correlation)
    and to the event's own id (a chain of one)."""

    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    trace_id: str | None = None


_NO_ORIGIN = EventOrigin()
_origin: ContextVar[EventOrigin | None] = ContextVar("rustok_event_origin", default=None)


def current_origin() -> EventOrigin:
    return _origin.get() or _NO_ORIGIN


@contextmanager
def event_origin(**changes: Any) -> Iterator[EventOrigin]:
    """Set parts of the origin (``actor_id=``, ``correlation_id=``, ...) for the block."""
    origin = replace(current_origin(), **changes)
    token = _origin.set(origin)
    try:
        yield origin
    finally:
        _origin.reset(token)


def set_actor(actor_id: uuid.UUID | None) -> Token[EventOrigin | None]:
    """Name who acts for the rest of the current context: the authenticated caller of a request, set by
    the authenticator, which runs in a dependency and so cannot wrap the endpoint in `event_origin`.
    Returns a token for `reset_origin`."""
    return _origin.set(replace(current_origin(), actor_id=actor_id))


def reset_origin(token: Token[EventOrigin | None]) -> None:
    _origin.reset(token)


@contextmanager
def caused_by(envelope: Envelope[Any]) -> Iterator[EventOrigin]:
    """Events recorded in the block continue ``envelope``'s chain. They are system work: no actor."""
    origin = EventOrigin(
        correlation_id=envelope.correlation_id,
        causation_id=envelope.id,
        actor_id=None,
        trace_id=envelope.trace_id,
    )
    token = _origin.set(origin)
    try:
        yield origin
    finally:
        _origin.reset(token)


def _request_correlation_id() -> uuid.UUID | None:
    request_id = current_request_id()
    if request_id is None:
        return None
    return parse_id(request_id) or uuid.uuid5(_REQUEST_NAMESPACE, request_id)


# ---------------------------------------------------------------------------------------------- envelope


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope(Generic[E]):
    """One event as it is stored and delivered: the spec's envelope around a typed payload."""

    id: uuid.UUID
    event_type: str
    schema_version: int
    tenant_id: uuid.UUID
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None
    trace_id: str | None
    actor_id: uuid.UUID | None
    occurred_at: datetime
    payload: E
    # Set on delivery: the row's place in the outbox (commit order within a tenant).
    position: int | None = field(default=None, compare=False)

    @classmethod
    def new(cls, payload: E, tenant_id: uuid.UUID) -> Envelope[E]:
        """An envelope for a payload recorded now, in the current origin."""
        origin = current_origin()
        event_id = new_id()
        return cls(
            id=event_id,
            event_type=payload.event_type,
            schema_version=payload.schema_version,
            tenant_id=tenant_id,
            correlation_id=origin.correlation_id or _request_correlation_id() or event_id,
            causation_id=origin.causation_id,
            trace_id=origin.trace_id,
            actor_id=origin.actor_id,
            occurred_at=clock.now(),
            payload=payload,
        )

    def as_json(self) -> dict[str, Any]:
        """The envelope in the spec's JSON form (what the CLI prints and a broker receives)."""
        return {
            "id": str(self.id),
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "tenant_id": str(self.tenant_id),
            "correlation_id": str(self.correlation_id),
            "causation_id": None if self.causation_id is None else str(self.causation_id),
            "trace_id": self.trace_id,
            "actor_id": None if self.actor_id is None else str(self.actor_id),
            "occurred_at": self.occurred_at.isoformat(),
            "payload": self.payload.model_dump(mode="json"),
        }


class EventSink(Protocol):
    """Where a unit of work hands its recorded events: the outbox, inside the same transaction."""

    async def write(self, session: AsyncSession, envelopes: Sequence[Envelope[Any]]) -> None:
        """Insert the events in the session's transaction. Called just before the commit."""

    def committed(self, envelopes: Sequence[Envelope[Any]]) -> None:
        """The transaction that wrote them committed (wake a relay, count them)."""
