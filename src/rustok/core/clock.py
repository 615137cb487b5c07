"""Time is always an aware UTC datetime. One swappable clock, so tests can freeze and move it."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime


def system_now() -> datetime:
    return datetime.now(UTC)


_now: ContextVar[Callable[[], datetime]] = ContextVar("rustok_clock", default=system_now)


def now() -> datetime:
    """The current time, aware, in UTC."""
    return _now.get()()


def set_clock(source: Callable[[], datetime]) -> object:
    """Replace the clock for this context; returns a token for `reset_clock`."""
    return _now.set(source)


def reset_clock(token: object) -> None:
    _now.reset(token)  # type: ignore[arg-type]


def ensure_utc(value: datetime) -> datetime:
    """`value` in UTC; a naive datetime is refused, since its zone is unknown."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("naive datetime: a time zone is required")
    return value.astimezone(UTC)
