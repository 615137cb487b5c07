"""Full-text search over the index read models (``index_content``, ``index_products``), one repository per
database: SQLite FTS5 and PostgreSQL text search, chosen by the session's dialect.

- `rustok.index.search.query`: what a search asks and answers (`SearchQuery`, `SearchHit`, `SearchPage`),
  the parsing of the user's text, the cursor, the excerpts' HTML. No SQL.
- `rustok.index.search.repository`: the statements, built with every value bound, each naming the tenant
  of the session's scope (`SQLiteSearchRepository`, `PostgreSQLSearchRepository`, `search_repository`).

`search(session, query)` searches the tenant the session is scoped to; there is no tenant argument."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rustok.index.search.query import (
    RANK_WINDOW,
    TYPES,
    DocumentType,
    SearchHit,
    SearchPage,
    SearchQuery,
    mark,
    parse_terms,
    quoted,
)
from rustok.index.search.repository import (
    PostgreSQLSearchRepository,
    SearchRepository,
    SQLiteSearchRepository,
    search_repository,
)

__all__ = [
    "RANK_WINDOW",
    "TYPES",
    "DocumentType",
    "PostgreSQLSearchRepository",
    "SQLiteSearchRepository",
    "SearchHit",
    "SearchPage",
    "SearchQuery",
    "SearchRepository",
    "mark",
    "parse_terms",
    "quoted",
    "search",
    "search_repository",
]


async def search(session: AsyncSession, query: SearchQuery) -> SearchPage:
    """One page of the session's tenant's documents that match ``query``, best first, with the repository
    of the session's database. `TenantScopeError` when the session has no tenant scope."""
    return await search_repository(session).search(query)
