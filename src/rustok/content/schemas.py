"""Content in and out: nodes with their translations and bodies, categories and tags."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rustok.content.models import BodyFormat, NodeStatus
from rustok.core.event_fields import Kind, Locale
from rustok.core.fields import Metadata, NoNul, Strict, Trimmed, length
from rustok.core.slugs import Slug

MAX_TRANSLATIONS = 50
MAX_BODY_CHARS = 1_000_000
MAX_POSITION = 1_000_000_000


Title = Annotated[str, Trimmed, length(500, min_length=1), NoNul]
Name = Annotated[str, Trimmed, length(200, min_length=1), NoNul]
Excerpt = Annotated[str, length(5000), NoNul]
Description = Annotated[str, length(20_000), NoNul]
BodyText = Annotated[str, length(MAX_BODY_CHARS), NoNul]
Position = Annotated[int, Field(ge=0, le=MAX_POSITION)]


def _unique_locales(items: list[Any] | None) -> list[Any] | None:
    if items is not None:
        locales = [item.locale for item in items]
        if len(set(locales)) != len(locales):
            raise ValueError("each locale may appear once")
    return items


# ------------------------------------------------------------------------------------------------- nodes


@dataclass(frozen=True, slots=True)
class NodeFilters:
    """The query of ``GET /api/content/nodes``: ``locale`` keeps the nodes translated into it (and serves
    that translation); ``tag`` is a tag's id or slug."""

    kind: str | None = None
    status: NodeStatus | None = None
    locale: str | None = None
    category_id: uuid.UUID | None = None
    tag: str | None = None
    author_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    sort: Literal["-created", "created", "position"] = "-created"


class TranslationIn(Strict):
    locale: Locale
    title: Title
    slug: Slug | None = None
    excerpt: Excerpt | None = None


class BodyIn(Strict):
    locale: Locale
    body: BodyText
    format: BodyFormat = BodyFormat.MARKDOWN


class NodeCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "post",
                    "status": "published",
                    "translations": [{"locale": "en", "title": "Hello, world", "excerpt": "A first post."}],
                    "bodies": [
                        {"locale": "en", "body": "# Hello\n\nThe **first** post.", "format": "markdown"}
                    ],
                }
            ]
        }
    )

    kind: Kind
    status: NodeStatus | None = None
    parent_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    position: Position = 0
    metadata: Metadata = Field(default_factory=dict)
    published_at: datetime | None = None
    translations: list[TranslationIn] = Field(min_length=1, max_length=MAX_TRANSLATIONS)
    bodies: list[BodyIn] = Field(default_factory=list, max_length=MAX_TRANSLATIONS)

    _unique = field_validator("translations", "bodies")(_unique_locales)


class NodeUpdate(Strict):
    """Partial: absent fields stay; ``parent_id``/``category_id``/``published_at`` null clear them;
    translations and bodies are upserted per locale (a locale not named stays as it is)."""

    status: NodeStatus | None = None
    parent_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    position: Position | None = None
    metadata: Metadata | None = None
    published_at: datetime | None = None
    translations: list[TranslationIn] | None = Field(default=None, max_length=MAX_TRANSLATIONS)
    bodies: list[BodyIn] | None = Field(default=None, max_length=MAX_TRANSLATIONS)

    _unique = field_validator("translations", "bodies")(_unique_locales)


class TranslationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    locale: str
    title: str
    slug: str
    excerpt: str | None


class BodyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    locale: str
    format: BodyFormat
    body: str
    html: str = Field(description="The body rendered (markdown) and sanitized, safe to embed.")


class TermRef(BaseModel):
    """A category or tag as a node shows it, in the locale served."""

    id: uuid.UUID
    locale: str | None
    name: str | None
    slug: str | None


class NodeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0190f6b2-3c4d-7e5f-8a6b-7c8d9e0f1a2b",
                    "kind": "post",
                    "status": "published",
                    "parent_id": None,
                    "category_id": None,
                    "author_id": "0190f6a8-7c1e-7d2a-9b3c-4d5e6f708192",
                    "depth": 0,
                    "position": 0,
                    "reply_count": 0,
                    "metadata": {},
                    "published_at": "2026-03-01T09:30:00Z",
                    "created_at": "2026-03-01T09:30:00Z",
                    "updated_at": "2026-03-01T09:30:00Z",
                    "translations": [
                        {
                            "locale": "en",
                            "title": "Hello, world",
                            "slug": "hello-world",
                            "excerpt": "A first post.",
                        }
                    ],
                    "bodies": [
                        {
                            "locale": "en",
                            "format": "markdown",
                            "body": "# Hello\n\nThe **first** post.",
                            "html": "<h1>Hello</h1>\n<p>The <strong>first</strong> post.</p>\n",
                        }
                    ],
                    "category": None,
                    "tags": [],
                }
            ]
        }
    )

    id: uuid.UUID
    kind: str
    status: NodeStatus
    parent_id: uuid.UUID | None
    category_id: uuid.UUID | None
    author_id: uuid.UUID | None
    depth: int
    position: int
    reply_count: int
    metadata: dict[str, Any]
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    translations: list[TranslationOut]
    bodies: list[BodyOut] | None = Field(
        default=None, description="With the node read by id or slug; left out of lists."
    )
    category: TermRef | None
    tags: list[TermRef]


# ------------------------------------------------------------------------------------ categories and tags


class CategoryTranslationIn(Strict):
    locale: Locale
    name: Name
    slug: Slug | None = None
    description: Description | None = None


class CategoryCreate(Strict):
    parent_id: uuid.UUID | None = None
    position: Position = 0
    translations: list[CategoryTranslationIn] = Field(min_length=1, max_length=MAX_TRANSLATIONS)

    _unique = field_validator("translations")(_unique_locales)


class CategoryUpdate(Strict):
    parent_id: uuid.UUID | None = None
    position: Position | None = None
    translations: list[CategoryTranslationIn] | None = Field(default=None, max_length=MAX_TRANSLATIONS)

    _unique = field_validator("translations")(_unique_locales)


class CategoryTranslationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    locale: str
    name: str
    slug: str
    description: str | None


class CategoryOut(BaseModel):
    id: uuid.UUID
    parent_id: uuid.UUID | None
    position: int
    node_count: int = Field(description="Nodes in this category that the caller can see.")
    translations: list[CategoryTranslationOut]
    created_at: datetime
    updated_at: datetime


class TagTranslationIn(Strict):
    locale: Locale
    name: Name
    slug: Slug | None = None


class TagCreate(Strict):
    translations: list[TagTranslationIn] = Field(min_length=1, max_length=MAX_TRANSLATIONS)

    _unique = field_validator("translations")(_unique_locales)


class TagUpdate(Strict):
    translations: list[TagTranslationIn] = Field(min_length=1, max_length=MAX_TRANSLATIONS)

    _unique = field_validator("translations")(_unique_locales)


class TagTranslationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    locale: str
    name: str
    slug: str


class TagOut(BaseModel):
    id: uuid.UUID
    use_count: int = Field(description="Nodes carrying this tag that the caller can see.")
    translations: list[TagTranslationOut]
    created_at: datetime
    updated_at: datetime
