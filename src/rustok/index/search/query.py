"""What a search asks and answers, with no SQL: the query, its hits and pages, the parsing of the user's
text into terms, the keyset cursor, and the excerpts' HTML. The statements are built by
`rustok.index.search.repository`.

**User input never becomes query syntax.** The text is split into terms and quoted phrases
(`parse_terms`); each is handed to the engine as a quoted string (FTS5: ``"term"``, the FTS5 string syntax;
PostgreSQL: the same quoted form through ``websearch_to_tsquery``, which never raises on any input). So
``OR``, ``NEAR``, ``*``, ``-``, parentheses and stray quotes are searched as the words they contain (or
dropped when they contain none), never interpreted, and cannot make a syntax error. Terms are ANDed; a
quoted ``"a b"`` is a phrase.

Ranking: score (higher first), then type, then document id; the keyset cursor carries those three values.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rustok.core.errors import BadRequest, Unprocessable
from rustok.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor

DocumentType = Literal["content", "product"]
TYPES: tuple[DocumentType, ...] = ("content", "product")  # in cursor order
PUBLISHED = {"content": "published", "product": "active"}
MAX_TERMS = 32  # more words than this add nothing to a search and only cost time
# Matching documents scored per type and query (see `rustok.index.search`; the setting
# ``search_rank_window`` is the route's); docs/search.md has the bench's figures.
RANK_WINDOW = 500

# Markers the engines put around matched words; the text between them is escaped, then they become <mark>.
OPEN, CLOSE = "\x02", "\x03"
# Quoted phrases or runs of anything else that is not white space.
_TOKEN = re.compile(r'"([^"]*)"?|([^\s"]+)')
_WORD = re.compile(r"\w")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What to search: the user's text, the filters, which drafts the caller may see, and the page."""

    text: str
    types: tuple[DocumentType, ...] = TYPES
    locale: str | None = None
    kind: str | None = None  # content only: with a kind, products are not searched
    # Drafts (content not ``published``, products not ``active``) are served only where these are False.
    published_content_only: bool = True
    published_products_only: bool = True
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    window: int = RANK_WINDOW  # matching documents scored per type


@dataclass(frozen=True, slots=True)
class SearchHit:
    type: DocumentType
    id: uuid.UUID  # the node's or the product's id
    document_id: int  # the read model's row
    locale: str
    title: str
    excerpt: str
    slug: str  # the node's slug, the product's handle
    score: float


@dataclass(frozen=True, slots=True)
class SearchPage:
    items: list[SearchHit]
    next_cursor: str | None = None


# ------------------------------------------------------------------------------------------ the query text


def parse_terms(query: str) -> list[str]:
    """The user's text as terms and phrases: ``foo "bar baz" qux`` → ``["foo", "bar baz", "qux"]``.
    An unclosed quote runs to the end. Pieces with no word character (``*``, ``-``, ``()``) are dropped:
    the tokenizers would drop them anyway, and an empty FTS5 string is not a term."""
    terms: list[str] = []
    for match in _TOKEN.finditer(query):
        piece = " ".join((match.group(1) if match.group(1) is not None else match.group(2)).split())
        if piece and _WORD.search(piece):
            terms.append(piece)
    return terms[:MAX_TERMS]


def quoted(terms: Sequence[str]) -> str:
    """The terms as space-separated double-quoted strings: an FTS5 query that is an AND of phrases, and
    a ``websearch_to_tsquery`` input meaning the same. Terms never contain a double quote (`parse_terms`
    splits on them), so each string is closed where it should be. The result is a bound value, never SQL."""
    return " ".join(f'"{term}"' for term in terms)


def mark(snippet: str | None) -> str:
    """A snippet with engine markers as safe HTML: everything escaped, the markers turned into marks."""
    if not snippet:
        return ""
    escaped = html.escape(snippet, quote=True)
    return escaped.replace(OPEN, "<mark>").replace(CLOSE, "</mark>")


def terms_of(query: SearchQuery) -> list[str]:
    """The query's terms, once its text and limit are checked (422 for an empty text or a bad limit)."""
    if not query.text.strip():
        raise Unprocessable("Say what to search for.", code="empty_query")
    if not 1 <= query.limit <= MAX_LIMIT:
        raise Unprocessable(f"limit is 1 to {MAX_LIMIT}.", code="invalid_limit")
    return parse_terms(query.text)


def types_of(query: SearchQuery) -> tuple[DocumentType, ...]:
    """The types searched. A kind is a content filter: products have none, so a search by kind finds
    content only, and one by kind among products only (``type=product&kind=...``) finds nothing."""
    return tuple(kind for kind in query.types if query.kind is None or kind == "content")


# -------------------------------------------------------------------------------------------------- cursor


@dataclass(frozen=True, slots=True)
class After:
    """The last hit served: the next page starts strictly after it in (score desc, type, id) order."""

    score: float
    type: DocumentType
    id: int


def decode_after(cursor: str | None) -> After | None:
    if cursor is None:
        return None
    score, kind, document_id = decode_cursor(cursor, 3)
    if (
        not isinstance(score, int | float)
        or isinstance(score, bool)
        or kind not in TYPES
        or not isinstance(document_id, int)
        or isinstance(document_id, bool)
    ):
        raise BadRequest("The cursor does not fit this list.", code="invalid_cursor")
    return After(float(score), kind, document_id)


def encode_after(hit: SearchHit) -> str:
    return encode_cursor([hit.score, hit.type, hit.document_id])


def page_of(hits: list[SearchHit], limit: int) -> SearchPage:
    """The best ``limit`` of the hits of every type, with the cursor after the last when more remain."""
    hits.sort(key=lambda hit: (-hit.score, TYPES.index(hit.type), hit.document_id))
    if len(hits) <= limit:
        return SearchPage(hits)
    served = hits[:limit]
    return SearchPage(served, encode_after(served[-1]))
