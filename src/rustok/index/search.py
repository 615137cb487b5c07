"""Full-text search over the index read models (``index_content``, ``index_products``), one backend per
database: SQLite FTS5 and PostgreSQL text search. The backend is chosen by the session's dialect.

**Tenant isolation.** Every statement here is raw SQL (``sqlalchemy.text``): FTS5's ``MATCH``, ``bm25`` and
``snippet`` and PostgreSQL's ``@@``, ``ts_rank_cd`` and ``ts_headline`` have no ORM form worth having. Raw
SQL bypasses the ORM's tenant scoping (`rustok.core.tenancy`) entirely, so **every statement in this module
names the tenant itself** (``tenant_id = :tenant_id``, bound from the caller's resolved tenant). A new
statement added here without that condition would read every tenant's documents: keep it in each one.

**User input never becomes query syntax.** The text is split into terms and quoted phrases
(`parse_terms`); each is handed to the engine as a quoted string (FTS5: ``"term"``, the FTS5 string syntax;
PostgreSQL: the same quoted form through ``websearch_to_tsquery``, which never raises on any input). So
``OR``, ``NEAR``, ``*``, ``-``, parentheses and stray quotes are searched as the words they contain (or
dropped when they contain none), never interpreted, and cannot make a syntax error. Terms are ANDed; a
quoted ``"a b"`` is a phrase.

**The rank window.** An engine that scores every match before taking the best 20 spends its time in
proportion to the number of matches: a common word matches tens of thousands of documents, and scoring
them is what makes such a search slow. So each search scores at most ``SearchQuery.window`` matching
documents per type (`RANK_WINDOW` by default, ``RUSTOK_SEARCH_RANK_WINDOW``): the first the engine's index
yields, which on SQLite are the most recently indexed (FTS5 walks its doclists by rowid, newest first
here) and on PostgreSQL those whose title, tags or excerpt match first, then those matching in the body
only, each in storage order (a GIN bitmap is walked by heap page; see `PostgreSQLSearch._window`). The
window is ranked, and pages are served from it, best first; a query matching more documents than the
window serves only those in it (as search engines cap the depth of a result list), and a narrower query
(another word, a ``locale`` or ``kind``) reaches the rest. The window is the same for every page of one
query while the documents do not change, so the cursor stays consistent.

Ranking: score (higher first), then type, then document id; the keyset cursor carries those three values.
Content and products, when both are searched, are merged by score (the scores of one backend are of one
kind, so this is a rough but stable merge). Excerpts are HTML: the document text escaped, with the matched
words wrapped in ``<mark>``…``</mark>``.
"""

from __future__ import annotations

import contextlib
import html
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from sqlalchemy import Dialect, String, TextClause, TypeDecorator, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.core.errors import BadRequest, Unprocessable
from rustok.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor

DocumentType = Literal["content", "product"]
TYPES: tuple[DocumentType, ...] = ("content", "product")  # in cursor order
PUBLISHED = {"content": "published", "product": "active"}
MAX_TERMS = 32  # more words than this add nothing to a search and only cost time
# Matching documents scored per type and query (see the module's docstring; the setting
# ``search_rank_window`` is the route's); docs/search.md has the bench's figures.
RANK_WINDOW = 500

# Markers the engines put around matched words; the text between them is escaped, then they become <mark>.
_OPEN, _CLOSE = "\x02", "\x03"
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


