"""The use cases of nodes and comments: nodes with translations and bodies, comments, tags on nodes.

Rules kept here (who sees and changes what is in `rustok.content.nodes.access`; statuses, slugs and locale
serving are the kernel's, `rustok.core.publishing` and `rustok.core.translations`):

- **One transaction.** A node, its translations and bodies are created, changed and deleted in the request's
  unit of work, with their events (``node.*``, ``body.updated``, ``tag.*``): all or nothing.
- **Comments** are nodes of kind ``comment`` under a parent. A customer's comment is published at once
  unless the tenant's settings say ``"comments_moderation": true``.
- **reply_count** of a node is the number of published comments directly under it, kept by atomic
  increments (``SET reply_count = reply_count + 1``) so concurrent replies all count.
- **Slugs** are unique per tenant, kind and locale.
- **Locales.** Writes in a locale the tenant has not enabled are a 422 ``locale_not_enabled``, checked
  against the tenant's locales as the database has them in the writing transaction; reads with
  ``?locale=`` serve that locale, falling back to the tenant's default.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy.exc import IntegrityError

from rustok.content.events import (
    BodyUpdated,
    NodeCreated,
    NodeDeleted,
    NodePublished,
    NodeTranslationUpdated,
    NodeUnpublished,
    NodeUpdated,
    TagAttached,
    TagDetached,
)
from rustok.content.models import COMMENT, Node, NodeBody, NodeStatus, NodeTag, NodeTranslation
from rustok.content.nodes.access import (
    LIFECYCLE,
    authorize_publish,
    may_moderate,
    reader_for,
    resource_of,
    visibility_for,
)
from rustok.content.nodes.repository import NodeRepository, NodeTagRepository, Visibility
from rustok.content.nodes.views import NodeView, view, views
from rustok.content.render import render
from rustok.content.schemas import BodyIn, NodeCreate, NodeFilters, NodeUpdate, TranslationIn
from rustok.content.terms.repository import CategoryRepository, TagRepository
from rustok.core import clock
from rustok.core.deps import RequestContext
from rustok.core.errors import Conflict, NotFound, Unprocessable
from rustok.core.pagination import PageParams, Slice
from rustok.core.publishing import Change
from rustok.core.translations import SlugScope, put_translation
from rustok.core.uow import UnitOfWork
from rustok.tenants.service import tenant_locales


def invalid_reference(field: str, what: str, id_: uuid.UUID) -> Unprocessable:
    return Unprocessable(
        f"No {what} with id {id_}.",
        code="invalid_reference",
        errors=[{"loc": ["body", field], "msg": f"no such {what}", "type": "invalid_reference"}],
    )


# ---------------------------------------------------------------------------------------- fetch, then check


async def _visible_or_404(
    uow: UnitOfWork, node_id: uuid.UUID, visibility: Visibility, *, lock: bool = False
) -> Node:
    """The node, if the caller sees it and every node above it (a comment under a draft is as hidden as the
    draft); ``lock`` for writes (see `NodeRepository.visible`)."""
    repository = NodeRepository(uow.session)
    node = await repository.visible(node_id, visibility, lock=lock)
    if node is None or not await _ancestors_visible(repository, node, visibility):
        raise NotFound(f"No node with id {node_id}.")
    return node


async def _ancestors_visible(repository: NodeRepository, node: Node, visibility: Visibility) -> bool:
    if visibility.everything:
        return True
    parent_id = node.parent_id
    while parent_id is not None:
        parent = await repository.visible(parent_id, visibility)
        if parent is None:
            return False
        parent_id = parent.parent_id
    return True


async def _editable(ctx: RequestContext, node_id: uuid.UUID, action: str) -> Node:
    """The node, if the caller sees it and may ``action`` it: fetched first (404), then authorized (403);
    under an ``own`` grant another's node is a 404."""
    node = await _visible_or_404(ctx.uow, node_id, visibility_for(ctx), lock=True)
    ctx.authorize(
        f"{resource_of(node.kind)}:{action}",
        owner_id=node.author_id,
        hidden=NotFound(f"No node with id {node_id}."),
    )
    return node


async def _parent_for(ctx: RequestContext, parent_id: uuid.UUID, *, moving: Node | None = None) -> Node:
    try:
        # Locked: a concurrent delete of the parent waits for this write, or this one sees it gone.
        parent = await _visible_or_404(ctx.uow, parent_id, visibility_for(ctx), lock=True)
    except NotFound:
        raise invalid_reference("parent_id", "node", parent_id) from None
    if moving is not None:
        # The new parent may not be the node itself or one of its descendants.
        ancestor: uuid.UUID | None = parent.id
        repository = NodeRepository(ctx.uow.session)
        while ancestor is not None:
            if ancestor == moving.id:
                raise Conflict("A node cannot be moved under itself or its replies.", code="invalid_parent")
            ancestor = await repository.parent_of(ancestor)
    return parent


