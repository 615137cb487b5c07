"""Every raw statement of both search repositories names the tenant of the session's scope.

The search's statements are ``text()`` (FTS5 and ``tsvector`` have no ORM form), which the session's tenant
scoping does not reach (`rustok.core.tenancy`). So this renders, with each backend's dialect, every
statement the repositories' builders make for every combination of filters the API allows (types, kind,
locale, drafts shown or hidden, cursors after either type, one word, several, phrases; on PostgreSQL with
and without phrase keys, one parsing or several), and checks that each ``SELECT`` that reads a tenant table,
at whatever depth, carries ``tenant_id = :tenant_id`` itself, bound to the scope's tenant. It also checks
that what a caller sends never reaches the SQL text, and that a session without a tenant scope is refused
before any statement is built. No database: the builders do no I/O, and an unbound session fails any
statement it would run."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import TextClause
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from rustok import modules
from rustok.core.errors import Unprocessable
from rustok.core.models import TENANT_TABLES
from rustok.core.tenancy import TenantScope, TenantScopeError, bind_scope
from rustok.index.search import (
    TYPES,
    PostgreSQLSearchRepository,
    SearchHit,
    SearchQuery,
    SearchRepository,
    SQLiteSearchRepository,
    parse_terms,
)
from rustok.index.search.query import After, decode_after, encode_after
from rustok.index.search.repository import bound

TENANT = uuid.UUID("0190aaaa-0000-7000-8000-000000000001")
DIALECTS: dict[type[SearchRepository], Dialect] = {
    SQLiteSearchRepository: sqlite.dialect(paramstyle="named"),
    PostgreSQLSearchRepository: asyncpg.dialect(paramstyle="named"),  # type: ignore[no-untyped-call]
}
TEXTS = ["swift", "swift heron", '"heron dives"', 'swift "heron dives" owl']
# What the PostgreSQL parsings statement may answer: one parsing without pairs, several alike, several
# different, with phrase keys, and one of several without keys (then no key is required).
PARSINGS: list[list[tuple[str, list[int]]]] = [
    [("'swift'", [])],
    [("'swift'", []), ("'swift'", []), ("'swift' & 'heron'", [])],
    [("'heron' <-> 'dive'", [11, 12]), ("'heron' <-> 'dives'", [13])],
    [("'heron' <-> 'dive'", [11]), ("'heron' & 'dive'", [])],
]
_LITERAL = re.compile(r"'(?:[^']|'')*'")
_UNION = re.compile(r"\bUNION(?:\s+ALL)?\b", re.IGNORECASE)


def tenant_tables() -> set[str]:
    modules.load_models()
    return {table.name for table in TENANT_TABLES}


def levels(sql: str) -> Iterator[str]:
    """Each parenthesized level of ``sql`` (and the top one), with its inner levels cut out as ``()``:
    a level's text is what one SELECT (or UNION of SELECTs) says itself. String literals are emptied
    first, so a parenthesis or a table name inside one counts for nothing."""
    stack: list[list[str]] = [[]]
    for char in _LITERAL.sub("''", sql):
        if char == "(":
            stack.append([])
        elif char == ")":
            inner = "".join(stack.pop())
            yield inner
            stack[-1].append("()")
        else:
            stack[-1].append(char)
    assert len(stack) == 1, f"unbalanced parentheses in {sql}"
    yield "".join(stack[0])


def selects(sql: str) -> Iterator[str]:
    """Every SELECT of ``sql`` at its own level (a UNION's arms apart)."""
    for level in levels(sql):
        for part in _UNION.split(level):
            if re.search(r"\bSELECT\b", part, re.IGNORECASE):
                yield part


def check_tenant(statement: TextClause, dialect: Dialect) -> list[str]:
    """The rendered SELECTs of ``statement`` that read a tenant table without naming the tenant (asserting
    that the tenant bound is the scope's). Returns the SELECTs that read tenant tables, for the caller to
    know there were some."""
    compiled = statement.compile(dialect=dialect)
    sql = str(compiled)
    names = tenant_tables()
    reading: list[str] = []
    for select in selects(sql):
        tables = {name for name in names if re.search(rf"\b{name}\b", select)}
        if not tables:
            continue
        reading.append(select)
        assert re.search(r"\b(?:\w+\.)?tenant_id = :tenant_id\b", select), (
            f"a SELECT on {sorted(tables)} without the tenant condition:\n{select}\n\nin:\n{sql}"
        )
    if reading:
        assert compiled.params["tenant_id"] == TENANT, compiled.params
    return reading


def repository(kind: type[SearchRepository], scope: TenantScope | None = None) -> SearchRepository:
    session = AsyncSession()  # bound to no database: a statement it would run fails
    bind_scope(session, TenantScope.of(TENANT) if scope is None else scope)
    return kind(session)


def queries() -> Iterator[SearchQuery]:
    """Every filter combination the API allows (``type``, ``kind``, ``locale``, who sees drafts, cursors),
    for each text."""
    cursors: list[str | None] = [None]
    for after_type in TYPES:
        hit = SearchHit(after_type, uuid.uuid4(), 42, "en", "t", "", "s", 1.5)
        cursors.append(encode_after(hit))
    for text, types, kind, locale, drafts, cursor in itertools.product(
        TEXTS,
        [TYPES, ("content",), ("product",)],
        [None, "post"],
        [None, "en"],
        [(True, True), (False, True), (True, False), (False, False)],
        cursors,
    ):
        yield SearchQuery(
            text=text,
            types=types,
            kind=kind,
            locale=locale,
            published_content_only=drafts[0],
            published_products_only=drafts[1],
            cursor=cursor,
        )


def matches(kind: type[SearchRepository], text: str) -> list[dict[str, object]]:
    repo = repository(kind)
    if isinstance(repo, SQLiteSearchRepository):
        return [repo.match_of(parse_terms(text))]
    assert isinstance(repo, PostgreSQLSearchRepository)
    return [repo.match_of(parsings) for parsings in PARSINGS]


def hits_of(types: tuple[str, ...]) -> list[SearchHit]:
    return [
        SearchHit("content" if t == "content" else "product", uuid.uuid4(), n, "en", "t", "", "s", 1.0)
        for n, t in enumerate(types * 2, start=1)
    ]


@pytest.mark.parametrize("kind", list(DIALECTS), ids=lambda k: k.__name__)
def test_every_page_and_excerpt_statement_names_the_scopes_tenant(kind: type[SearchRepository]) -> None:
    repo, dialect = repository(kind), DIALECTS[kind]
    pages = excerpts = 0
    for query in queries():
        after: After | None = decode_after(query.cursor)
        for match in matches(kind, query.text):
            if any(t == "content" or query.kind is None for t in query.types):
                reading = check_tenant(repo.page_statement(query, match, after), dialect)
                # One SELECT per document table read: each type's window (PostgreSQL: two tiers or keys).
                assert len(reading) >= len({t for t in query.types if query.kind is None or t == "content"})
                pages += 1
            for served in [("content",), ("product",), ("content", "product")]:
                statement = repo.excerpts_statement(hits_of(served), match)
                assert statement is not None
                assert len(check_tenant(statement, dialect)) == len(served)
                excerpts += 1
    # 4 texts x 3 type filters x 2 kinds x 2 locales x 4 draft rules x 3 cursors, less the searches of
    # products by kind (none: no statement), times the matches of each text.
    per_text = len(matches(kind, "swift"))
    assert pages == (576 - 96) * per_text
    assert excerpts == 576 * per_text * 3


def test_the_postgresql_parsings_read_the_tenants_locales_only() -> None:
    repo, dialect = repository(PostgreSQLSearchRepository), DIALECTS[PostgreSQLSearchRepository]
    assert isinstance(repo, PostgreSQLSearchRepository)
    for text in TEXTS:
        # Without a locale, the configurations are the tenant's locales' (tenant_locales, with its tenant).
        assert len(check_tenant(repo.parsings_statement(None, parse_terms(text)), dialect)) == 1
        # With one, no table is read.
        assert check_tenant(repo.parsings_statement("en", parse_terms(text)), dialect) == []
    # The planner settings' statements read no table.
    assert check_tenant(repo.settings_statement(list(repo.PLANNER)), dialect) == []
    assert check_tenant(repo.set_statement(repo.PLANNER), dialect) == []


def test_the_level_parser_sees_a_select_without_its_tenant() -> None:
    """Guards the guard: a sub-SELECT that forgets the tenant, or one that names another parameter, is
    caught even when its parent names the tenant."""
    dialect = DIALECTS[SQLiteSearchRepository]
    forgetful = bound(
        "SELECT * FROM index_content AS d WHERE d.tenant_id = :tenant_id AND d.id IN "
        "(SELECT id FROM index_products WHERE locale = ':tenant_id')",
        {"tenant_id": TENANT},
    )
    with pytest.raises(AssertionError, match="index_products"):
        check_tenant(forgetful, dialect)
    other = bound("SELECT 1 FROM tenant_locales WHERE tenant_id = :tenant_idx", {"tenant_idx": TENANT})
    with pytest.raises(AssertionError, match="tenant_locales"):
        check_tenant(other, dialect)


@pytest.mark.parametrize("kind", list(DIALECTS), ids=lambda k: k.__name__)
def test_what_the_caller_sends_is_bound_never_written_into_the_sql(kind: type[SearchRepository]) -> None:
    repo, dialect = repository(kind), DIALECTS[kind]
    hostile = "x' OR tenant_id <> :tenant_id OR 'y"
    query = SearchQuery(text=f"swift {hostile}", locale=hostile, kind=hostile, types=("content",))
    for match in matches(kind, query.text):
        page = repo.page_statement(query, match, None).compile(dialect=dialect)
        assert (page.params["locale"], page.params["kind"]) == (hostile, hostile)
        excerpts = repo.excerpts_statement(hits_of(TYPES), match)
        assert excerpts is not None
        statements = [page, excerpts.compile(dialect=dialect)]
        if isinstance(repo, PostgreSQLSearchRepository):
            parsings = repo.parsings_statement(hostile, parse_terms(query.text)).compile(dialect=dialect)
            assert parsings.params["locale"] == hostile
            statements.append(parsings)
        for compiled in statements:
            assert "<>" not in str(compiled)
            assert "OR tenant_id" not in str(compiled)


def test_a_builder_naming_a_parameter_it_has_no_value_for_fails_at_once() -> None:
    with pytest.raises(RuntimeError, match="tenant_id"):
        bound("SELECT id FROM index_content AS d WHERE d.tenant_id = :tenant_id", {})


@pytest.mark.parametrize("kind", list(DIALECTS), ids=lambda k: k.__name__)
@pytest.mark.parametrize("scope", [None, TenantScope.all_tenants()], ids=["no scope", "platform scope"])
async def test_search_needs_a_tenant_scope(kind: type[SearchRepository], scope: TenantScope | None) -> None:
    session = AsyncSession()
    bind_scope(session, scope)
    repo = kind(session)
    with pytest.raises(TenantScopeError):
        await repo.search(SearchQuery(text="swift"))
    with pytest.raises(TenantScopeError):
        repo.page_statement(SearchQuery(text="swift"), {"match": "x"}, None)


@pytest.mark.parametrize("kind", list(DIALECTS), ids=lambda k: k.__name__)
async def test_a_search_with_nothing_to_search_runs_no_statement(kind: type[SearchRepository]) -> None:
    """No term (only punctuation), or no type left (a kind among products only): an empty page, from a
    session bound to no database, so no statement ran. An empty text is a 422."""
    repo = repository(kind)
    assert (await repo.search(SearchQuery(text='"" * -'))).items == []
    assert (await repo.search(SearchQuery(text="swift", types=("product",), kind="post"))).items == []
    with pytest.raises(Unprocessable):
        await repo.search(SearchQuery(text="  "))
    with pytest.raises(ValueError, match="no type"):
        repo.page_statement(SearchQuery(text="swift", types=("product",), kind="post"), {}, None)
