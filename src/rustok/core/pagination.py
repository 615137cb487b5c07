"""Cursor (keyset) pagination: ``?limit=`` (default 20, max 100) and an opaque ``?cursor=``.

A cursor encodes the sort-key values of the last row served; the next page starts strictly after it, so
pages stay stable while rows are inserted, and the cost does not grow with the page number. A list that can
be sorted several ways names its sort in its cursors (``kind``), so a cursor of one sort is refused by
another instead of serving a wrong page.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Row, Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from rustok.core.errors import BadRequest

T = TypeVar("T")
KeyColumn = ColumnElement[Any] | InstrumentedAttribute[Any]
"""A column of a sort key: an entity's attribute, or any expression (a computed price)."""
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class PageParams(BaseModel):
    """``?limit=&cursor=``; a list route declares its own filters beside these."""

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=512)


class Page(BaseModel, Generic[T]):
    """A page as the API answers it: ``{"items": [...], "next_cursor": "..." | null}``."""

    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    """A page of rows as a repository returns it, before the endpoint shapes each row for the answer."""

    items: list[T]
    next_cursor: str | None


def _tag(value: Any) -> list[Any]:
    if isinstance(value, uuid.UUID):
        return ["u", str(value)]
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if value is None or isinstance(value, str | int | float | bool):
        return ["v", value]
    raise TypeError(f"cannot put a {type(value).__name__} in a cursor")


def _untag(item: Any) -> Any:
    kind, value = item
    if kind == "u":
        return uuid.UUID(value)
    if kind == "t":
        return datetime.fromisoformat(value)
    if kind == "v":
        return value
    raise ValueError(kind)


def encode_cursor(values: Sequence[Any], *, kind: str | None = None) -> str:
    """A cursor of the key ``values``; ``kind`` names the list's sort (see `decode_cursor`)."""
    items = [_tag(v) for v in values]
    if kind is not None:
        items.insert(0, ["k", kind])
    raw = json.dumps(items, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, arity: int, *, kind: str | None = None) -> list[Any]:
    """The key values in `cursor`; a cursor that was not made by `encode_cursor` is a 400, and so is one
    made for another sort (``kind``) or another key (``arity``)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        items = json.loads(raw)
        if not isinstance(items, list):
            raise TypeError("a cursor is a list")
        found_kind = None
        if items and isinstance(items[0], list) and items[0][:1] == ["k"]:
            _, found_kind = items.pop(0)
        values = [_untag(item) for item in items]
    except (binascii.Error, ValueError, TypeError, json.JSONDecodeError) as exc:
        raise BadRequest("The cursor is not one this API issued.", code="invalid_cursor") from exc
    if len(values) != arity or found_kind != kind:
        raise BadRequest("The cursor does not fit this list.", code="invalid_cursor")
    return values


def _check_types(key: Sequence[KeyColumn], values: Sequence[Any]) -> None:
    """A cursor's values must have the types of the key's columns: a forged one would otherwise reach the
    database as a comparison of a uuid with a string (a 500 on PostgreSQL, a wrong page on SQLite)."""
    for column, value in zip(key, values, strict=True):
        try:
            expected = column.type.python_type
        except NotImplementedError:  # pragma: no cover - every key column has a Python type
            continue
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise BadRequest("The cursor does not fit this list.", code="invalid_cursor")


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    *,
    key: Sequence[InstrumentedAttribute[Any]],
    params: PageParams,
    descending: bool = False,
) -> Slice[Any]:
    """One page of the entities `statement` selects, ordered by `key` (whose last column must be unique),
    with the cursor of the next page (None on the last page)."""
    statement = _keyset(statement, key, params, descending, None)
    rows = list((await session.scalars(statement)).all())
    if len(rows) <= params.limit:
        return Slice(rows, None)
    rows = rows[: params.limit]
    last = rows[-1]
    return Slice(rows, encode_cursor([getattr(last, column.key) for column in key]))


async def paginate_rows(
    session: AsyncSession,
    statement: Select[Any],
    *,
    key: Sequence[KeyColumn],
    values: Callable[[Row[Any]], Sequence[Any]],
    params: PageParams,
    descending: bool = False,
    kind: str | None = None,
) -> Slice[Row[Any]]:
    """One page of the rows `statement` selects (several columns each: an entity and what it is sorted
    by, a computed price), ordered by `key`, any columns or expressions, the last one unique; ``values``
    reads a row's key values for the next cursor. ``kind`` names the sort in the cursors, so one sort's
    cursor is refused by another."""
    statement = _keyset(statement, key, params, descending, kind)
    rows = list((await session.execute(statement)).all())
    if len(rows) <= params.limit:
        return Slice(rows, None)
    rows = rows[: params.limit]
    return Slice(rows, encode_cursor(values(rows[-1]), kind=kind))


def _keyset(
    statement: Select[Any],
    key: Sequence[KeyColumn],
    params: PageParams,
    descending: bool,
    kind: str | None,
) -> Select[Any]:
    """`statement` from just after the cursor, in key order, one row more than the page (to know whether
    another page follows)."""
    if params.cursor is not None:
        after = decode_cursor(params.cursor, len(key), kind=kind)
        _check_types(key, after)
        columns = tuple_(*key)
        bound = tuple_(*after)
        statement = statement.where(columns < bound if descending else columns > bound)
    order = [column.desc() if descending else column.asc() for column in key]
    return statement.order_by(*order).limit(params.limit + 1)
