"""Search in and out: the query parameters of ``GET /api/search``, a hit, a page of hits."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rustok.core.event_fields import Kind, Locale
from rustok.core.fields import NoNul
from rustok.core.pagination import DEFAULT_LIMIT, MAX_LIMIT

MAX_QUERY_CHARS = 500


SearchText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUERY_CHARS),
    NoNul,
]


class SearchType(StrEnum):
    CONTENT = "content"
    PRODUCT = "product"


class SearchParams(BaseModel):
    """``?q=&type=&locale=&kind=&limit=&cursor=``. An empty (or blank) ``q`` is a 422."""

    model_config = ConfigDict(extra="forbid")

    q: SearchText = Field(
        description='Words to find (all of them); a quoted "a b" is a phrase.',
        examples=['"hello world" news'],
    )
    type: SearchType | None = Field(default=None, description="Only content or only products (else both).")
    locale: Locale | None = Field(default=None, description="Only documents in this locale.")
    kind: Kind | None = Field(default=None, description="Only content of this kind.")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=512)


class SearchHitOut(BaseModel):
    type: SearchType
    id: uuid.UUID = Field(description="The node's or the product's id.")
    locale: str
    title: str
    excerpt: str = Field(description="HTML: the text escaped, the matched words in <mark>…</mark>.")
    slug: str = Field(description="The node's slug or the product's handle.")
    score: float


class SearchPageOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "type": "content",
                            "id": "0190f6b2-3c4d-7e5f-8a6b-7c8d9e0f1a2b",
                            "locale": "en",
                            "title": "Hello, world",
                            "excerpt": "The first post: <mark>hello</mark> <mark>world</mark>.",
                            "slug": "hello-world",
                            "score": 1.5,
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[SearchHitOut]
    next_cursor: str | None = None
