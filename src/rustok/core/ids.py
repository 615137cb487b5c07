"""Ids are UUIDv7: time-ordered, so primary keys index well and sort by creation."""

from __future__ import annotations

import uuid

from uuid_utils import compat


def new_id() -> uuid.UUID:
    """A new UUIDv7 as a standard-library `uuid.UUID`."""
    return compat.uuid7()


def parse_id(value: str) -> uuid.UUID | None:
    """The UUID in `value`, or None when it is not one."""
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None
