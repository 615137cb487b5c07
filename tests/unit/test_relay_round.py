"""A relay round's decisions, without a database: what is due to which consumer, what a success or a
failure does to a delivery (attempts, backoff with jitter, the dead letter), the per-tenant hold-back
behind a waiting retry, and the status each event ends the round with."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from rustok.content.events import NodeCreated
from rustok.core.events import Envelope
from rustok.outbox.models import DeliveryStatus, EventStatus
from rustok.outbox.relay import (
    Claimed,
    Delivery,
    EventOutcome,
    OpenRetry,
    RelayConfig,
    Round,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T1 = uuid.UUID("01900000-0000-7000-8000-0000000000a1")
T2 = uuid.UUID("01900000-0000-7000-8000-0000000000a2")
TYPES = {"node.created"}
CONFIG = RelayConfig(max_attempts=3, retry_base_seconds=10.0, retry_max_seconds=60.0)


def claimed(position: int, tenant: uuid.UUID = T1, *, attempts: int = 0) -> Claimed:
    envelope = Envelope.new(NodeCreated(node_id=uuid.uuid4(), kind="post"), tenant)
    return Claimed(position, envelope.id, tenant, envelope.event_type, attempts, envelope)


def delivery(
    event: Claimed,
    consumer: str,
    *,
    status: DeliveryStatus = DeliveryStatus.PENDING,
    attempts: int = 1,
    next_attempt_at: datetime = NOW,
    last_error: str | None = "RuntimeError: earlier",
) -> Delivery:
    return Delivery(
        event.id, consumer, event.tenant_id, event.position, status, attempts, next_attempt_at, last_error
    )


def waiting(item: Delivery) -> OpenRetry:
    return OpenRetry(item.tenant_id, item.consumer, item.position, item.next_attempt_at)


def make_round(
    events: Sequence[Claimed],
    deliveries: Sequence[Delivery] = (),
    *,
    rand: Callable[[], float] = lambda: 0.5,
) -> Round:
    open_retries = [waiting(d) for d in deliveries if d.status == DeliveryStatus.PENDING]
    return Round(events, deliveries, open_retries, now=NOW, config=CONFIG, rand=rand)


def due_positions(round_: Round, consumer: str) -> dict[uuid.UUID, list[int]]:
    return {b.tenant_id: [e.position for e in b.events] for b in round_.due(consumer, TYPES)}


# ------------------------------------------------------------------------------------------------ success


def test_events_never_tried_are_due_per_tenant_in_order_and_dispatched_when_applied() -> None:
    events = [claimed(1, T1), claimed(2, T2), claimed(3, T1)]
    round_ = make_round(events)

    batches = round_.due("index", TYPES)
    for batch in batches:
        for event in batch.events:
            round_.succeeded("index", event)

    assert [(b.consumer, b.tenant_id, [e.position for e in b.events]) for b in batches] == [
        ("index", T1, [1, 3]),
        ("index", T2, [2]),
    ]
    outcome = round_.outcome()
    assert outcome.dispatched == (1, 2, 3)
    assert outcome.unsettled == ()
    assert outcome.deliveries == (), "a delivery that never failed leaves no row"


def test_events_of_other_types_or_unreadable_are_not_due() -> None:
    unreadable = Claimed(2, uuid.uuid4(), T1, "node.created", 0, None, "UnknownEventType: node.created v9")
    round_ = make_round([claimed(1), unreadable])

    assert round_.due("orders", {"order.placed"}) == []
    assert due_positions(round_, "index") == {T1: [1]}


def test_a_due_retry_that_succeeds_marks_its_delivery_done() -> None:
    [event] = events = [claimed(1, attempts=1)]
    earlier = delivery(event, "index", next_attempt_at=NOW - timedelta(seconds=1))
    round_ = make_round(events, [earlier])

    assert due_positions(round_, "index") == {T1: [1]}
    round_.succeeded("index", event)

    outcome = round_.outcome()
    assert outcome.dispatched == (1,)
    [done] = outcome.deliveries
    assert (done.status, done.attempts, done.last_error) == (DeliveryStatus.DONE, 1, "RuntimeError: earlier")


# ------------------------------------------------------------------------------------------------ failure


def test_a_first_failure_schedules_a_retry_after_a_jittered_backoff() -> None:
    [event] = events = [claimed(1)]
    round_ = make_round(events, rand=lambda: 0.5)
    round_.due("index", TYPES)

    failure = round_.failed("index", event, RuntimeError("boom"))

    # Attempt 1 waits between half and all of retry_base_seconds (10 s): 5 s + 0.5 * 5 s.
    assert failure.retry_in == 7.5
    assert not failure.dead
    assert failure.delivery == Delivery(
        event.id,
        "index",
        T1,
        1,
        DeliveryStatus.PENDING,
        1,
        NOW + timedelta(seconds=7.5),
        "RuntimeError: boom",
    )
    outcome = round_.outcome()
    assert outcome.dispatched == ()
    assert outcome.unsettled == (
        EventOutcome(1, EventStatus.PENDING, 1, NOW + timedelta(seconds=7.5), "index: RuntimeError: boom"),
    )
    assert outcome.deliveries == (failure.delivery,)


def test_the_backoff_doubles_with_each_attempt_up_to_the_cap() -> None:
    second, sixth = events = [claimed(1, T1, attempts=1), claimed(2, T2, attempts=5)]
    earlier = [delivery(second, "index", attempts=1), delivery(sixth, "index", attempts=5)]
    config = RelayConfig(max_attempts=10, retry_base_seconds=10.0, retry_max_seconds=60.0)
    round_ = Round(events, earlier, map(waiting, earlier), now=NOW, config=config, rand=lambda: 1.0)
    round_.due("index", TYPES)

    assert round_.failed("index", second, RuntimeError("boom")).retry_in == 20.0, "attempt 2: 10 * 2 s"
    assert round_.failed("index", sixth, RuntimeError("boom")).retry_in == 60.0, "10 * 2**5 s, capped"


def test_the_last_attempt_dead_letters_the_delivery_and_fails_the_event() -> None:
    [event] = events = [claimed(1, attempts=2)]
    earlier = delivery(event, "index", attempts=2, next_attempt_at=NOW - timedelta(seconds=1))
    round_ = make_round(events, [earlier])
    assert due_positions(round_, "index") == {T1: [1]}

    failure = round_.failed("index", event, ValueError("still broken"))

    assert failure.dead
    assert failure.retry_in is None
    assert (failure.delivery.status, failure.delivery.attempts, failure.delivery.last_error) == (
        DeliveryStatus.FAILED,
        CONFIG.max_attempts,
        "ValueError: still broken",
    )
    assert round_.outcome().unsettled == (
        EventOutcome(1, EventStatus.FAILED, CONFIG.max_attempts, NOW, "index: ValueError: still broken"),
    )


def test_an_unreadable_event_fails_with_its_load_error() -> None:
    unreadable = Claimed(4, uuid.uuid4(), T1, "node.created", 1, None, "UnknownEventType: node.created v9")
    round_ = make_round([unreadable])

    assert round_.outcome().unsettled == (
        EventOutcome(4, EventStatus.FAILED, 2, NOW, "UnknownEventType: node.created v9"),
    )


# ---------------------------------------------------------------------------------------------- ordering


def test_a_waiting_retry_holds_back_that_consumers_later_events_of_that_tenant_only() -> None:
    """Given index's delivery of T1's first event waiting for its retry, index gets none of T1's later events
    but all of T2's; another consumer gets everything."""
    retry_at = NOW + timedelta(seconds=30)
    first, _, other = events = [claimed(1, T1, attempts=1), claimed(2, T1), claimed(3, T2)]
    round_ = make_round(events, [delivery(first, "index", next_attempt_at=retry_at)])

    assert due_positions(round_, "index") == {T2: [3]}
    assert due_positions(round_, "audit") == {T1: [1, 2], T2: [3]}
    for event in events:
        round_.succeeded("audit", event)
    round_.succeeded("index", other)

    outcome = round_.outcome()
    assert outcome.dispatched == (3,)
    assert outcome.unsettled == (
        EventOutcome(1, EventStatus.PENDING, 1, retry_at, None),
        EventOutcome(2, EventStatus.PENDING, 0, retry_at, None),
    )


