"""Input field types every module's schemas share, so a rule means the same thing (and fails the same way)
wherever a client sends it."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

MAX_METADATA_BYTES = 64 * 1024


class Strict(BaseModel):
    """A request body that refuses fields it does not know."""

    model_config = ConfigDict(extra="forbid")


def no_nul(value: str) -> str:
    # No database text column stores U+0000 (PostgreSQL refuses it), so it is refused at the door.
    if "\x00" in value:
        raise ValueError("the NUL character is not allowed")
    return value


NoNul = AfterValidator(no_nul)
Trimmed = StringConstraints(strip_whitespace=True)


def length(max_length: int, *, min_length: int = 0) -> StringConstraints:
    return StringConstraints(min_length=min_length, max_length=max_length)


def _metadata(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return value
    encoded = json.dumps(value, ensure_ascii=False)
    if "\\u0000" in encoded:
        raise ValueError("the NUL character is not allowed")
    if len(encoded.encode()) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata is limited to {MAX_METADATA_BYTES} bytes of JSON")
    return value


Metadata = Annotated[dict[str, Any], AfterValidator(_metadata)]
"""A client's free-form JSON object: up to `MAX_METADATA_BYTES` of JSON, no NUL anywhere in it."""
