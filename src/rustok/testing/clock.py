"""A clock that stands still until told to move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rustok.core import clock


class FrozenClock:
    """Installs itself as the clock of the current context (`rustok.core.clock`) while entered."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = clock.ensure_utc(start or datetime(2026, 1, 1, tzinfo=UTC))
        self._token: object | None = None

    def __call__(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by `delta` (a timedelta, or seconds); returns the new time."""
        self.current += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = clock.ensure_utc(moment)

    def __enter__(self) -> FrozenClock:
        self._token = clock.set_clock(self)
        return self

    def __exit__(self, *_: object) -> None:
        assert self._token is not None
        clock.reset_clock(self._token)
        self._token = None