async def _require_category(uow: UnitOfWork, category_id: uuid.UUID) -> None:
    if await CategoryRepository(uow.session).get(category_id) is None:
        raise invalid_reference("category_id", "category", category_id)


# ------------------------------------------------------------------------------------------ the node's parts


async def _put_translation(
    uow: UnitOfWork, node: Node, data: TranslationIn, existing: NodeTranslation | None
) -> None:
    repository = NodeRepository(uow.session)
    changed = await put_translation(
        uow.session,
        data,
        existing,
        make=lambda: NodeTranslation(
            node_id=node.id, kind=node.kind, locale=data.locale, title=data.title, excerpt=data.excerpt
        ),
        title=data.title,
        scope=SlugScope(
            owner_id=node.id,
            slug_owner=partial(repository.slug_owner, node.kind, data.locale),
            slugs_like=partial(repository.slugs_like, node.kind, data.locale),
            where=f"by another {node.kind} in {data.locale!r}",
        ),
    )
    if changed:
        uow.record(NodeTranslationUpdated(node_id=node.id, locale=data.locale))


async def _put_body(uow: UnitOfWork, node: Node, data: BodyIn, existing: NodeBody | None) -> None:
    html = render(data.body, data.format)
    if existing is not None:
        if (existing.body, existing.format) == (data.body, data.format.value):
            return
        existing.body, existing.format, existing.html = data.body, data.format.value, html
    else:
        uow.session.add(
            NodeBody(node_id=node.id, locale=data.locale, format=data.format.value, body=data.body, html=html)
        )
    uow.record(BodyUpdated(node_id=node.id, locale=data.locale))


async def _announce(uow: UnitOfWork, node: Node, change: Change) -> bool:
    """Announce a status change the node went through (the caller checked the permission), with the reply
    it makes or takes back for a comment. True when the change is a plain update (draft ↔ archived), which
    the caller announces as ``node.updated``."""
    counts_as_reply = node.kind == COMMENT and node.parent_id is not None
    if change is Change.PUBLISHED:
        uow.record(NodePublished(node_id=node.id, kind=node.kind))
    elif change is Change.UNPUBLISHED:
        uow.record(NodeUnpublished(node_id=node.id, kind=node.kind))
    else:
        return change is Change.UPDATED
    if counts_as_reply:
        assert node.parent_id is not None
        await NodeRepository(uow.session).bump_replies(
            node.parent_id, +1 if change is Change.PUBLISHED else -1
        )
    return False


def _initial_status(ctx: RequestContext, data: NodeCreate) -> NodeStatus:
    """What a new node starts as: the status asked for (publishing needs the right, except a comment on a
    tenant that does not moderate comments); otherwise published for comments (drafts awaiting
    moderation where the tenant moderates, unless a moderator writes) and draft for everything else."""
    moderated = ctx.tenant_settings.get("comments_moderation") is True
    open_comment = data.kind == COMMENT and (may_moderate(ctx) or not moderated)
    if data.status is None:
        return NodeStatus.PUBLISHED if open_comment else NodeStatus.DRAFT
    if data.status is NodeStatus.PUBLISHED and not open_comment:
        authorize_publish(ctx, data.kind)
    return data.status


# ------------------------------------------------------------------------------------------------ use cases


