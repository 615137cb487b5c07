"""The index's metrics, in the process's Prometheus registry (served at ``/metrics``).

``rustok_index_lag_events{consumer}``: events of the index consumer's types that are not dispatched yet and
that it has not applied (as ``/api/admin/events/stats`` counts them, over all tenants).
Refreshed after the index consumers' transactions commit (at most once a second per consumer).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, cast

from prometheus_client import Gauge

from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWorkFactory
from rustok.outbox import Consumer
from rustok.outbox import service as outbox

INDEX_LAG = Gauge(
    "rustok_index_lag_events",
    "Events the index consumer has not applied yet (not dispatched, of its event types).",
    ["consumer"],
)
REFRESH_SECONDS = 1.0
_last: dict[str, float] = {}


async def observe_lag(uows: UnitOfWorkFactory, consumers: Iterable[Consumer]) -> dict[str, int]:
    """Count each consumer's lag over all tenants and set the gauge; the counts."""
    async with uows(TenantScope.all_tenants(), write=False) as uow:
        # event_stats iterates its registry; a list of consumers serves as well.
        stats = await outbox.event_stats(uow, cast(Any, list(consumers)))
    found = {lag.name: lag.lag for lag in stats.consumers}
    for name, value in found.items():
        INDEX_LAG.labels(name).set(value)
    return found


def due(consumer_name: str) -> bool:
    """Whether the consumer's lag is due a refresh (and, if so, note that it is being refreshed now)."""
    now = time.monotonic()
    if now - _last.get(consumer_name, float("-inf")) < REFRESH_SECONDS:
        return False
    _last[consumer_name] = now
    return True
