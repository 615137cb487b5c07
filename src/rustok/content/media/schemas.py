"""Media in and out."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

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


MAX_TRANSLATIONS = 50


class MediaTranslationIn(BaseModel):
    """Alt text and title in one locale. A field left out keeps its value; given (blank or null) it is set
    (blank is none)."""

    model_config = ConfigDict(extra="forbid")

    locale: Locale
    alt: Annotated[AltText | None, AfterValidator(_blank_is_none)] = None
    title: Annotated[Title | None, AfterValidator(_blank_is_none)] = None


class MediaUpdate(BaseModel):
    """``PATCH /api/media/{id}``: translations upserted per locale (a locale not named stays as it is)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"translations": [{"locale": "en", "alt": "A red pixel"}]}]},
    )

    translations: list[MediaTranslationIn] = Field(min_length=1, max_length=MAX_TRANSLATIONS)

    @field_validator("translations")
    @classmethod
    def _unique_locales(cls, items: list[MediaTranslationIn]) -> list[MediaTranslationIn]:
        locales = [item.locale for item in items]
        if len(set(locales)) != len(locales):
            raise ValueError("each locale may appear once")
        return items


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