async def create_node(ctx: RequestContext, data: NodeCreate) -> NodeView:
    uow = ctx.uow
    ctx.authorize(f"{resource_of(data.kind)}:create")
    locales = await tenant_locales(uow)
    locales.require_all((t.locale for t in data.translations), field="translations")
    locales.require_all((b.locale for b in data.bodies), field="bodies")
    parent = await _parent_for(ctx, data.parent_id) if data.parent_id is not None else None
    if data.kind == COMMENT and parent is None:
        raise Unprocessable(
            "A comment answers a node: give its parent_id.",
            code="parent_required",
            errors=[{"loc": ["body", "parent_id"], "msg": "required for comments", "type": "missing"}],
        )
    if data.category_id is not None:
        await _require_category(uow, data.category_id)
    status = _initial_status(ctx, data)
    if data.published_at is not None:
        authorize_publish(ctx, data.kind)
    node = Node(
        kind=data.kind,
        status=NodeStatus.ARCHIVED.value if status is NodeStatus.ARCHIVED else NodeStatus.DRAFT.value,
        author_id=ctx.principal.user_id,
        parent_id=data.parent_id,
        category_id=data.category_id,
        depth=parent.depth + 1 if parent is not None else 0,
        position=data.position,
        meta=data.metadata,
        published_at=data.published_at,
        reply_count=0,
    )
    await NodeRepository(uow.session).add(node)
    uow.record(NodeCreated(node_id=node.id, kind=node.kind, author_id=node.author_id))
    for translation in data.translations:
        await _put_translation(uow, node, translation, None)
    for body in data.bodies:
        await _put_body(uow, node, body, None)
    if status is NodeStatus.PUBLISHED:
        await _announce(uow, node, LIFECYCLE.move(node, status.value))
    return await view(uow, node, reader_for(ctx))


async def get_node(ctx: RequestContext, node_id: uuid.UUID, *, locale: str | None = None) -> NodeView:
    reader = reader_for(ctx, locale)
    return await view(ctx.uow, await _visible_or_404(ctx.uow, node_id, reader.sees), reader)


async def get_node_by_slug(
    ctx: RequestContext, slug: str, *, kind: str | None = None, locale: str | None = None
) -> NodeView:
    """The node with this slug: in the asked locale first, then the default, then any locale."""
    reader = reader_for(ctx, locale)
    repository = NodeRepository(ctx.uow.session)
    node = await repository.by_slug(slug, kind, reader.preference, reader.sees)
    if node is None or not await _ancestors_visible(repository, node, reader.sees):
        raise NotFound(f"No node with slug {slug!r}.")
    return await view(ctx.uow, node, reader)


async def list_nodes(ctx: RequestContext, filters: NodeFilters, params: PageParams) -> Slice[NodeView]:
    """A page of the nodes the caller sees. ``locale`` keeps the nodes translated into it (and serves that
    translation); ``tag`` is a tag's id or slug."""
    reader = reader_for(ctx, filters.locale)
    if filters.parent_id is not None and not reader.sees.everything:
        try:
            await _visible_or_404(ctx.uow, filters.parent_id, reader.sees)
        except NotFound:
            return Slice([], None)  # the replies of a node the caller cannot see are as hidden as it
    tag_id = None
    if filters.tag is not None:
        tag_id = await _tag_id(ctx.uow, filters.tag, reader.preference)
        if tag_id is None:
            return Slice([], None)
    found = await NodeRepository(ctx.uow.session).filtered_page(filters, params, reader.sees, tag_id=tag_id)
    return Slice(await views(ctx.uow, found.items, reader, bodies=False), found.next_cursor)


async def _tag_id(uow: UnitOfWork, tag: str, preference: list[str]) -> uuid.UUID | None:
    try:
        return uuid.UUID(tag)
    except ValueError:
        return await TagRepository(uow.session).by_slug(tag, preference)


async def update_node(ctx: RequestContext, node_id: uuid.UUID, data: NodeUpdate) -> NodeView:
    uow = ctx.uow
    node = await _editable(ctx, node_id, "update")
    given = data.model_fields_set
    changed = False
    if "parent_id" in given and data.parent_id != node.parent_id:
        await _move(ctx, node, data.parent_id)
        changed = True
    if "category_id" in given and data.category_id != node.category_id:
        if data.category_id is not None:
            await _require_category(uow, data.category_id)
        node.category_id = data.category_id
        changed = True
    if data.position is not None and data.position != node.position:
        node.position = data.position
        changed = True
    if "metadata" in given and (data.metadata or {}) != node.meta:
        node.meta = data.metadata or {}
        changed = True
    if "published_at" in given and data.published_at != node.published_at:
        authorize_publish(ctx, node.kind)
        node.published_at = data.published_at
        changed = True
    repository = NodeRepository(uow.session)
    if data.translations is not None or data.bodies is not None:
        locales = await tenant_locales(uow)
        if data.translations is not None:
            locales.require_all((t.locale for t in data.translations), field="translations")
            existing = {t.locale: t for t in await repository.translations([node.id])}
            for translation in data.translations:
                await _put_translation(uow, node, translation, existing.get(translation.locale))
        if data.bodies is not None:
            locales.require_all((b.locale for b in data.bodies), field="bodies")
            bodies = {b.locale: b for b in await repository.bodies([node.id])}
            for body in data.bodies:
                await _put_body(uow, node, body, bodies.get(body.locale))
    if data.status is not None and data.status.value != node.status:
        if LIFECYCLE.crosses(node.status, data.status.value):
            authorize_publish(ctx, node.kind)
        changed = await _announce(uow, node, LIFECYCLE.move(node, data.status.value)) or changed
    if changed:
        node.updated_at = clock.now()
        uow.record(NodeUpdated(node_id=node.id, kind=node.kind))
    return await view(uow, node, reader_for(ctx))


