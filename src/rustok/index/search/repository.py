"""The search's SQL: one repository per database, SQLite FTS5 (`SQLiteSearchRepository`) and PostgreSQL
text search (`PostgreSQLSearchRepository`), chosen by the session's dialect (`search_repository`).

**The tenant comes from the session.** A repository searches the tenant its session is scoped to
(`rustok.core.tenancy.scope_of`), never one handed in by its caller; a session with no tenant scope, or the
platform scope, raises `TenantScopeError` before any statement runs. Every statement here is raw SQL
(``sqlalchemy.text``): FTS5's ``MATCH``, ``bm25`` and ``snippet`` and PostgreSQL's ``@@``, ``ts_rank_cd``
and ``ts_headline`` have no ORM form worth having, and raw SQL bypasses the ORM's tenant scoping entirely.
So every ``SELECT`` here that reads a tenant table names the tenant itself (``tenant_id = :tenant_id``,
bound to the scope's tenant); ``tests/unit/test_search_statements.py`` renders every statement of both
repositories for every combination of filters the API allows and fails on one without it.

**Builders bind, never interpolate values.** Each statement is built by a method that returns a
``TextClause`` with all its values bound (`bound`): the text, locale, kind, ids, cursor, limit and window
of a search, and the tenant, are bound parameters, whatever they hold. What is written into the SQL text
is fixed by this module: the table and column names of `_TABLES`, the type names of ``TYPES`` (a closed
set, looked up in `_TABLES`), the weights and snippet size of each repository's class constants, and
parameter names made of those and of counters. A statement that names a parameter with no value is a bug
of its builder and raises at once, before it is sent.

**The rank window.** An engine that scores every match before taking the best 20 spends its time in
proportion to the number of matches: a common word matches tens of thousands of documents, and scoring
them is what makes such a search slow. So each search scores at most ``SearchQuery.window`` matching
documents per type (`RANK_WINDOW` by default, ``RUSTOK_SEARCH_RANK_WINDOW``): the first the engine's index
yields, which on SQLite are the most recently indexed (FTS5 walks its doclists by rowid, newest first
here) and on PostgreSQL those whose title, tags or excerpt match first, then those matching in the body
only, each in storage order (a GIN bitmap is walked by heap page; see `PostgreSQLSearchRepository._window`).
The window is ranked, and pages are served from it, best first; a query matching more documents than the
window serves only those in it (as search engines cap the depth of a result list), and a narrower query
(another word, a ``locale`` or ``kind``) reaches the rest. The window is the same for every page of one
query while the documents do not change, so the cursor stays consistent.

Content and products, when both are searched, are merged by score (the scores of one backend are of one
kind, so this is a rough but stable merge). Excerpts are HTML: the document text escaped, with the matched
words wrapped in ``<mark>``…``</mark>``.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from sqlalchemy import Dialect, String, TextClause, TypeDecorator, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.sqltypes import NULLTYPE
from sqlalchemy.types import TypeEngine

from rustok.core.tenancy import TenantScopeError, scope_of
from rustok.index.search.query import (
    CLOSE,
    OPEN,
    PUBLISHED,
    After,
    DocumentType,
    SearchHit,
    SearchPage,
    SearchQuery,
    decode_after,
    mark,
    page_of,
    quoted,
    terms_of,
    types_of,
)

Match = dict[str, Any]  # the parameters of the match, shared by a search's statements

# The parameters a text() statement names (the pattern SQLAlchemy's text() itself uses; ``::`` casts are
# not parameters).
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


def bound(
    sql: str,
    values: Mapping[str, Any],
    *,
    types: Mapping[str, TypeEngine[Any]] | None = None,
    expanding: Collection[str] = (),
) -> TextClause:
    """``sql`` as a statement with each parameter it names bound to its value in ``values`` (values it
    does not name are left out). Parameters are bound untyped, as the driver takes them, unless ``types``
    names a type; ``expanding`` ones are lists (``IN :ids``). Raises `RuntimeError` for a parameter with
    no value: the statement's builder is wrong."""
    names = list(dict.fromkeys(_BIND.findall(sql)))
    missing = [name for name in names if name not in values]
    if missing:
        raise RuntimeError(f"the statement names parameters it was given no value for: {missing}")
    types = types or {}
    return text(sql).bindparams(
        *(
            bindparam(name, values[name], type_=types.get(name, NULLTYPE), expanding=name in expanding)
            for name in names
        )
    )


# ------------------------------------------------------------------------------------- the shared parts


@dataclass(frozen=True, slots=True)
class _Table:
    """A type's read model: identifiers written into the SQL text (constants of this module only)."""

    name: str
    public_id: str  # the node's or product's id column
    slug: str  # the slug column
    pg_excerpt_text: str  # the columns the PostgreSQL excerpt is made from


