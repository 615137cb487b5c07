"""Ids are UUIDv7 in creation order; time is aware UTC, and tests can stop it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from rustok.core import clock
from rustok.core.ids import new_id, parse_id
from rustok.testing import FrozenClock, id_at


def test_new_ids_are_version_7_and_increase() -> None:
    ids = [new_id() for _ in range(1000)]
    assert {i.version for i in ids} == {7}
    assert ids == sorted(ids)


def test_parse_id_answers_none_for_anything_but_a_uuid() -> None:
    value = new_id()
    assert parse_id(str(value)) == value
    assert parse_id("acme") is None


def test_id_at_carries_the_given_time_and_sorts_by_it() -> None:
    early = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [id_at(early + timedelta(seconds=n)) for n in range(5)]
    assert ids == sorted(ids)
    assert {i.version for i in ids} == {7}
    assert int.from_bytes(ids[0].bytes[:6], "big") == int(early.timestamp() * 1000)


def test_now_is_aware_utc() -> None:
    assert clock.now().tzinfo is UTC


def test_naive_times_are_refused_and_others_converted() -> None:
    with pytest.raises(ValueError, match="naive"):
        clock.ensure_utc(datetime(2026, 1, 1))  # noqa: DTZ001
    plus_two = datetime(2026, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert clock.ensure_utc(plus_two) == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_a_frozen_clock_stands_still_until_moved(frozen_clock: FrozenClock) -> None:
    start = clock.now()
    assert clock.now() == start == datetime(2026, 1, 1, tzinfo=UTC)
    frozen_clock.advance(90)
    assert clock.now() == start + timedelta(seconds=90)


def test_leaving_a_frozen_clock_restores_the_real_one() -> None:
    with FrozenClock(datetime(2000, 1, 1, tzinfo=UTC)):
        assert clock.now().year == 2000
    assert clock.now().year >= 2026