def test_a_retry_of_an_earlier_unclaimed_event_holds_back_the_claimed_ones() -> None:
    retry_at = NOW + timedelta(seconds=30)
    events = [claimed(5, T1), claimed(6, T1)]
    blocker = OpenRetry(T1, "index", 2, retry_at)
    round_ = Round(events, [], [blocker], now=NOW, config=CONFIG)

    assert round_.due("index", TYPES) == []
    assert [(e.position, e.status, e.next_attempt_at) for e in round_.outcome().unsettled] == [
        (5, EventStatus.PENDING, retry_at),
        (6, EventStatus.PENDING, retry_at),
    ]


def test_a_retry_that_is_due_goes_first_and_the_later_events_follow_it() -> None:
    first, _, _ = events = [claimed(1, attempts=1), claimed(2), claimed(3)]
    round_ = make_round(events, [delivery(first, "index", next_attempt_at=NOW - timedelta(seconds=1))])

    assert due_positions(round_, "index") == {T1: [1, 2, 3]}


def test_a_failure_holds_the_rest_of_its_batch_until_its_retry() -> None:
    first, second, third = events = [claimed(1), claimed(2), claimed(3)]
    round_ = make_round(events, rand=lambda: 0.0)
    round_.due("index", TYPES)

    round_.succeeded("index", first)
    failure = round_.failed("index", second, RuntimeError("boom"))
    round_.hold(failure, [third])

    retry_at = NOW + timedelta(seconds=5)
    outcome = round_.outcome()
    assert outcome.dispatched == (1,)
    assert outcome.unsettled == (
        EventOutcome(2, EventStatus.PENDING, 1, retry_at, "index: RuntimeError: boom"),
        EventOutcome(3, EventStatus.PENDING, 0, retry_at, None),
    )

    # The next round, before the retry is due: index gets nothing of T1.
    [after] = outcome.deliveries
    next_round = Round(
        [replace(second, attempts=1), third], [after], [waiting(after)], now=NOW, config=CONFIG
    )
    assert next_round.due("index", TYPES) == []


