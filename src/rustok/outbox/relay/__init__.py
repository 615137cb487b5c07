"""The relay: delivers committed events from ``sys_events`` to every consumer, at least once.

One round (`Relay.run_batch`):

1. **Claim** due pending events in ``position`` order. On PostgreSQL several relays may run: each first
   takes transaction-scoped advisory locks on the tenants of the oldest due events (skipping tenants another
   relay holds), then locks those tenants' rows ``FOR UPDATE SKIP LOCKED``, and keeps the transaction open
   for the round. A tenant's events are therefore handled by one relay at a time, in commit order, and a
   relay that dies releases everything with its connection. On SQLite one relay runs (a file lock makes sure
   of it), so it reads the batch and writes the outcome in two short transactions.
2. **Deliver** to each consumer, a tenant's events in order, all in one unit of work per consumer and tenant:
   the ids are recorded in ``sys_processed_events`` (ids already there are skipped: that is the
   idempotency) and the handler runs, in the same transaction. When the batch fails, its events are
   delivered one by one to find the failing one.
3. **Record the outcome.** A failed delivery is retried after an exponential backoff with jitter; after
   ``max_attempts`` it is dead-lettered (``failed``, with its last error). While a consumer's delivery
   waits for a retry, that consumer receives no later event of the same tenant (they would overtake it);
   other consumers and other tenants go on. A dead-lettered delivery holds nothing back.
   An event is ``dispatched`` once every consumer has applied it, ``failed`` when some consumer gave up
   on it and none is still trying, and ``pending`` otherwise.

A crash at any point loses nothing: events stay pending until their outcome is written, and a redelivery
of what a consumer had already applied has no effect.

The package: `loop` (`Relay`: the run loop, its wake-ups and locks, and the orchestration of rounds and
replay), `repository` (`RelayRepository`: all of its SQL), `round` (`Round`: the decisions of steps 2 and
3, without the database) and `config` (`RelayConfig`).
"""

from rustok.outbox.relay.config import RelayConfig
from rustok.outbox.relay.loop import CONTENDED_WAIT_SECONDS, Relay, ReplayFailed
from rustok.outbox.relay.repository import RELAY_LOCK_NAMESPACE, RelayRepository
from rustok.outbox.relay.round import (
    MAX_ERROR_LENGTH,
    Batch,
    Claimed,
    Delivery,
    EventOutcome,
    Failure,
    OpenRetry,
    Outcome,
    Round,
    backoff_seconds,
    describe,
)

__all__ = [
    "CONTENDED_WAIT_SECONDS",
    "MAX_ERROR_LENGTH",
    "RELAY_LOCK_NAMESPACE",
    "Batch",
    "Claimed",
    "Delivery",
    "EventOutcome",
    "Failure",
    "OpenRetry",
    "Outcome",
    "Relay",
    "RelayConfig",
    "RelayRepository",
    "ReplayFailed",
    "Round",
    "backoff_seconds",
    "describe",
]