_TABLES: dict[DocumentType, _Table] = {
    "content": _Table("index_content", "node_id", "slug", "d.excerpt, left(d.body_text, 20000)"),
    "product": _Table("index_products", "product_id", "handle", "d.subtitle, left(d.description, 20000)"),
}


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


@dataclass(frozen=True, slots=True)
class _Plan:
    """One type's conditions and parameters, shared by the repositories: ``where`` on the document row
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


def scoped_tenant(session: AsyncSession) -> uuid.UUID:
    """The tenant of the session's scope; `TenantScopeError` for no scope or the platform scope (search
    reads one tenant's documents, never all of them)."""
    scope = scope_of(session)
    if scope is None or scope.platform or scope.tenant_id is None:
        raise TenantScopeError("search reads one tenant's documents: it needs a tenant-scoped session")
    return scope.tenant_id


class SearchRepository:
    """What both repositories do, in two statements: the ranked windows of every type searched, merged
    best first into one page (each type an arm of a UNION ALL), then the excerpts of the hits served, only
    them (an excerpt is the costliest part of a hit). The statement builders (`page_statement`,
    `excerpts_statement`, and a repository's own) do no I/O: they can be rendered without a database."""

    # Parameters bound with a type (the rest go to the driver as they are).
    TYPES: ClassVar[Mapping[str, TypeEngine[Any]]] = {}

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def tenant_id(self) -> uuid.UUID:
        """The tenant of the session's scope: the only tenant this repository reads."""
        return scoped_tenant(self.session)

    async def search(self, query: SearchQuery) -> SearchPage:
        """One page of the scope's tenant's documents that match ``query``, best first."""
        scoped_tenant(self.session)  # a session without a tenant is refused before anything else
        terms = terms_of(query)
        after = decode_after(query.cursor)
        if not terms or not types_of(query):
            return SearchPage([])
        async with self._prepared(query, terms) as match:
            rows = await self.session.execute(self.page_statement(query, match, after))
            page = page_of([_hit(row) for row in rows], query.limit)
            statement = self.excerpts_statement(page.items, match)
            excerpts: dict[tuple[str, int], str] = {}
            if statement is not None:
                found = await self.session.execute(statement)
                excerpts = {(row.type, int(row.id)): self._html(row.snippet) for row in found}
        items = [replace(hit, excerpt=excerpts.get((hit.type, hit.document_id), "")) for hit in page.items]
        return SearchPage(items, page.next_cursor)

    def page_statement(self, query: SearchQuery, match: Match, after: After | None) -> TextClause:
        """The page: every searched type's window ranked (`_ranked`), merged best first, at most
        ``limit + 1`` rows (one more tells that a next page exists)."""
        tenant_id = self.tenant_id
        types = types_of(query)
        if not types:
            raise ValueError("the query searches no type: there is no statement to build")
        plans = {kind: _plan(kind, tenant_id, query, after) for kind in types}
        arms = " UNION ALL ".join(
            f"SELECT * FROM ({self._ranked(kind, plan, match)}) AS {kind}_hits"  # noqa: S608
            for kind, plan in plans.items()
        )
        sql = (
            f"{self._with(match)}SELECT * FROM ({arms}) AS hits "  # noqa: S608
            "ORDER BY score DESC, type, id LIMIT :limit"
        )
        params = match | {key: value for plan in plans.values() for key, value in plan.params.items()}
        return bound(sql, params, types=self.TYPES)

    def excerpts_statement(self, hits: Sequence[SearchHit], match: Match) -> TextClause | None:
        """The excerpts of the hits served (columns type, id, snippet), None when there are none."""
        served: dict[DocumentType, list[int]] = {}
        for hit in hits:
            served.setdefault(hit.type, []).append(hit.document_id)
        if not served:
            return None
        sql = f"{self._with(match)}" + " UNION ALL ".join(self._excerpts(kind) for kind in served)
        params = match | {"tenant_id": self.tenant_id} | {f"{kind}_ids": ids for kind, ids in served.items()}
        return bound(sql, params, types=self.TYPES, expanding=[f"{kind}_ids" for kind in served])

    def _prepared(
        self, query: SearchQuery, terms: list[str]
    ) -> contextlib.AbstractAsyncContextManager[Match]:
        """Around the search's statements: the parameters of the match, and whatever the repository sets
        up for the statements."""
        raise NotImplementedError

    def _with(self, match: Match) -> str:
        """What the statements start with (a WITH clause), or nothing."""
        return ""

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


# ------------------------------------------------------------------------------------------------ SQLite


