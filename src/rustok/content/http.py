"""The content module's routes: nodes (and comments) under ``/api/content/nodes``, categories, tags, and
media (`rustok.content.media.http`). Node routes serve comments too, so each declares both permissions;
the service checks the one the node's kind needs."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Response

from rustok.content import service
from rustok.content.media.http import router as media_router
from rustok.content.models import NodeStatus
from rustok.content.schemas import (
    BodyOut,
    CategoryCreate,
    CategoryOut,
    CategoryTranslationOut,
    CategoryUpdate,
    NodeCreate,
    NodeOut,
    NodeUpdate,
    TagCreate,
    TagOut,
    TagTranslationOut,
    TagUpdate,
    TermRef,
    TranslationOut,
)
from rustok.core.deps import ContextDep, PageDep, RequestContext, UoWDep
from rustok.core.errors import problem_responses
from rustok.core.event_fields import Kind, Locale
from rustok.core.pagination import Page
from rustok.core.routing import make_router
from rustok.core.security import Principal, requires
from rustok.core.slugs import MAX_LENGTH as SLUG_MAX_LENGTH
from rustok.tenants.service import tenant_locales

router = make_router()
content = make_router(prefix="/api/content", tags=["content"])

LocaleQuery = Annotated[Locale | None, Query(description="Serve this locale (else the tenant's default).")]


def _reader(ctx: RequestContext, principal: Principal, locale: str | None) -> service.Reader:
    return service.reader_for(principal, locale, ctx.default_locale)


def _term(term: Any) -> TermRef:
    return TermRef(id=term.id, locale=term.locale, name=term.name, slug=term.slug)


def _node_out(view: service.NodeView) -> NodeOut:
    node = view.node
    return NodeOut(
        id=node.id,
        kind=node.kind,
        status=NodeStatus(node.status),
        parent_id=node.parent_id,
        category_id=node.category_id,
        author_id=node.author_id,
        depth=node.depth,
        position=node.position,
        reply_count=node.reply_count,
        metadata=node.meta,
        published_at=node.published_at,
        created_at=node.created_at,
        updated_at=node.updated_at,
        translations=[TranslationOut.model_validate(t) for t in view.translations],
        bodies=None if view.bodies is None else [BodyOut.model_validate(b) for b in view.bodies],
        category=_term(view.category) if view.category is not None else None,
        tags=[_term(t) for t in view.tags],
    )


def _category_out(view: service.CategoryView) -> CategoryOut:
    category = view.category
    return CategoryOut(
        id=category.id,
        parent_id=category.parent_id,
        position=category.position,
        node_count=view.node_count,
        translations=[CategoryTranslationOut.model_validate(t) for t in view.translations],
        created_at=category.created_at,
        updated_at=category.updated_at,
    )


def _tag_out(view: service.TagView) -> TagOut:
    return TagOut(
        id=view.tag.id,
        use_count=view.use_count,
        translations=[TagTranslationOut.model_validate(t) for t in view.translations],
        created_at=view.tag.created_at,
        updated_at=view.tag.updated_at,
    )


# ------------------------------------------------------------------------------------------------- nodes


@content.post(
    "/nodes",
    status_code=201,
    response_model=NodeOut,
    summary="Create a node (or a comment) with its translations and bodies",
    responses=problem_responses(401, 403, 409, 422),
)
async def create_node(
    body: NodeCreate,
    ctx: ContextDep,
    principal: Annotated[Principal, requires("nodes:create", "comments:create")],
    uow: UoWDep,
) -> NodeOut:
    moderate = ctx.tenant_settings.get("comments_moderation") is True
    view = await service.create_node(
        uow, principal, body, locales=await tenant_locales(uow), moderate_comments=moderate
    )
    return _node_out(view)


@content.get(
    "/nodes",
    response_model=Page[NodeOut],
    summary="Nodes the caller can see (anonymous callers and customers: published ones)",
    responses=problem_responses(400, 422),
)
async def list_nodes(
    ctx: ContextDep,
    principal: Annotated[Principal, requires("nodes:list", "comments:list")],
    uow: UoWDep,
    page: PageDep,
    kind: Annotated[Kind | None, Query()] = None,
    status: Annotated[NodeStatus | None, Query()] = None,
    locale: Annotated[
        Locale | None, Query(description="Only nodes translated into this locale, served in it.")
    ] = None,
    category_id: Annotated[uuid.UUID | None, Query()] = None,
    tag: Annotated[str | None, Query(max_length=200, description="A tag's id or slug.")] = None,
    author_id: Annotated[uuid.UUID | None, Query()] = None,
    parent_id: Annotated[uuid.UUID | None, Query()] = None,
    sort: Annotated[Literal["-created", "created", "position"], Query()] = "-created",
) -> Page[NodeOut]:
    filters = service.NodeFilters(
        kind=kind,
        status=status,
        locale=locale,
        category_id=category_id,
        tag=tag,
        author_id=author_id,
        parent_id=parent_id,
        sort=sort,
    )
    found = await service.list_nodes(uow, filters, page, _reader(ctx, principal, locale))
    return Page(items=[_node_out(v) for v in found.items], next_cursor=found.next_cursor)


@content.get(
    "/nodes/by-slug/{slug}",
    response_model=NodeOut,
    summary="A node by its slug (in the asked locale, else the default, else any)",
    responses=problem_responses(404, 422),
)
async def get_node_by_slug(
    slug: Annotated[str, Path(min_length=1, max_length=SLUG_MAX_LENGTH)],
    ctx: ContextDep,
    principal: Annotated[Principal, requires("nodes:read", "comments:read")],
    uow: UoWDep,
    kind: Annotated[Kind | None, Query()] = None,
    locale: LocaleQuery = None,
) -> NodeOut:
    reader = _reader(ctx, principal, locale)
    return _node_out(await service.get_node_by_slug(uow, slug, kind, reader))


@content.get(
    "/nodes/{node_id}",
    response_model=NodeOut,
    summary="A node with its translations, bodies (with sanitized html), tags and category",
    responses=problem_responses(404, 422),
)
async def get_node(
    node_id: uuid.UUID,
    ctx: ContextDep,
    principal: Annotated[Principal, requires("nodes:read", "comments:read")],
    uow: UoWDep,
    locale: LocaleQuery = None,
) -> NodeOut:
    reader = _reader(ctx, principal, locale)
    return _node_out(await service.get_node(uow, node_id, reader))


@content.patch(
    "/nodes/{node_id}",
    response_model=NodeOut,
    summary="Change a node; translations and bodies are upserted per locale",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_node(
    node_id: uuid.UUID,
    body: NodeUpdate,
    principal: Annotated[Principal, requires("nodes:update", "comments:update")],
    uow: UoWDep,
) -> NodeOut:
    locales = await tenant_locales(uow)
    return _node_out(await service.update_node(uow, principal, node_id, body, locales=locales))


@content.delete(
    "/nodes/{node_id}",
    status_code=204,
    summary="Delete a node with its translations, bodies and replies",
    responses=problem_responses(401, 403, 404),
)
async def delete_node(
    node_id: uuid.UUID,
    principal: Annotated[Principal, requires("nodes:delete", "comments:delete")],
    uow: UoWDep,
) -> Response:
    await service.delete_node(uow, principal, node_id)
    return Response(status_code=204)


@content.post(
    "/nodes/{node_id}/publish",
    response_model=NodeOut,
    summary="Publish a node (409 invalid_transition when it is published)",
    responses=problem_responses(401, 403, 404, 409),
)
async def publish_node(
    node_id: uuid.UUID,
    ctx: ContextDep,
    principal: Annotated[Principal, requires("nodes:publish", "comments:update")],
    uow: UoWDep,
) -> NodeOut:
    reader = _reader(ctx, principal, None)
    return _node_out(await service.publish_node(uow, principal, node_id, reader))


@content.post(
    "/nodes/{node_id}/unpublish",
    response_model=NodeOut,
    summary="Take a published node back to draft (409 invalid_transition when it is not published)",
    responses=problem_responses(401, 403, 404, 409),
)
async def unpublish_node(
    node_id: uuid.UUID,
    ctx: ContextDep,
    principal: Annotated[Principal, requires("nodes:publish", "comments:update")],
    uow: UoWDep,
) -> NodeOut:
    reader = _reader(ctx, principal, None)
    return _node_out(await service.unpublish_node(uow, principal, node_id, reader))


@content.put(
    "/nodes/{node_id}/tags/{tag_id}",
    status_code=204,
    summary="Attach a tag to a node (idempotent)",
    responses=problem_responses(401, 403, 404),
)
async def attach_tag(
    node_id: uuid.UUID,
    tag_id: uuid.UUID,
    principal: Annotated[Principal, requires("nodes:update")],
    uow: UoWDep,
) -> Response:
    await service.attach_tag(uow, principal, node_id, tag_id)
    return Response(status_code=204)


@content.delete(
    "/nodes/{node_id}/tags/{tag_id}",
    status_code=204,
    summary="Detach a tag from a node",
    responses=problem_responses(401, 403, 404),
)
async def detach_tag(
    node_id: uuid.UUID,
    tag_id: uuid.UUID,
    principal: Annotated[Principal, requires("nodes:update")],
    uow: UoWDep,
) -> Response:
    await service.detach_tag(uow, principal, node_id, tag_id)
    return Response(status_code=204)


# -------------------------------------------------------------------------------------------- categories


@content.post(
    "/categories",
    status_code=201,
    response_model=CategoryOut,
    summary="Create a category",
    responses=problem_responses(401, 403, 409, 422),
)
async def create_category(
    body: CategoryCreate, principal: Annotated[Principal, requires("categories:create")], uow: UoWDep
) -> CategoryOut:
    locales = await tenant_locales(uow)
    return _category_out(await service.create_category(uow, principal, body, locales=locales))


@content.get(
    "/categories",
    response_model=Page[CategoryOut],
    summary="Categories: children of `parent_id`, or the top level with `roots=true`, or all",
    responses=problem_responses(400, 422),
)
async def list_categories(
    ctx: ContextDep,
    principal: Annotated[Principal, requires("categories:list")],
    uow: UoWDep,
    page: PageDep,
    parent_id: Annotated[uuid.UUID | None, Query()] = None,
    roots: Annotated[bool, Query()] = False,
    locale: LocaleQuery = None,
) -> Page[CategoryOut]:
    reader = _reader(ctx, principal, locale)
    found = await service.list_categories(uow, page, reader, parent_id=parent_id, roots=roots)
    return Page(items=[_category_out(v) for v in found.items], next_cursor=found.next_cursor)


@content.get(
    "/categories/{category_id}",
    response_model=CategoryOut,
    summary="A category",
    responses=problem_responses(404, 422),
)
async def get_category(
    category_id: uuid.UUID,
    ctx: ContextDep,
    principal: Annotated[Principal, requires("categories:read")],
    uow: UoWDep,
    locale: LocaleQuery = None,
) -> CategoryOut:
    reader = _reader(ctx, principal, locale)
    return _category_out(await service.get_category(uow, category_id, reader))


@content.patch(
    "/categories/{category_id}",
    response_model=CategoryOut,
    summary="Change a category; translations are upserted per locale",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_category(
    category_id: uuid.UUID,
    body: CategoryUpdate,
    principal: Annotated[Principal, requires("categories:update")],
    uow: UoWDep,
) -> CategoryOut:
    locales = await tenant_locales(uow)
    return _category_out(await service.update_category(uow, principal, category_id, body, locales=locales))


@content.delete(
    "/categories/{category_id}",
    status_code=204,
    summary="Delete a category (its nodes stay, uncategorized)",
    responses=problem_responses(401, 403, 404, 409),
)
async def delete_category(
    category_id: uuid.UUID, _: Annotated[Principal, requires("categories:delete")], uow: UoWDep
) -> Response:
    await service.delete_category(uow, category_id)
    return Response(status_code=204)


# -------------------------------------------------------------------------------------------------- tags


@content.post(
    "/tags",
    status_code=201,
    response_model=TagOut,
    summary="Create a tag",
    responses=problem_responses(401, 403, 409, 422),
)
async def create_tag(
    body: TagCreate, principal: Annotated[Principal, requires("tags:create")], uow: UoWDep
) -> TagOut:
    return _tag_out(await service.create_tag(uow, principal, body, locales=await tenant_locales(uow)))


@content.get("/tags", response_model=Page[TagOut], summary="Tags", responses=problem_responses(400, 422))
async def list_tags(
    ctx: ContextDep,
    principal: Annotated[Principal, requires("tags:list")],
    uow: UoWDep,
    page: PageDep,
    locale: LocaleQuery = None,
) -> Page[TagOut]:
    found = await service.list_tags(uow, page, _reader(ctx, principal, locale))
    return Page(items=[_tag_out(v) for v in found.items], next_cursor=found.next_cursor)


@content.get("/tags/{tag_id}", response_model=TagOut, summary="A tag", responses=problem_responses(404, 422))
async def get_tag(
    tag_id: uuid.UUID,
    ctx: ContextDep,
    principal: Annotated[Principal, requires("tags:read")],
    uow: UoWDep,
    locale: LocaleQuery = None,
) -> TagOut:
    return _tag_out(await service.get_tag(uow, tag_id, _reader(ctx, principal, locale)))


@content.patch(
    "/tags/{tag_id}",
    response_model=TagOut,
    summary="Change a tag's translations (upserted per locale)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_tag(
    tag_id: uuid.UUID,
    body: TagUpdate,
    principal: Annotated[Principal, requires("tags:update")],
    uow: UoWDep,
) -> TagOut:
    locales = await tenant_locales(uow)
    return _tag_out(await service.update_tag(uow, principal, tag_id, body, locales=locales))


@content.delete(
    "/tags/{tag_id}",
    status_code=204,
    summary="Delete a tag (detached from every node)",
    responses=problem_responses(401, 403, 404),
)
async def delete_tag(
    tag_id: uuid.UUID, _: Annotated[Principal, requires("tags:delete")], uow: UoWDep
) -> Response:
    await service.delete_tag(uow, tag_id)
    return Response(status_code=204)


router.include_router(content)
router.include_router(media_router)
