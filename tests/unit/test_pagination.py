"""Cursors are opaque to clients, round-trip their key values exactly, and a forged one is a 400."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from rustok.core.errors import BadRequest
from rustok.core.pagination import PageParams, decode_cursor, encode_cursor


def test_a_cursor_round_trips_its_key_values() -> None:
    values = [datetime(2026, 3, 1, 12, 30, tzinfo=UTC), uuid.UUID(int=42), "title", 7]
    cursor = encode_cursor(values)
    assert decode_cursor(cursor, arity=4) == values
    assert "=" not in cursor  # safe to put in a query string as it is


@pytest.mark.parametrize("forged", ["not-base64!", "W1sieCIsMV1d", "e30", ""])
def test_a_cursor_the_api_did_not_issue_is_a_bad_request(forged: str) -> None:
    with pytest.raises(BadRequest) as caught:
        decode_cursor(forged, arity=1)
    assert caught.value.problem_code == "invalid_cursor"


def test_a_cursor_from_another_list_is_refused() -> None:
    with pytest.raises(BadRequest):
        decode_cursor(encode_cursor([1, 2]), arity=1)


def test_a_cursor_names_its_sort_and_another_sort_refuses_it() -> None:
    """A list sorted several ways (by price, dearest first) tells its cursors apart, though their values
    have the same types."""
    by_price = encode_cursor([500, uuid.UUID(int=1)], kind="price:EUR")

    assert decode_cursor(by_price, arity=2, kind="price:EUR") == [500, uuid.UUID(int=1)]
    for kind in ("-price:EUR", "price:USD", None):
        with pytest.raises(BadRequest) as caught:
            decode_cursor(by_price, arity=2, kind=kind)
        assert caught.value.problem_code == "invalid_cursor"
    with pytest.raises(BadRequest):
        decode_cursor(encode_cursor([500, uuid.UUID(int=1)]), arity=2, kind="price:EUR")


def test_limits_default_to_20_and_stop_at_100() -> None:
    assert PageParams().limit == 20
    assert PageParams(limit=100).limit == 100
    with pytest.raises(ValidationError):
        PageParams(limit=101)
    with pytest.raises(ValidationError):
        PageParams(limit=0)
