"""Translations: the per-locale rows of a translatable object (a node's titles, a category's or tag's
names, a product's titles), how a read serves them and how a write upserts one with its slug. Content
nodes, categories, tags and catalog products all follow these rules.

- **Serving.** Without ``?locale=`` a read gets every translation. With it, each object shows one: the asked
  locale when the object has it, else the tenant's default, else its first (`pick_locale`).
- **Upserting.** A write names translations by locale; a locale that is not named stays as it is. A new
  translation gets the slug the client gave, or one made from its title (the first free ``-2``, ``-3``, ...,
  see `rustok.core.slugs`). An existing one keeps its slug when only its title changes, so links stay
  valid, unless another slug is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.core import slugs

T = TypeVar("T")
R = TypeVar("R")


def pick_locale(available: Iterable[str], wanted: str | None, default: str) -> str | None:
    """The locale a read serves among ``available``: ``wanted``, else ``default``, else the first one."""
    have = list(available)
    for candidate in (wanted, default):
        if candidate is not None and candidate in have:
            return candidate
    return have[0] if have else None


def _locale(row: Any) -> str:
    return str(row.locale)


def served(
    rows: Sequence[T], wanted: str | None, default: str, locale_of: Callable[[T], str] = _locale
) -> list[T]:
    """One object's translations as a read serves them: all of them when no locale is asked for, else
    the one in the locale served."""
    if wanted is None:
        return list(rows)
    chosen = pick_locale([locale_of(r) for r in rows], wanted, default)
    return [r for r in rows if locale_of(r) == chosen]


def one_each(
    rows: Iterable[T],
    owner_of: Callable[[T], uuid.UUID],
    wanted: str | None,
    default: str,
    locale_of: Callable[[T], str] = _locale,
) -> list[T]:
    """Translations of several objects (``owner_of``: whose), one per object in the locale served (even
    when none is asked for: the default, else its first), in the order the objects first appear."""
    by_owner: dict[uuid.UUID, list[T]] = {}
    for row in rows:
        by_owner.setdefault(owner_of(row), []).append(row)
    picked = []
    for candidates in by_owner.values():
        chosen = pick_locale([locale_of(r) for r in candidates], wanted, default)
        picked.append(next(r for r in candidates if locale_of(r) == chosen))
    return picked


@dataclass(frozen=True, slots=True)
class SlugScope:
    """Where a translation's slug must be unique, and how to look slugs up there: ``slug_owner`` answers
    who holds a slug, ``slugs_like`` which slugs of a base's family are taken (see
    `rustok.core.slugs.save_unique`). ``field`` is the slug's attribute (a product's is ``handle``), on the
    row and in the input; ``where`` ends a conflict's message (``by another tag in 'en'``)."""

    owner_id: uuid.UUID
    slug_owner: Callable[[str], Awaitable[uuid.UUID | None]]
    slugs_like: Callable[[str], Awaitable[set[str]]]
    where: str
    field: str = "slug"


async def put_translation(
    session: AsyncSession,
    data: BaseModel,
    existing: R | None,
    *,
    make: Callable[[], R],
    title: str,
    scope: SlugScope,
) -> bool:
    """Insert (``make``) or change the translation ``data`` describes, with its slug; True when anything
    changed. An existing row takes the fields the client gave (besides ``locale`` and the slug); a slug
    is written (inside a SAVEPOINT, see `rustok.core.slugs.save_unique`) for a new row, made from
    ``title`` when none is given, and for an existing one only when a different one is given."""
    wanted = getattr(data, scope.field)
    given = (
        wanted
        if wanted is not None and (existing is None or getattr(existing, scope.field) != wanted)
        else None
    )

    async def save(row: Any, base: str) -> None:
        await slugs.save_unique(
            session,
            row,
            given=given,
            base=base,
            owner_id=scope.owner_id,
            slug_owner=scope.slug_owner,
            slugs_like=scope.slugs_like,
            where=scope.where,
            field=scope.field,
        )

    if existing is None:
        await save(make(), slugs.from_title(title))
        return True
    changed = False
    for key in data.model_fields_set - {"locale", scope.field}:
        value = getattr(data, key)
        if getattr(existing, key) != value:
            setattr(existing, key, value)
            changed = True
    if given is not None:
        await save(existing, "")
        changed = True
    return changed