class _SQLiteUuid(TypeDecorator[uuid.UUID]):
    """A uuid bound as the ORM stores a Uuid column on SQLite: 32 hex characters."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: uuid.UUID | None, dialect: Dialect) -> str | None:
        return None if value is None else value.hex


class SQLiteSearchRepository(SearchRepository):
    """FTS5: ``MATCH`` on the external-content tables, ``bm25`` with column weights (negated, so higher is
    better), ``snippet`` for the excerpt (the column that matched best). The FTS tables hold every
    tenant's rows: the join to the document row carries the tenant condition. Diacritics are folded by
    the tokenizer (``remove_diacritics 2``): ``cafe`` finds ``café`` and the other way round."""

    TYPES: ClassVar[Mapping[str, TypeEngine[Any]]] = {"tenant_id": _SQLiteUuid()}
    # bm25 weights per FTS column: content (title, tags_text, excerpt, body_text), products (title,
    # subtitle, handle, description).
    WEIGHTS = "10.0, 4.0, 4.0, 1.0"
    SNIPPET_TOKENS = 24

    _html = staticmethod(mark)  # snippet() marks with the engine markers, on the raw text

    @staticmethod
    def match_of(terms: list[str]) -> Match:
        """The match's parameters: the FTS5 query (the terms quoted) and the snippet's markers."""
        return {"match": quoted(terms), "open": OPEN, "close": CLOSE}

    @contextlib.asynccontextmanager
    async def _prepared(self, query: SearchQuery, terms: list[str]) -> AsyncIterator[Match]:
        yield self.match_of(terms)

    def _ranked(self, kind: DocumentType, plan: _Plan, match: Match) -> str:
        # The window inside: the newest matches that pass the filters (CROSS JOIN keeps the FTS table the
        # outer loop, walked by rowid, newest first, so it stops after the window and bm25 is computed for
        # the window only). Outside: the rows after the cursor, best first.
        table = _TABLES[kind]
        fts = f"{table.name}_fts"
        return (
            f"SELECT '{kind}' AS type, * FROM (SELECT d.id AS id, d.{table.public_id} AS public_id, "  # noqa: S608
            f"d.locale AS locale, d.title AS title, d.{table.slug} AS slug, "
            f"-bm25({fts}, {self.WEIGHTS}) AS score "
            f"FROM {fts} CROSS JOIN {table.name} AS d ON d.id = {fts}.rowid "
            f"WHERE {fts} MATCH :match AND {plan.where} "
            f"ORDER BY {fts}.rowid DESC LIMIT :window) "
            f"WHERE {plan.after} ORDER BY score DESC, id LIMIT :limit"
        )

    def _excerpts(self, kind: DocumentType) -> str:
        # The rowid condition is on the FTS table, which looks each row up instead of walking the doclist.
        table = _TABLES[kind]
        fts = f"{table.name}_fts"
        return (
            f"SELECT '{kind}' AS type, {fts}.rowid AS id, "  # noqa: S608
            f"snippet({fts}, -1, :open, :close, '…', {self.SNIPPET_TOKENS}) AS snippet "
            f"FROM {fts} CROSS JOIN {table.name} AS d ON d.id = {fts}.rowid "
            f"WHERE {fts} MATCH :match AND d.tenant_id = :tenant_id "
            f"AND {fts}.rowid IN :{kind}_ids"
        )


# -------------------------------------------------------------------------------------------- PostgreSQL

# The document text HTML-escaped in SQL, before ts_headline adds its marks.
_PG_ESCAPED = (
    "replace(replace(replace(replace(replace(concat_ws(' … ', {body}), "
    "'&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '\"', '&quot;'), '''', '&#x27;')"
)

Parsing = tuple[str, list[int]]  # a tsquery's text and the phrase keys it requires


class PostgreSQLSearchRepository(SearchRepository):
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
    have its vector read to check their order.

    Six statements per search: the transaction's planner settings read (`settings_statement`), the query
    parsed (`parsings_statement`), `PLANNER` set (`set_statement`), the page, the excerpts, the settings
    set back."""

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
    async def _prepared(self, query: SearchQuery, terms: list[str]) -> AsyncIterator[Match]:
        """The query parsed (`parsings_statement`), and `PLANNER` for the statements inside
        (``set_config(..., true)``, which is ``SET LOCAL``), with the transaction's own settings back
        after them."""
        names = list(self.PLANNER)
        found = await self.session.execute(self.settings_statement(names))
        before = dict(zip(names, found.one(), strict=True))
        rows = await self.session.execute(self.parsings_statement(query.locale, terms))
        match = self.match_of([(str(row.tsquery), list(row.keys)) for row in rows])
        await self.session.execute(self.set_statement(self.PLANNER))
        try:
            yield match
        finally:
            await self.session.execute(self.set_statement(before))

    def match_of(self, parsings: Sequence[Parsing]) -> Match:
        """The match's parameters from the query's parsings: each distinct tsquery (configurations that
        parse the text alike, as most do for most words, are searched once), the phrase keys of each
        parsing when every parsing requires some, and the headline's options."""
        tsqueries = sorted({tsquery for tsquery, _ in parsings})
        match: Match = {"options": self.HEADLINE} | {f"tsquery_{i}": tsq for i, tsq in enumerate(tsqueries)}
        if all(keys for _, keys in parsings):  # a parsing that needs no pair: no key is required
            held = sorted({tuple(keys) for _, keys in parsings})
            match |= {f"keys_{i}": list(keys) for i, keys in enumerate(held)}
        return match

    @staticmethod
    def settings_statement(names: Sequence[str]) -> TextClause:
        """The current values of the settings ``names``, one column each."""
        calls = ", ".join(f"current_setting(:name_{i})" for i in range(len(names)))
        return bound(f"SELECT {calls}", {f"name_{i}": name for i, name in enumerate(names)})

    @staticmethod
    def set_statement(settings: Mapping[str, str]) -> TextClause:
        """``settings`` for the rest of the transaction (``set_config(name, value, true)``)."""
        params: dict[str, str] = {}
        for i, (name, value) in enumerate(settings.items()):
            params |= {f"name_{i}": name, f"value_{i}": value}
        calls = ", ".join(f"set_config(:name_{i}, :value_{i}, true)" for i in range(len(settings)))
        return bound(f"SELECT {calls}", params)

    def parsings_statement(self, locale: str | None, terms: list[str]) -> TextClause:
        """The terms parsed with each text-search configuration of the query (as ``tsquery`` text), each
        parsing with the phrase keys it requires (migration 0009's ``rustok_phrase_keys``: the word pairs
        of each phrase). Without a locale, the configurations are those of the tenant's locales (read
        with the tenant condition) and ``simple``."""
        configs = (
            "SELECT rustok_ts_config(:locale)::text AS config"
            if locale is not None
            else "SELECT rustok_ts_config(locale)::text AS config FROM tenant_locales "
            "WHERE tenant_id = :tenant_id UNION SELECT 'simple'"
        )
        sql = (
            "SELECT websearch_to_tsquery(CAST(config AS regconfig), :q)::text AS tsquery, "  # noqa: S608
            "ARRAY(SELECT DISTINCT key FROM unnest(CAST(:terms AS text[])) AS term, "
            "unnest(rustok_phrase_keys(to_tsvector(CAST(config AS regconfig), term), true)) AS key "
            f"ORDER BY key) AS keys FROM ({configs}) AS configs ORDER BY config"
        )
        params: dict[str, Any] = {
            "locale": locale,
            "tenant_id": self.tenant_id,
            "q": quoted(terms),
            # A term of letters and digits only is one word, with no pair: only the others are parsed.
            "terms": [term for term in terms if not term.isalnum()],
        }
        return bound(sql, params, types=self.TYPES)

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
        table = _TABLES[kind]
        public_id, slug = table.public_id, table.slug
        columns = f"d.id, d.{public_id} AS public_id, d.locale, d.title, d.{slug} AS slug, d.search_vector"
        keys = sorted(name for name in match if name.startswith("keys_"))
        if keys:
            held = " OR ".join(f"d.phrase_keys @> :{name}" for name in keys)
            return (
                f"SELECT {columns} FROM {table.name} AS d, query "  # noqa: S608
                f"WHERE ({held}) AND ts_match_vq(d.search_vector, query.q) AND {plan.where} LIMIT :window"
            )
        return (
            f"SELECT * FROM ((SELECT {columns} FROM {table.name} AS d, query "  # noqa: S608
            f"WHERE d.head_vector @@ query.q AND {plan.where} LIMIT :window) UNION ALL "
            f"(SELECT {columns} FROM {table.name} AS d, query WHERE d.search_vector @@ query.q "
            f"AND NOT d.head_vector @@ query.q AND {plan.where} LIMIT :window)) AS tiers LIMIT :window"
        )

    def _excerpts(self, kind: DocumentType) -> str:
        table = _TABLES[kind]
        escaped = _PG_ESCAPED.format(body=table.pg_excerpt_text)
        return (
            f"SELECT '{kind}' AS type, d.id, "  # noqa: S608
            f"ts_headline(rustok_ts_config(d.locale), {escaped}, query.q, :options) AS snippet "
            f"FROM {table.name} AS d, query WHERE d.tenant_id = :tenant_id AND d.id IN :{kind}_ids"
        )


REPOSITORIES: dict[str, type[SearchRepository]] = {
    "sqlite": SQLiteSearchRepository,
    "postgresql": PostgreSQLSearchRepository,
}


def search_repository(session: AsyncSession) -> SearchRepository:
    """The search repository of the session's database, searching the session's tenant."""
    dialect = session.get_bind().dialect.name
    try:
        return REPOSITORIES[dialect](session)
    except KeyError:
        raise RuntimeError(f"no search repository for the {dialect} dialect") from None
