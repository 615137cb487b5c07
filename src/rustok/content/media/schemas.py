"""Media in and out."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from rustok.core.event_fields import Locale

MAX_ALT_CHARS = 1000
MAX_TITLE_CHARS = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(value: str) -> str:
    # Alt text and titles end up in HTML attributes and screen readers: no control characters (NUL included,
    # which PostgreSQL cannot store); line breaks and tabs are allowed.
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    return value


def _blank_is_none(value: str | None) -> str | None:
    return value or None


AltText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_ALT_CHARS), AfterValidator(_printable)
]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_TITLE_CHARS), AfterValidator(_printable)
]


class MediaUploadFields(BaseModel):
    """The text fields of an upload (beside the ``file`` part). Blank alt text or title is none."""

    model_config = ConfigDict(extra="forbid")

    alt: Annotated[AltText | None, AfterValidator(_blank_is_none)] = None
    title: Annotated[Title | None, AfterValidator(_blank_is_none)] = None
    locale: Locale | None = Field(default=None, description="Default: the tenant's default locale.")


class MediaTranslationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    locale: str
    alt: str | None
    title: str | None


class MediaOut(BaseModel):
    """A media item, with its alt text and title in the locale served (``locale``: None when it has none)."""

    id: uuid.UUID
    filename: str
    mime_type: str = Field(description="Sniffed from the bytes when uploaded; what the file is served as.")
    size: int = Field(description="In bytes.")
    width: int | None = Field(default=None, description="Images only, in pixels.")
    height: int | None = Field(default=None, description="Images only, in pixels.")
    url: str = Field(
        description="The file's public URL (`/media/{tenant}/{id}/{filename}`): no header needed, cacheable "
        "for a year; renditions with `?w=&h=&fit=&format=`."
    )
    locale: str | None = None
    alt: str | None = None
    title: str | None = None
    uploaded_by: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime


class MediaDetailOut(MediaOut):
    """One media item, with its alt text and title in every locale it has them."""

    translations: list[MediaTranslationOut] = Field(default_factory=list)