async def _move(ctx: RequestContext, node: Node, parent_id: uuid.UUID | None) -> None:
    """Re-parent the node: its subtree's depths follow, and a published comment's reply moves with it."""
    if parent_id is None and node.kind == COMMENT:
        raise Unprocessable("A comment keeps a parent.", code="parent_required")
    parent = await _parent_for(ctx, parent_id, moving=node) if parent_id is not None else None
    repository = NodeRepository(ctx.uow.session)
    is_reply = node.kind == COMMENT and node.status == NodeStatus.PUBLISHED.value
    if is_reply and node.parent_id is not None:
        await repository.bump_replies(node.parent_id, -1)
    if is_reply and parent_id is not None:
        await repository.bump_replies(parent_id, +1)
    depth = parent.depth + 1 if parent is not None else 0
    delta = depth - node.depth
    node.parent_id, node.depth = parent_id, depth
    if delta:
        descendants = [row.id for row in await _descendants(repository, node.id)]
        if descendants:
            await repository.shift_depth(descendants, delta)


async def _descendants(repository: NodeRepository, node_id: uuid.UUID) -> list[Any]:
    found: list[Any] = []
    level = [node_id]
    while level:
        rows = list(await repository.children(level))
        found.extend(rows)
        level = [row.id for row in rows]
    return found


async def delete_node(ctx: RequestContext, node_id: uuid.UUID) -> None:
    """The node goes with its translations, bodies, tags and replies; each deleted node is announced."""
    uow = ctx.uow
    node = await _editable(ctx, node_id, "delete")
    repository = NodeRepository(uow.session)
    for row in reversed(await _descendants(repository, node.id)):
        uow.record(NodeDeleted(node_id=row.id, kind=row.kind))
    if node.kind == COMMENT and node.status == NodeStatus.PUBLISHED.value and node.parent_id is not None:
        await repository.bump_replies(node.parent_id, -1)
    uow.record(NodeDeleted(node_id=node.id, kind=node.kind))
    await repository.delete(node)


async def publish_node(ctx: RequestContext, node_id: uuid.UUID) -> NodeView:
    return await _publication(ctx, node_id, LIFECYCLE.publish)


async def unpublish_node(ctx: RequestContext, node_id: uuid.UUID) -> NodeView:
    return await _publication(ctx, node_id, LIFECYCLE.unpublish)


async def _publication(ctx: RequestContext, node_id: uuid.UUID, move: Callable[[Node], Change]) -> NodeView:
    """The publish routes: ``move`` is `Lifecycle.publish` or `Lifecycle.unpublish`."""
    reader = reader_for(ctx)
    node = await _visible_or_404(ctx.uow, node_id, reader.sees, lock=True)
    authorize_publish(ctx, node.kind)
    await _announce(ctx.uow, node, move(node))
    return await view(ctx.uow, node, reader)


async def attach_tag(ctx: RequestContext, node_id: uuid.UUID, tag_id: uuid.UUID) -> bool:
    """Idempotent: True when the tag was attached by this call."""
    uow = ctx.uow
    node = await _editable(ctx, node_id, "update")
    await TagRepository(uow.session).get_or_404(tag_id)
    links = NodeTagRepository(uow.session)
    if await links.find(node.id, tag_id) is not None:
        return False
    try:
        async with uow.session.begin_nested():
            await links.add(NodeTag(node_id=node.id, tag_id=tag_id))
    except IntegrityError:
        return False  # attached concurrently: the other request announced it
    uow.record(TagAttached(tag_id=tag_id, target_type="node", target_id=node.id))
    return True


async def detach_tag(ctx: RequestContext, node_id: uuid.UUID, tag_id: uuid.UUID) -> None:
    uow = ctx.uow
    node = await _editable(ctx, node_id, "update")
    links = NodeTagRepository(uow.session)
    link = await links.find(node.id, tag_id)
    if link is None:
        raise NotFound(f"The tag {tag_id} is not attached to node {node.id}.")
    await links.delete(link)
    uow.record(TagDetached(tag_id=tag_id, target_type="node", target_id=node.id))