def test_a_dead_letter_holds_nothing_back() -> None:
    dead, later = events = [claimed(1, attempts=3), claimed(2)]
    earlier = delivery(dead, "index", status=DeliveryStatus.FAILED, attempts=3, last_error="KeyError: 'x'")
    round_ = make_round(events, [earlier])

    assert due_positions(round_, "index") == {T1: [2]}, "the dead letter is not retried, the next one goes"
    round_.succeeded("index", later)

    outcome = round_.outcome()
    assert outcome.dispatched == (2,)
    assert outcome.unsettled == (EventOutcome(1, EventStatus.FAILED, 3, NOW, "index: KeyError: 'x'"),)


def test_a_delivery_dead_lettered_in_this_round_holds_nothing_back() -> None:
    first, second = events = [claimed(1, attempts=2), claimed(2)]
    earlier = delivery(first, "index", attempts=2, next_attempt_at=NOW)
    round_ = make_round(events, [earlier])
    round_.due("index", TYPES)

    failure = round_.failed("index", first, RuntimeError("boom"))
    round_.hold(failure, [second])
    round_.succeeded("index", second)

    assert failure.dead
    assert round_.outcome().dispatched == (2,)


# ------------------------------------------------------------------------------------------ event status


def test_an_events_status_follows_all_of_its_consumers() -> None:
    """Dispatched when every consumer applied it; failed when one gave up and none is still trying;
    pending while any is still trying, due at the earliest retry."""
    all_ok, one_dead, retrying = events = [claimed(1, T1), claimed(2, T2, attempts=2), claimed(3, attempts=2)]
    earlier = [delivery(one_dead, "mail", attempts=2), delivery(retrying, "index", attempts=2)]
    jitter = iter([0.0, 1.0])
    round_ = make_round(events, earlier, rand=lambda: next(jitter))
    consumers = ("index", "audit", "mail")
    assert [due_positions(round_, c) for c in consumers] == [{T1: [1, 3], T2: [2]}] * 3

    for consumer in consumers:
        round_.succeeded(consumer, all_ok)
    round_.succeeded("index", one_dead)
    round_.succeeded("audit", one_dead)
    round_.failed("mail", one_dead, RuntimeError("mail down"))  # attempt 3 of 3: dead
    round_.failed("index", retrying, RuntimeError("index down"))  # attempt 3 of 3: dead
    audit = round_.failed("audit", retrying, RuntimeError("audit down"))  # attempt 1: 5 s + 0.0 * 5 s
    mail = round_.failed("mail", retrying, RuntimeError("mail down"))  # attempt 1: 5 s + 1.0 * 5 s

    assert (audit.retry_in, mail.retry_in) == (5.0, 10.0)
    outcome = round_.outcome()
    assert outcome.dispatched == (1,)
    assert outcome.unsettled == (
        EventOutcome(2, EventStatus.FAILED, 3, NOW, "mail: RuntimeError: mail down"),
        EventOutcome(3, EventStatus.PENDING, 3, NOW + timedelta(seconds=5), "mail: RuntimeError: mail down"),
    )
    assert {(d.position, d.consumer): (d.status, d.attempts) for d in outcome.deliveries} == {
        (2, "mail"): (DeliveryStatus.FAILED, 3),
        (3, "index"): (DeliveryStatus.FAILED, 3),
        (3, "audit"): (DeliveryStatus.PENDING, 1),
        (3, "mail"): (DeliveryStatus.PENDING, 1),
    }
