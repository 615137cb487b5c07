"""The index module's route: ``GET /api/search``, full-text search over the read models
(`rustok.index.search`) of the request's tenant, which the search takes from the unit of work's scope.
Anonymous callers and customers find published content and active products; staff who may update nodes
(or products) in the whole tenant find drafts too."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from rustok.core.deps import ContextDep
from rustok.core.errors import problem_responses
from rustok.core.permissions import Scope
from rustok.core.routing import make_router
from rustok.core.security import Principal, grant_of, requires
from rustok.index import search as engine
from rustok.index.schemas import SearchHitOut, SearchPageOut, SearchParams, SearchType

router = make_router(prefix="/api", tags=["search"])


@router.get(
    "/search",
    response_model=SearchPageOut,
    summary="Search content and products (anonymous callers: published ones)",
    responses=problem_responses(400, 422),
)
async def search(
    ctx: ContextDep,
    principal: Annotated[Principal, requires("search:read")],
    params: Annotated[SearchParams, Query()],
) -> SearchPageOut:
    """Full-text search over the tenant's content and products, best match first (a title match ranks
    above a body match). Query syntax is never an error: every word is searched as a word. Anonymous
    callers and customers find published content and active products; staff find drafts too."""
    types: tuple[engine.DocumentType, ...] = engine.TYPES if params.type is None else (params.type.value,)
    query = engine.SearchQuery(
        text=params.q,
        types=types,
        locale=params.locale,
        kind=params.kind,
        published_content_only=grant_of(principal, "nodes:update") is not Scope.ALL,
        published_products_only=grant_of(principal, "products:update") is not Scope.ALL,
        limit=params.limit,
        cursor=params.cursor,
        window=ctx.settings.search_rank_window,
    )
    page = await engine.search(ctx.uow.session, query)  # the tenant of the request's unit of work
    return SearchPageOut(
        items=[
            SearchHitOut(
                type=SearchType(hit.type),
                id=hit.id,
                locale=hit.locale,
                title=hit.title,
                excerpt=hit.excerpt,
                slug=hit.slug,
                score=hit.score,
            )
            for hit in page.items
        ],
        next_cursor=page.next_cursor,
    )