class SearchBackend(Protocol):
    async def search(self, session: AsyncSession, tenant_id: uuid.UUID, query: SearchQuery) -> SearchPage:
        """One page of the tenant's documents that match ``query``, best first."""
        ...


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
    splits on them), so each string is closed where it should be."""
    return " ".join(f'"{term}"' for term in terms)


def mark(snippet: str | None) -> str:
    """A snippet with engine markers as safe HTML: everything escaped, the markers turned into marks."""
    if not snippet:
        return ""
    escaped = html.escape(snippet, quote=True)
    return escaped.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


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


def cursor_condition(kind: DocumentType, after: After | None, params: dict[str, Any]) -> str:
    """The SQL condition (on the columns ``score`` and ``id``) that keeps rows of ``kind`` strictly after
    the cursor: a lower score, or the same score and later in (type, id) order."""
    if after is None:
        return "1 = 1"
    params["after_score"] = after.score
    if kind > after.type:
        return "score <= :after_score"
    if kind < after.type:
        return "score < :after_score"
    params["after_id"] = after.id
    return "(score < :after_score OR (score = :after_score AND id > :after_id))"


# ------------------------------------------------------------------------------------------------ backends

# Per type: (table, public id column, slug column, the text the PostgreSQL excerpt is made from).
_TABLES: dict[DocumentType, tuple[str, str, str, str]] = {
    "content": ("index_content", "node_id", "slug", "d.excerpt, left(d.body_text, 20000)"),
    "product": ("index_products", "product_id", "handle", "d.subtitle, left(d.description, 20000)"),
}


@dataclass(frozen=True, slots=True)
class _Plan:
    """One statement's conditions and parameters, shared by the backends: ``where`` on the document row
    (alias ``d``), ``after`` (the cursor) on the ranked rows (columns ``score`` and ``id``)."""

    where: str
    after: str
    params: dict[str, Any]


def _plan(kind: DocumentType, tenant_id: uuid.UUID, query: SearchQuery, after: After | None) -> _Plan:
    # The tenant first, always: raw SQL gets no tenant scoping from the ORM.
    where = ["d.tenant_id = :tenant_id"]
    params: dict[str, Any] = {"tenant_id": tenant_id, "limit": query.limit + 1, "window": query.window}
    published_only = query.published_content_only if kind == "content" else query.published_products_only
    if published_only:  # named per type: the types' arms share one statement
        where.append(f"d.status = :{kind}_status")
        params[f"{kind}_status"] = PUBLISHED[kind]
    if query.locale is not None:
        where.append("d.locale = :locale")
        params["locale"] = query.locale
    if kind == "content" and query.kind is not None:
        where.append("d.kind = :kind")
        params["kind"] = query.kind
    return _Plan(" AND ".join(where), cursor_condition(kind, after, params), params)


def _hit(row: Any) -> SearchHit:
    public_id = row.public_id if isinstance(row.public_id, uuid.UUID) else uuid.UUID(str(row.public_id))
    return SearchHit(
        type=row.type,
        id=public_id,
        document_id=int(row.id),
        locale=row.locale,
        title=row.title,
        excerpt="",
        slug=row.slug,
        score=float(row.score),
    )


Match = dict[str, Any]  # the parameters of the match, added to each of a search's statements


class _Backend:
    """What both backends do, in two statements: the ranked windows of every type searched, merged best
    first into one page (each type an arm of a UNION ALL), then the excerpts of the hits served, only them
    (an excerpt is the costliest part of a hit)."""

    async def search(self, session: AsyncSession, tenant_id: uuid.UUID, query: SearchQuery) -> SearchPage:
        terms = _terms(query)
        after = decode_after(query.cursor)
        if not terms:
            return SearchPage([])
        async with self._prepared(session, tenant_id, query, terms) as match:
            plans = {kind: _plan(kind, tenant_id, query, after) for kind in _types(query)}
            page = await self._page(session, plans, match, query.limit)
            excerpts = await self._excerpts_of(session, tenant_id, page.items, match)
        items = [replace(hit, excerpt=excerpts.get((hit.type, hit.document_id), "")) for hit in page.items]
        return SearchPage(items, page.next_cursor)

    async def _page(
        self, session: AsyncSession, plans: dict[DocumentType, _Plan], match: Match, limit: int
    ) -> SearchPage:
        arms = " UNION ALL ".join(
            f"SELECT * FROM ({self._ranked(kind, plan, match)}) AS {kind}_hits"  # noqa: S608
            for kind, plan in plans.items()
        )
        statement = (
            f"{self._with(match)}SELECT * FROM ({arms}) AS hits "  # noqa: S608
            "ORDER BY score DESC, type, id LIMIT :limit"
        )
        params = match | {key: value for plan in plans.values() for key, value in plan.params.items()}
        rows = await session.execute(self._typed(text(statement)), params)
        return _page([_hit(row) for row in rows], limit)

    async def _excerpts_of(
        self, session: AsyncSession, tenant_id: uuid.UUID, hits: list[SearchHit], match: Match
    ) -> dict[tuple[str, int], str]:
        served: dict[DocumentType, list[int]] = {}
        for hit in hits:
            served.setdefault(hit.type, []).append(hit.document_id)
        if not served:
            return {}
        arms = " UNION ALL ".join(self._excerpts(kind) for kind in served)
        statement = self._typed(text(f"{self._with(match)}{arms}")).bindparams(
            *(bindparam(f"{kind}_ids", expanding=True) for kind in served)
        )
        params = match | {"tenant_id": tenant_id} | {f"{kind}_ids": ids for kind, ids in served.items()}
        found = await session.execute(statement, params)
        return {(row.type, int(row.id)): self._html(row.snippet) for row in found}

    def _prepared(
        self, session: AsyncSession, tenant_id: uuid.UUID, query: SearchQuery, terms: list[str]
    ) -> contextlib.AbstractAsyncContextManager[Match]:
        """Around the search's statements: the parameters of the match, and whatever the backend sets up
        for the statements."""
        raise NotImplementedError

    def _with(self, match: Match) -> str:
        """What the statements start with (a WITH clause), or nothing."""
        return ""

    def _typed(self, statement: TextClause) -> TextClause:
        """The statement with the types its parameters are bound with, where the backend needs them."""
        return statement

    def _ranked(self, kind: DocumentType, plan: _Plan, match: Match) -> str:
        """One type's arm: its window's rows after the cursor (columns type, id, public_id, locale, title,
        slug, score), best first, at most ``:limit``. Identifiers come from _TABLES, conditions from _plan
        and the match's parameter names, never from the caller: values are bound."""
        raise NotImplementedError

    def _excerpts(self, kind: DocumentType) -> str:
        """One type's arm of the excerpts (columns type, id, snippet) of the tenant's documents
        ``:<kind>_ids``."""
        raise NotImplementedError

    @staticmethod
    def _html(snippet: str | None) -> str:
        """An excerpt as `_excerpts` made it, as safe HTML."""
        raise NotImplementedError


