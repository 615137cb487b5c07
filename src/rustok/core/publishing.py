"""Publishable objects: what content nodes and catalog products share about being published.

- **A status.** ``draft``, the published status (a node's ``published``, a product's ``active``) and
  ``archived``. Entering the published status is publishing, leaving it unpublishing; ``draft`` ↔
  ``archived`` is a plain update (`Lifecycle.move` says which a change is, so the module announces it).
- **published_at** is set the first time the object is published, and kept when it is unpublished and
  published again (a publisher may set it themselves; that is the module's rule).
- **The publish routes.** Publishing a published object, or unpublishing one that is not, is a 409
  ``invalid_transition`` (`Lifecycle.publish`, `Lifecycle.unpublish`).
- **Readers.** Unpublished objects are invisible to callers who may not edit them; a `Reader` carries what
  the caller may see (each module says what that is) and the locale its translations are served in (see
  `rustok.core.translations`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from rustok.core import clock, translations
from rustok.core.errors import Conflict

if TYPE_CHECKING:
    import uuid

    from rustok.core.deps import RequestContext

T = TypeVar("T")
V = TypeVar("V")


class Change(enum.Enum):
    """What a status change is, for the module to announce."""

    NONE = "none"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"
    UPDATED = "updated"  # draft ↔ archived: a plain update


class Publishable(Protocol):
    status: str
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """The statuses of one kind of publishable object: ``noun`` names it in errors, ``published`` is its
    published status."""

    noun: str
    published: str
    draft: str = "draft"

    def change(self, old: str, new: str) -> Change:
        if old == new:
            return Change.NONE
        if new == self.published:
            return Change.PUBLISHED
        if old == self.published:
            return Change.UNPUBLISHED
        return Change.UPDATED

    def crosses(self, old: str, new: str) -> bool:
        """Whether moving from ``old`` to ``new`` publishes or unpublishes (and so needs the right to)."""
        return self.change(old, new) in (Change.PUBLISHED, Change.UNPUBLISHED)

    def move(self, row: Publishable, status: str) -> Change:
        """Put ``row`` in ``status`` (setting ``published_at`` on its first publication); what it was."""
        change = self.change(row.status, status)
        if change is Change.NONE:
            return change
        row.status = status
        if change is Change.PUBLISHED and row.published_at is None:
            row.published_at = clock.now()
        return change

    def publish(self, row: Publishable) -> Change:
        """The publish route: 409 ``invalid_transition`` when ``row`` is published."""
        if row.status == self.published:
            raise self.invalid_transition(row, "published")
        return self.move(row, self.published)

    def unpublish(self, row: Publishable) -> Change:
        """The unpublish route, back to draft: 409 ``invalid_transition`` when ``row`` is not published."""
        if row.status != self.published:
            raise self.invalid_transition(row, "unpublished")
        return self.move(row, self.draft)

    def invalid_transition(self, row: Publishable, action: str) -> Conflict:
        return Conflict(f"A {row.status} {self.noun} cannot be {action}.", code="invalid_transition")


@dataclass(frozen=True, slots=True)
class Reader(Generic[V]):
    """Who reads: ``sees``, what unpublished objects the caller may see (the module's notion: a flag, or a
    node visibility), and ``locale``, the one asked for (None: every translation is served)."""

    sees: V
    locale: str | None
    default_locale: str

    @classmethod
    def of(cls, ctx: RequestContext, sees: V, locale: str | None = None) -> Reader[V]:
        return cls(sees, locale, ctx.default_locale)

    @property
    def preference(self) -> list[str]:
        """The locales a lookup by slug tries first, in order: the asked one, then the default."""
        return [locale for locale in (self.locale, self.default_locale) if locale is not None]

    def served(self, rows: Sequence[T]) -> list[T]:
        """One object's translations (rows with a ``locale``), as this reader is served them."""
        return translations.served(rows, self.locale, self.default_locale)

    def one_each(self, rows: Iterable[T], owner_of: Callable[[T], uuid.UUID]) -> list[T]:
        """Several objects' translations, one per object in the locale served."""
        return translations.one_each(rows, owner_of, self.locale, self.default_locale)
