"""Singleflight: concurrent calls for one key share one execution of the work.

A burst of cold requests for the same tenant must cost one database query, not one per request. The first
caller for a key starts the work as a task of its own and records it; later callers for the key await the
same task. The check and the record happen with no ``await`` between them, so in one event loop no second
caller can slip in between (no lock is needed, and no wake-up can be lost: a waiter awaits the task itself,
not a signal that could fire before it starts listening). The work runs as its own task, so a caller that
is cancelled (a client that went away) does not cancel it for the others; each caller waits through
``asyncio.shield``. The entry is removed when the work ends, whatever its outcome, so a failure is not
cached: the next call tries again.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Task[V]] = {}

    def __len__(self) -> int:
        """The keys with work in flight."""
        return len(self._flights)

    async def do(self, key: K, work: Callable[[], Awaitable[V]]) -> V:
        """The result of ``work()``, run once for all the callers of ``key`` that overlap."""
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(work())
            self._flights[key] = flight
            flight.add_done_callback(functools.partial(self._landed, key))
        return await asyncio.shield(flight)

    def _landed(self, key: K, flight: asyncio.Task[V]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # retrieved here, so an error with no waiter left is not reported as lost
