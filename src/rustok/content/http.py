"""The content module's routes: nodes (and comments) under ``/api/content/nodes``, categories, tags, and
media (`rustok.content.media.http`). Node routes serve comments too, so each declares both permissions;
the service checks the one the node's kind needs."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Response

from rustok.content.media.http import router as media_router
from rustok.content.models import NodeStatus
from rustok.content.nodes import service as nodes
from rustok.content.nodes.views import NodeView
from rustok.content.schemas import (
    BodyOut,
    CategoryCreate,
    CategoryOut,
    CategoryTranslationOut,
    CategoryUpdate,
    NodeCreate,
    NodeFilters,
    NodeOut,
    NodeUpdate,
    TagCreate,
    TagOut,
    TagTranslationOut,
    TagUpdate,
    TermRef,
    TranslationOut,
)
from rustok.content.terms import service as terms
from rustok.core.deps import ContextDep, PageDep
from rustok.core.errors import problem_responses
from rustok.core.event_fields import Kind, Locale
from rustok.core.pagination import Page
from rustok.core.routing import make_router
from rustok.core.security import Principal, requires
from rustok.core.slugs import MAX_LENGTH as SLUG_MAX_LENGTH

router = make_router()
content = make_router(prefix="/api/content", tags=["content"])

LocaleQuery = Annotated[Locale | None, Query(description="Serve this locale (else the tenant's default).")]


def _term(term: Any) -> TermRef:
    return TermRef(id=term.id, locale=term.locale, name=term.name, slug=term.slug)


def _node_out(view: NodeView) -> NodeOut:
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


def _category_out(view: terms.CategoryView) -> CategoryOut:
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


def _tag_out(view: terms.TagView) -> TagOut:
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
    _: Annotated[Principal, requires("nodes:create", "comments:create")],
) -> NodeOut:
    """A node of any `kind` (`page`, `post`, ...; a `comment` is a node with a `parent_id`), with one
    translation per locale and, optionally, a body per locale (markdown, html or plain text; the answer
    carries it rendered and sanitized as `html`). Each locale must be enabled for the tenant (422
    `locale_not_enabled`). A slug left out is made from the title, with a suffix when taken; a slug given
    that is taken is a 409 `slug_conflict`."""
    return _node_out(await nodes.create_node(ctx, body))


@content.get(
    "/nodes",
    response_model=Page[NodeOut],
    summary="Nodes the caller can see (anonymous callers and customers: published ones)",
    responses=problem_responses(400, 422),
)
async def list_nodes(
    ctx: ContextDep,
    _: Annotated[Principal, requires("nodes:list", "comments:list")],
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
    """Anonymous callers and customers see published nodes only; staff see drafts too. Newest first by
    default. One page per call: pass `next_cursor` back as `cursor` for the next."""
    filters = NodeFilters(
        kind=kind,
        status=status,
        locale=locale,
        category_id=category_id,
        tag=tag,
        author_id=author_id,
        parent_id=parent_id,
        sort=sort,
    )
    found = await nodes.list_nodes(ctx, filters, page)
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
    _: Annotated[Principal, requires("nodes:read", "comments:read")],
    kind: Annotated[Kind | None, Query()] = None,
    locale: LocaleQuery = None,
) -> NodeOut:
    return _node_out(await nodes.get_node_by_slug(ctx, slug, kind=kind, locale=locale))


@content.get(
    "/nodes/{node_id}",
    response_model=NodeOut,
    summary="A node with its translations, bodies (with sanitized html), tags and category",
    responses=problem_responses(404, 422),
)
async def get_node(
    node_id: uuid.UUID,
    ctx: ContextDep,
    _: Annotated[Principal, requires("nodes:read", "comments:read")],
    locale: LocaleQuery = None,
) -> NodeOut:
    """The translation served is the one of `locale`, else the tenant's default locale's. A node the
    caller may not see (a draft, for an anonymous caller) is a 404, as one that does not exist."""
    return _node_out(await nodes.get_node(ctx, node_id, locale=locale))


@content.patch(
    "/nodes/{node_id}",
    response_model=NodeOut,
    summary="Change a node; translations and bodies are upserted per locale",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_node(
    node_id: uuid.UUID,
    body: NodeUpdate,
    ctx: ContextDep,
    _: Annotated[Principal, requires("nodes:update", "comments:update")],
) -> NodeOut:
    return _node_out(await nodes.update_node(ctx, node_id, body))


@content.delete(
    "/nodes/{node_id}",
    status_code=204,
    summary="Delete a node with its translations, bodies and replies",
    responses=problem_responses(401, 403, 404),
)
async def delete_node(
    node_id: uuid.UUID,
    ctx: ContextDep,
    _: Annotated[Principal, requires("nodes:delete", "comments:delete")],
) -> Response:
    await nodes.delete_node(ctx, node_id)
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
    _: Annotated[Principal, requires("nodes:publish", "comments:update")],
) -> NodeOut:
    return _node_out(await nodes.publish_node(ctx, node_id))


@content.post(
    "/nodes/{node_id}/unpublish",
    response_model=NodeOut,
    summary="Take a published node back to draft (409 invalid_transition when it is not published)",
    responses=problem_responses(401, 403, 404, 409),
)
async def unpublish_node(
    node_id: uuid.UUID,
    ctx: ContextDep,
    _: Annotated[Principal, requires("nodes:publish", "comments:update")],
) -> NodeOut:
    return _node_out(await nodes.unpublish_node(ctx, node_id))


@content.put(
    "/nodes/{node_id}/tags/{tag_id}",
    status_code=204,
    summary="Attach a tag to a node (idempotent)",
    responses=problem_responses(401, 403, 404),
)
async def attach_tag(
    node_id: uuid.UUID,
    tag_id: uuid.UUID,
    ctx: ContextDep,
    _: Annotated[Principal, requires("nodes:update")],
) -> Response:
    await nodes.attach_tag(ctx, node_id, tag_id)
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
    ctx: ContextDep,
    _: Annotated[Principal, requires("nodes:update")],
) -> Response:
    await nodes.detach_tag(ctx, node_id, tag_id)
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
    body: CategoryCreate, ctx: ContextDep, _: Annotated[Principal, requires("categories:create")]
) -> CategoryOut:
    return _category_out(await terms.create_category(ctx, body))


@content.get(
    "/categories",
    response_model=Page[CategoryOut],
    summary="Categories: children of `parent_id`, or the top level with `roots=true`, or all",
    responses=problem_responses(400, 422),
)
async def list_categories(
    ctx: ContextDep,
    _: Annotated[Principal, requires("categories:list")],
    page: PageDep,
    parent_id: Annotated[uuid.UUID | None, Query()] = None,
    roots: Annotated[bool, Query()] = False,
    locale: LocaleQuery = None,
) -> Page[CategoryOut]:
    found = await terms.list_categories(ctx, page, parent_id=parent_id, roots=roots, locale=locale)
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
    _: Annotated[Principal, requires("categories:read")],
    locale: LocaleQuery = None,
) -> CategoryOut:
    return _category_out(await terms.get_category(ctx, category_id, locale=locale))


@content.patch(
    "/categories/{category_id}",
    response_model=CategoryOut,
    summary="Change a category; translations are upserted per locale",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_category(
    category_id: uuid.UUID,
    body: CategoryUpdate,
    ctx: ContextDep,
    _: Annotated[Principal, requires("categories:update")],
) -> CategoryOut:
    return _category_out(await terms.update_category(ctx, category_id, body))


@content.delete(
    "/categories/{category_id}",
    status_code=204,
    summary="Delete a category (its nodes stay, uncategorized)",
    responses=problem_responses(401, 403, 404, 409),
)
async def delete_category(
    category_id: uuid.UUID, ctx: ContextDep, _: Annotated[Principal, requires("categories:delete")]
) -> Response:
    await terms.delete_category(ctx, category_id)
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
    body: TagCreate, ctx: ContextDep, _: Annotated[Principal, requires("tags:create")]
) -> TagOut:
    return _tag_out(await terms.create_tag(ctx, body))


@content.get("/tags", response_model=Page[TagOut], summary="Tags", responses=problem_responses(400, 422))
async def list_tags(
    ctx: ContextDep,
    _: Annotated[Principal, requires("tags:list")],
    page: PageDep,
    locale: LocaleQuery = None,
) -> Page[TagOut]:
    found = await terms.list_tags(ctx, page, locale=locale)
    return Page(items=[_tag_out(v) for v in found.items], next_cursor=found.next_cursor)


@content.get("/tags/{tag_id}", response_model=TagOut, summary="A tag", responses=problem_responses(404, 422))
async def get_tag(
    tag_id: uuid.UUID,
    ctx: ContextDep,
    _: Annotated[Principal, requires("tags:read")],
    locale: LocaleQuery = None,
) -> TagOut:
    return _tag_out(await terms.get_tag(ctx, tag_id, locale=locale))


@content.patch(
    "/tags/{tag_id}",
    response_model=TagOut,
    summary="Change a tag's translations (upserted per locale)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_tag(
    tag_id: uuid.UUID,
    body: TagUpdate,
    ctx: ContextDep,
    _: Annotated[Principal, requires("tags:update")],
) -> TagOut:
    return _tag_out(await terms.update_tag(ctx, tag_id, body))


@content.delete(
    "/tags/{tag_id}",
    status_code=204,
    summary="Delete a tag (detached from every node)",
    responses=problem_responses(401, 403, 404),
)
async def delete_tag(
    tag_id: uuid.UUID, ctx: ContextDep, _: Annotated[Principal, requires("tags:delete")]
) -> Response:
    await terms.delete_tag(ctx, tag_id)
    return Response(status_code=204)


router.include_router(content)
router.include_router(media_router)
