"""Slugs: made from a title when the client gives none, checked when it does.

A generated slug is transliterated to ASCII (``Привет, мир`` → ``privet-mir``, ``Ça va`` → ``ca-va``,
``日本語`` → ``ri-ben-yu``) by python-slugify; a title whose letters have no transliteration keeps them as
they are, and one with no letters or digits at all becomes ``untitled``. Given slugs are lower-case
letters (any script) and digits in hyphen-separated words.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints
from slugify import slugify
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.core.errors import Conflict

MAX_LENGTH = 200
FALLBACK = "untitled"


def _lower(value: str) -> str:
    if value != value.lower():
        raise ValueError("a slug is lower case")
    return value


Slug = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_LENGTH, pattern=r"^[^\W_]+(?:-[^\W_]+)*$"),
    AfterValidator(_lower),
]
"""A slug a client gives."""


def from_title(title: str) -> str:
    return (
        slugify(title, max_length=MAX_LENGTH, word_boundary=True)
        or slugify(title, max_length=MAX_LENGTH, word_boundary=True, allow_unicode=True)
        or FALLBACK
    )


def numbered(base: str, number: int) -> str:
    """``base`` with ``-<number>`` appended, shortened to fit."""
    suffix = f"-{number}"
    return base[: MAX_LENGTH - len(suffix)].rstrip("-") + suffix


# Room kept for a suffix: ``-`` and up to seven digits.
_SUFFIX_ROOM = 8


def family(base: str) -> str:
    """What every numbered form of ``base`` starts with (``base-``, or, for a base so long that numbering
    shortens it, the part that numbering keeps): the prefix to look up taken slugs by."""
    if len(base) <= MAX_LENGTH - _SUFFIX_ROOM:
        return f"{base}-"
    return base[: MAX_LENGTH - _SUFFIX_ROOM].rstrip("-")


def first_free(base: str, taken: set[str], *, skip: int = 0) -> str:
    """``base`` if it is free, else the first ``base-2``, ``base-3``, ... that is; ``skip`` passes over that
    many free ones first (writers that collided spread out instead of colliding again)."""
    if base not in taken:
        if skip == 0:
            return base
        skip -= 1
    number = 2
    while True:
        candidate = numbered(base, number)
        if candidate not in taken:
            if skip == 0:
                return candidate
            skip -= 1
        number += 1


# A generated slug is retried this often. The first retry takes the first free number (two writers of one
# title get `x` and `x-2`); after the n-th collision a writer picks among the next 2**(n-1) free numbers, so
# many writers of one title spread out in a few rounds instead of colliding one by one.
SLUG_ATTEMPTS = 12


def _conflict(slug: str, where: str) -> Conflict:
    return Conflict(f"The slug {slug!r} is taken {where}.", code="slug_conflict")


async def save_unique(
    session: AsyncSession,
    row: Any,
    *,
    given: str | None,
    base: str,
    owner_id: uuid.UUID,
    slug_owner: Callable[[str], Awaitable[uuid.UUID | None]],
    slugs_like: Callable[[str], Awaitable[set[str]]],
    where: str,
    field: str = "slug",
) -> None:
    """Set the row's slug (attribute ``field``: ``given``, or a free one made from ``base``) and flush the
    row inside a SAVEPOINT, so that losing a race for the slug to a concurrent writer costs a retry, not the
    request. A ``given`` slug that another owner holds is a 409 ``slug_conflict``. ``slug_owner`` and
    ``slugs_like`` look up, in the slug's scope of uniqueness, who holds a slug and which slugs of
    ``base``'s family are taken."""
    if given is not None:
        holder = await slug_owner(given)
        if holder is not None and holder != owner_id:
            raise _conflict(given, where)
        setattr(row, field, given)
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:
            raise _conflict(given, where) from None
        return
    for attempt in range(SLUG_ATTEMPTS):
        skip = secrets.randbelow(2 ** (attempt - 1)) if attempt > 1 else 0
        setattr(row, field, first_free(base, await slugs_like(base), skip=skip))
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:
            continue
        return
    raise Conflict(f"Could not find a free slug for {base!r} {where}; give one.", code="slug_conflict")
