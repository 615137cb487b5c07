"""Slugs: made from a title when the client gives none, checked when it does.

A generated slug is transliterated to ASCII (``Привет, мир`` → ``privet-mir``, ``Ça va`` → ``ca-va``,
``日本語`` → ``ri-ben-yu``) by python-slugify; a title whose letters have no transliteration keeps them as
they are, and one with no letters or digits at all becomes ``untitled``. Given slugs are lower-case
letters (any script) and digits in hyphen-separated words.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from slugify import slugify

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