class _SQLiteUuid(TypeDecorator[uuid.UUID]):
    """A uuid bound as the ORM stores a Uuid column on SQLite: 32 hex characters."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: uuid.UUID | None, dialect: Dialect) -> str | None:
        return None if value is None else value.hex


class SQLiteSearch(_Backend):
    """FTS5: ``MATCH`` on the external-content tables, ``bm25`` with column weights (negated, so higher is
    better), ``snippet`` for the excerpt (the column that matched best). The FTS tables hold every
    tenant's rows: the join to the document row carries the tenant condition. Diacritics are folded by
    the tokenizer (``remove_diacritics 2``): ``cafe`` finds ``café`` and the other way round."""

    # bm25 weights per FTS column: content (title, tags_text, excerpt, body_text), products (title,
    # subtitle, handle, description).
    WEIGHTS = "10.0, 4.0, 4.0, 1.0"
    SNIPPET_TOKENS = 24

    _html = staticmethod(mark)  # snippet() marks with the engine markers, on the raw text

    @contextlib.asynccontextmanager
    async def _prepared(
        self, session: AsyncSession, tenant_id: uuid.UUID, query: SearchQuery, terms: list[str]
    ) -> AsyncIterator[Match]:
        yield {"match": quoted(terms), "open": _OPEN, "close": _CLOSE}

    def _typed(self, statement: TextClause) -> TextClause:
        return statement.bindparams(bindparam("tenant_id", type_=_SQLiteUuid()))

    def _ranked(self, kind: DocumentType, plan: _Plan, match: Match) -> str:
        # The window inside: the newest matches that pass the filters (CROSS JOIN keeps the FTS table the
        # outer loop, walked by rowid, newest first, so it stops after the window and bm25 is computed for
        # the window only). Outside: the rows after the cursor, best first.
        table, public_id, slug, _ = _TABLES[kind]
        return (
            f"SELECT '{kind}' AS type, * FROM (SELECT d.id AS id, d.{public_id} AS public_id, "  # noqa: S608
            f"d.locale AS locale, d.title AS title, d.{slug} AS slug, "
            f"-bm25({table}_fts, {self.WEIGHTS}) AS score "
            f"FROM {table}_fts CROSS JOIN {table} AS d ON d.id = {table}_fts.rowid "
            f"WHERE {table}_fts MATCH :match AND {plan.where} "
            f"ORDER BY {table}_fts.rowid DESC LIMIT :window) "
            f"WHERE {plan.after} ORDER BY score DESC, id LIMIT :limit"
        )

    def _excerpts(self, kind: DocumentType) -> str:
        # The rowid condition is on the FTS table, which looks each row up instead of walking the doclist.
        table = _TABLES[kind][0]
        return (
            f"SELECT '{kind}' AS type, {table}_fts.rowid AS id, "  # noqa: S608
            f"snippet({table}_fts, -1, :open, :close, '…', {self.SNIPPET_TOKENS}) AS snippet "
            f"FROM {table}_fts CROSS JOIN {table} AS d ON d.id = {table}_fts.rowid "
            f"WHERE {table}_fts MATCH :match AND d.tenant_id = :tenant_id "
            f"AND {table}_fts.rowid IN :{kind}_ids"
        )


# The document text HTML-escaped in SQL, before ts_headline adds its marks.
_PG_ESCAPED = (
    "replace(replace(replace(replace(replace(concat_ws(' … ', {body}), "
    "'&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '\"', '&quot;'), '''', '&#x27;')"
)


class PostgreSQLSearch(_Backend):
    """PostgreSQL: ``search_vector @@ websearch_to_tsquery(...)`` on the GIN-indexed column, ranked by
    ``ts_rank_cd`` with the weights of the columns (A title, B tags/excerpt/subtitle/handle, C body), the
    excerpt made by ``ts_headline`` over the escaped text (excerpt and the start of the body).

    A document's vector was made with the configuration of its locale (``rustok_ts_config``). With a
    ``locale`` filter the query is parsed with that configuration; without one it is the OR of the query
    parsed with ``simple`` and with the configuration of each of the tenant's locales, so a word matches
    an English document by its English stem and a Hungarian one by its unstemmed form alike. Diacritics
    are not folded (no ``unaccent``): ``cafe`` does not find ``café`` here, nor the other way round.

    A phrase is found through its word pairs (``phrase_keys``, migration 0009): the GIN index of the
    vectors cannot tell where a word stands, so without them every document holding a phrase's words would
    have its vector read to check their order."""

    WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"  # D, C, B, A
    HEADLINE = (
        "StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, ShortWord=2, MaxFragments=2, "
        'FragmentDelimiter=" … "'
    )
    # The planner settings for the window. The window must come from the GIN bitmap: a sequential scan,
    # or a walk of the filter index, tests ``@@`` row by row on the detoasted vector and is many times
    # slower than the planner estimates for a common word. Serial (not parallel) plans keep the window's
    # rows in one order from page to page; JIT compiling costs more than these statements run; and a plan
    # made for the query's own words (custom) finds the window, where a generic one does not.
    PLANNER = {
        "enable_seqscan": "off",
        "enable_indexscan": "off",
        "max_parallel_workers_per_gather": "0",
        "jit": "off",
        "plan_cache_mode": "force_custom_plan",
    }

    @staticmethod
    def _html(snippet: str | None) -> str:
        return snippet or ""  # ts_headline marked the text escaped in SQL (_PG_ESCAPED) with <mark>

    @contextlib.asynccontextmanager
    async def _prepared(
        self, session: AsyncSession, tenant_id: uuid.UUID, query: SearchQuery, terms: list[str]
    ) -> AsyncIterator[Match]:
        """The query parsed (`_parsings`), and `PLANNER` for the statements inside (``set_config(...,
        true)``, which is ``SET LOCAL``), with the transaction's own settings back after them."""
        names = list(self.PLANNER)
        found = await session.execute(
            text("SELECT " + ", ".join(f"current_setting(:name_{i})" for i in range(len(names)))),
            {f"name_{i}": name for i, name in enumerate(names)},
        )
        before = dict(zip(names, found.one(), strict=True))
        parsings = await self._parsings(session, tenant_id, query.locale, terms)
        # Configurations that parse the text alike (as most do for most words) are searched once.
        tsqueries = sorted({tsquery for tsquery, _ in parsings})
        match: Match = {"options": self.HEADLINE} | {f"tsquery_{i}": tsq for i, tsq in enumerate(tsqueries)}
        if all(keys for _, keys in parsings):  # a parsing that needs no pair: no key is required
            held = sorted({tuple(keys) for _, keys in parsings})
            match |= {f"keys_{i}": list(keys) for i, keys in enumerate(held)}
        await self._set(session, self.PLANNER)
        try:
            yield match
        finally:
            await self._set(session, before)

    @staticmethod
    async def _set(session: AsyncSession, settings: dict[str, str]) -> None:
        params: dict[str, str] = {}
        for i, (name, value) in enumerate(settings.items()):
            params |= {f"name_{i}": name, f"value_{i}": value}
        calls = ", ".join(f"set_config(:name_{i}, :value_{i}, true)" for i in range(len(settings)))
        await session.execute(text(f"SELECT {calls}"), params)

    async def _parsings(
        self, session: AsyncSession, tenant_id: uuid.UUID, locale: str | None, terms: list[str]
    ) -> list[tuple[str, list[int]]]:
        """The terms parsed with each text-search configuration of the query (as ``tsquery`` text), each
        parsing with the phrase keys it requires (migration 0009's ``rustok_phrase_keys``: the word pairs
        of each phrase)."""
        params: dict[str, Any] = {"locale": locale, "tenant_id": tenant_id}
        configs = (
            "SELECT rustok_ts_config(:locale)::text AS config"
            if locale is not None
            else "SELECT rustok_ts_config(locale)::text AS config FROM tenant_locales "
            "WHERE tenant_id = :tenant_id UNION SELECT 'simple'"
        )
        statement = (
            "SELECT websearch_to_tsquery(CAST(config AS regconfig), :q)::text AS tsquery, "  # noqa: S608
            "ARRAY(SELECT DISTINCT key FROM unnest(CAST(:terms AS text[])) AS term, "
            "unnest(rustok_phrase_keys(to_tsvector(CAST(config AS regconfig), term), true)) AS key "
            f"ORDER BY key) AS keys FROM ({configs}) AS configs ORDER BY config"
        )
        params["q"] = quoted(terms)
        # A term of letters and digits only is one word, with no pair: only the others are parsed.
        params["terms"] = [term for term in terms if not term.isalnum()]
        rows = await session.execute(text(statement), params)
        return [(str(row.tsquery), list(row.keys)) for row in rows]

    def _with(self, match: Match) -> str:
        # The query: the OR of the text's parsings (a tsquery's text is cast back to that same tsquery).
        names = sorted(name for name in match if name.startswith("tsquery_"))
        tsquery = " || ".join(f"CAST(:{name} AS tsquery)" for name in names)
        return f"WITH query AS (SELECT {tsquery} AS q) "

    def _ranked(self, kind: DocumentType, plan: _Plan, match: Match) -> str:
        # The window (`_window`), ranked; the rows after the cursor, best first.
        return (
            f"SELECT '{kind}' AS type, * FROM (SELECT id, public_id, locale, title, slug, "  # noqa: S608
            f"ts_rank_cd('{self.WEIGHTS}'::float4[], search_vector, query.q)::float8 AS score FROM ("
            f"{self._window(kind, plan, match)}) AS candidates, query) AS ranked "
            f"WHERE {plan.after} ORDER BY score DESC, id LIMIT :limit"
        )

    @staticmethod
    def _window(kind: DocumentType, plan: _Plan, match: Match) -> str:
        """The window's document rows: the first matches a GIN bitmap yields that pass the filters (no ORDER
        BY, so the scan stops at the window), from one of two indexes.

        - With phrase keys, the documents holding the keys of any parsing are read from their index
          (migration 0009), and only their vectors are checked (``ts_match_vq`` is ``@@`` in function form,
          which the planner does not take to the vectors' index: that one would yield every document
          holding the phrase's words, to be checked the same way).
        - Otherwise the documents whose head (title, tags, excerpt; migration 0010) matches come first,
          then those matching in the body only. A bitmap holds every match before its first row is read,
          and heads are a fraction of the text: for a common word the heads fill the window, and the
          whole vectors' bitmap, several times larger, is never made (the second arm of the UNION ALL
          only runs when the first ends short of the window)."""
        table, public_id, slug, _ = _TABLES[kind]
        columns = f"d.id, d.{public_id} AS public_id, d.locale, d.title, d.{slug} AS slug, d.search_vector"
        keys = sorted(name for name in match if name.startswith("keys_"))
        if keys:
            held = " OR ".join(f"d.phrase_keys @> :{name}" for name in keys)
            return (
                f"SELECT {columns} FROM {table} AS d, query "  # noqa: S608
                f"WHERE ({held}) AND ts_match_vq(d.search_vector, query.q) AND {plan.where} LIMIT :window"
            )
        return (
            f"SELECT * FROM ((SELECT {columns} FROM {table} AS d, query "  # noqa: S608
            f"WHERE d.head_vector @@ query.q AND {plan.where} LIMIT :window) UNION ALL "
            f"(SELECT {columns} FROM {table} AS d, query WHERE d.search_vector @@ query.q "
            f"AND NOT d.head_vector @@ query.q AND {plan.where} LIMIT :window)) AS tiers LIMIT :window"
        )

    def _excerpts(self, kind: DocumentType) -> str:
        table, _, _, body = _TABLES[kind]
        escaped = _PG_ESCAPED.format(body=body)
        return (
            f"SELECT '{kind}' AS type, d.id, "  # noqa: S608
            f"ts_headline(rustok_ts_config(d.locale), {escaped}, query.q, :options) AS snippet "
            f"FROM {table} AS d, query WHERE d.tenant_id = :tenant_id AND d.id IN :{kind}_ids"
        )


def _terms(query: SearchQuery) -> list[str]:
    if not query.text.strip():
        raise Unprocessable("Say what to search for.", code="empty_query")
    if not 1 <= query.limit <= MAX_LIMIT:
        raise Unprocessable(f"limit is 1 to {MAX_LIMIT}.", code="invalid_limit")
    return parse_terms(query.text)


def _types(query: SearchQuery) -> tuple[DocumentType, ...]:
    # A kind is a content filter: products have none, so a search by kind finds content only.
    return tuple(kind for kind in query.types if query.kind is None or kind == "content")


def _page(hits: list[SearchHit], limit: int) -> SearchPage:
    """The best ``limit`` of the hits of every type, with the cursor after the last when more remain."""
    hits.sort(key=lambda hit: (-hit.score, TYPES.index(hit.type), hit.document_id))
    if len(hits) <= limit:
        return SearchPage(hits)
    served = hits[:limit]
    return SearchPage(served, encode_after(served[-1]))


BACKENDS: dict[str, SearchBackend] = {"sqlite": SQLiteSearch(), "postgresql": PostgreSQLSearch()}


def backend_for(session: AsyncSession) -> SearchBackend:
    """The search backend of the session's database."""
    dialect = session.get_bind().dialect.name
    try:
        return BACKENDS[dialect]
    except KeyError:
        raise RuntimeError(f"no search backend for the {dialect} dialect") from None


async def search(session: AsyncSession, tenant_id: uuid.UUID, query: SearchQuery) -> SearchPage:
    """Search the tenant's index with the backend of the session's database."""
    return await backend_for(session).search(session, tenant_id, query)
