"""The content module's use cases: nodes with translations and bodies, comments, categories and tags.

Rules kept here:

- **One transaction.** A node, its translations and bodies are created, changed and deleted in the request's
  unit of work, with their events (``node.*``, ``body.updated``, ``tag.*``, ``category.*``): all or nothing.
- **Comments are nodes** of kind ``comment`` under a parent. Writing one checks ``comments:*``, any other kind
  ``nodes:*``. Under an ``own`` grant (customers) another's comment is a 404. A customer's comment is
  published at once unless the tenant's settings say ``"comments_moderation": true``. Publishing and
  unpublishing comments is moderation: ``comments:update`` on every comment.
- **Visibility.** Unpublished content is invisible (404, left out of lists and counts) to callers who may not
  edit it: anonymous callers and customers see published nodes, and customers their own comments too.
- **reply_count** of a node is the number of published comments directly under it, kept by atomic
  increments (``SET reply_count = reply_count + 1``) so concurrent replies all count.
- **Slugs** are unique per tenant, kind and locale (categories and tags: per tenant and locale). A slug given
  by the client that is taken is a 409 ``slug_conflict``; a generated one takes the first free ``-2``,
  ``-3``, ... suffix, and is retried in a SAVEPOINT if a concurrent writer took it first. A translation
  keeps its slug when its title changes (links stay valid) unless a new slug is given.
- **Locales.** Writes in a locale the tenant has not enabled are a 422 ``locale_not_enabled``; reads with
  ``?locale=`` serve that locale, falling back to the tenant's default.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeVar

from sqlalchemy.exc import IntegrityError

from rustok.content.events import (
    BodyUpdated,
    CategoryCreated,
    CategoryDeleted,
    CategoryUpdated,
    NodeCreated,
    NodeDeleted,
    NodePublished,
    NodeTranslationUpdated,
    NodeUnpublished,
    NodeUpdated,
    TagAttached,
    TagCreated,
    TagDeleted,
    TagDetached,
    TagUpdated,
)
from rustok.content.models import (
    COMMENT,
    Category,
    CategoryTranslation,
    Node,
    NodeBody,
    NodeStatus,
    NodeTag,
    NodeTranslation,
    Tag,
    TagTranslation,
)
from rustok.content.permissions import COMMENTS, NODES
from rustok.content.render import render
from rustok.content.repository import (
    CategoryRepository,
    NodeRepository,
    NodeTagRepository,
    TagRepository,
    Term,
    Visibility,
)
from rustok.content.schemas import (
    BodyIn,
    CategoryCreate,
    CategoryTranslationIn,
    CategoryUpdate,
    NodeCreate,
    NodeUpdate,
    TagCreate,
    TagTranslationIn,
    TagUpdate,
    TranslationIn,
)
from rustok.core import clock, slugs
from rustok.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from rustok.core.pagination import PageParams, Slice, paginate
from rustok.core.permissions import Action, Permission, Scope
from rustok.core.repository import grouped
from rustok.core.security import Principal, ensure, grant_of
from rustok.core.uow import UnitOfWork
from rustok.tenants.service import Locales, pick_locale

T = TypeVar("T")


# ---------------------------------------------------------------------------------------- who sees what


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads, and in which locale: ``locale`` None serves every translation."""

    visibility: Visibility
    locale: str | None
    default_locale: str


def visibility_for(principal: Principal) -> Visibility:
    """Callers who may edit every node (or comment) see unpublished ones; ``own`` comment editors see
    their own unpublished comments; everyone else sees published content only."""
    comments = grant_of(principal, Permission(COMMENTS, Action.UPDATE))
    return Visibility(
        all_nodes=grant_of(principal, Permission(NODES, Action.UPDATE)) is Scope.ALL,
        all_comments=comments is Scope.ALL,
        own_comments_of=principal.user_id if comments is Scope.OWN else None,
    )


def reader_for(principal: Principal, locale: str | None, default_locale: str) -> Reader:
    return Reader(visibility_for(principal), locale, default_locale)


def _resource(kind: str) -> str:
    return COMMENTS if kind == COMMENT else NODES


def _may_moderate(principal: Principal) -> bool:
    return grant_of(principal, Permission(COMMENTS, Action.UPDATE)) is Scope.ALL


def _ensure_publish(principal: Principal, kind: str) -> None:
    """Publishing a comment is moderation (``comments:update`` on all comments); any other node needs
    ``nodes:publish``."""
    if kind != COMMENT:
        ensure(principal, Permission(NODES, Action.PUBLISH))
    elif not _may_moderate(principal):
        ensure(principal, Permission(COMMENTS, Action.UPDATE))
        raise Forbidden("Only moderators publish or unpublish comments.")


# ------------------------------------------------------------------------------------------------ errors


def _invalid_reference(field: str, what: str, id_: uuid.UUID) -> Unprocessable:
    return Unprocessable(
        f"No {what} with id {id_}.",
        code="invalid_reference",
        errors=[{"loc": ["body", field], "msg": f"no such {what}", "type": "invalid_reference"}],
    )


def _invalid_transition(node: Node, action: str) -> Conflict:
    return Conflict(f"A {node.status} node cannot be {action}.", code="invalid_transition")


# ------------------------------------------------------------------------------------------------- views


@dataclass(frozen=True, slots=True)
class NodeView:
    node: Node
    translations: list[NodeTranslation]
    bodies: list[NodeBody] | None
    category: Term | None
    tags: list[Term]


def _served(rows: list[T], reader: Reader, locale_of: Callable[[T], str]) -> list[T]:
    """Every row without ``?locale=``; with it, the one row in the locale served (asked, else default)."""
    if reader.locale is None:
        return rows
    chosen = pick_locale([locale_of(r) for r in rows], reader.locale, reader.default_locale)
    return [r for r in rows if locale_of(r) == chosen]


def _one_per_term(terms: list[Term], reader: Reader) -> list[Term]:
    """Each category or tag once, in the locale served (asked, else default, else its first)."""
    by_id: dict[uuid.UUID, list[Term]] = {}
    for term in terms:
        by_id.setdefault(term.id, []).append(term)
    picked = []
    for candidates in by_id.values():
        chosen = pick_locale([t.locale for t in candidates], reader.locale, reader.default_locale)
        picked.append(next(t for t in candidates if t.locale == chosen))
    return picked


async def _views(uow: UnitOfWork, nodes: Sequence[Node], reader: Reader, *, bodies: bool) -> list[NodeView]:
    if not nodes:
        return []
    repository = NodeRepository(uow.session)
    ids = [node.id for node in nodes]
    translations = grouped(await repository.translations(ids), lambda t: t.node_id)
    body_rows = grouped(await repository.bodies(ids), lambda b: b.node_id) if bodies else None
    tags = grouped(await repository.tag_terms(ids), lambda t: t.owner_id)
    category_ids = list({node.category_id for node in nodes if node.category_id is not None})
    categories = (
        grouped(await CategoryRepository(uow.session).terms(category_ids), lambda t: t.owner_id)
        if category_ids
        else {}
    )
    views = []
    for node in nodes:
        category = _one_per_term(categories.get(node.category_id, []), reader) if node.category_id else []
        views.append(
            NodeView(
                node=node,
                translations=_served(translations.get(node.id, []), reader, lambda t: t.locale),
                bodies=None
                if body_rows is None
                else _served(body_rows.get(node.id, []), reader, lambda b: b.locale),
                category=category[0] if category else None,
                tags=_one_per_term(tags.get(node.id, []), reader),
            )
        )
    return views


async def _view(uow: UnitOfWork, node: Node, reader: Reader) -> NodeView:
    return (await _views(uow, [node], reader, bodies=True))[0]


# ------------------------------------------------------------------------------------------------- nodes


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


async def _editable(uow: UnitOfWork, principal: Principal, node_id: uuid.UUID, action: Action) -> Node:
    """The node, if the caller sees it and may ``action`` it: fetched first (404), then authorized (403),
    and under an ``own`` grant another's node is a 404."""
    node = await _visible_or_404(uow, node_id, visibility_for(principal), lock=True)
    scope = ensure(principal, Permission(_resource(node.kind), action))
    if scope is Scope.OWN and (node.author_id is None or node.author_id != principal.user_id):
        raise NotFound(f"No node with id {node_id}.")
    return node


async def _parent_for(
    uow: UnitOfWork, principal: Principal, parent_id: uuid.UUID, *, moving: Node | None = None
) -> Node:
    try:
        # Locked: a concurrent delete of the parent waits for this write, or this one sees it gone.
        parent = await _visible_or_404(uow, parent_id, visibility_for(principal), lock=True)
    except NotFound:
        raise _invalid_reference("parent_id", "node", parent_id) from None
    if moving is not None:
        # The new parent may not be the node itself or one of its descendants.
        ancestor: uuid.UUID | None = parent.id
        repository = NodeRepository(uow.session)
        while ancestor is not None:
            if ancestor == moving.id:
                raise Conflict("A node cannot be moved under itself or its replies.", code="invalid_parent")
            ancestor = await repository.parent_of(ancestor)
    return parent


async def _require_category(uow: UnitOfWork, category_id: uuid.UUID) -> None:
    if await CategoryRepository(uow.session).get(category_id) is None:
        raise _invalid_reference("category_id", "category", category_id)


async def _put_translation(
    uow: UnitOfWork, node: Node, data: TranslationIn, existing: NodeTranslation | None
) -> None:
    repository = NodeRepository(uow.session)
    given = data.slug if data.slug is not None and (existing is None or existing.slug != data.slug) else None
    if existing is not None:
        changed = existing.title != data.title or given is not None
        existing.title = data.title
        if "excerpt" in data.model_fields_set:
            changed = changed or existing.excerpt != data.excerpt
            existing.excerpt = data.excerpt
        if given is not None:
            await _save_node_slug(uow, repository, existing, node, given)
        if changed:
            uow.record(NodeTranslationUpdated(node_id=node.id, locale=data.locale))
        return
    row = NodeTranslation(
        node_id=node.id, kind=node.kind, locale=data.locale, title=data.title, excerpt=data.excerpt
    )
    await _save_node_slug(uow, repository, row, node, given, base=slugs.from_title(data.title))
    uow.record(NodeTranslationUpdated(node_id=node.id, locale=data.locale))


async def _save_node_slug(
    uow: UnitOfWork,
    repository: NodeRepository,
    row: NodeTranslation,
    node: Node,
    given: str | None,
    *,
    base: str = "",
) -> None:
    locale = row.locale
    await slugs.save_unique(
        uow.session,
        row,
        given=given,
        base=base,
        owner_id=node.id,
        slug_owner=partial(repository.slug_owner, node.kind, locale),
        slugs_like=partial(repository.slugs_like, node.kind, locale),
        where=f"by another {node.kind} in {locale!r}",
    )


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


async def _change_status(uow: UnitOfWork, node: Node, status: NodeStatus) -> bool:
    """Move the node to ``status`` and announce it; the caller checked the permission. True when the
    change is a plain update (draft ↔ archived), which the caller announces as ``node.updated``."""
    old = NodeStatus(node.status)
    if old is status:
        return False
    node.status = status.value
    repository = NodeRepository(uow.session)
    counts_as_reply = node.kind == COMMENT and node.parent_id is not None
    if status is NodeStatus.PUBLISHED:
        if node.published_at is None:
            node.published_at = clock.now()
        uow.record(NodePublished(node_id=node.id, kind=node.kind))
        if counts_as_reply:
            assert node.parent_id is not None
            await repository.bump_replies(node.parent_id, +1)
        return False
    if old is NodeStatus.PUBLISHED:
        uow.record(NodeUnpublished(node_id=node.id, kind=node.kind))
        if counts_as_reply:
            assert node.parent_id is not None
            await repository.bump_replies(node.parent_id, -1)
        return False
    return True


def _initial_status(principal: Principal, data: NodeCreate, *, moderate_comments: bool) -> NodeStatus:
    """What a new node starts as: the status asked for (publishing needs the right, except a comment on a
    tenant that does not moderate comments); otherwise published for comments (drafts awaiting
    moderation where the tenant moderates, unless a moderator writes) and draft for everything else."""
    moderator = _may_moderate(principal)
    open_comment = data.kind == COMMENT and (moderator or not moderate_comments)
    if data.status is None:
        return NodeStatus.PUBLISHED if open_comment else NodeStatus.DRAFT
    if data.status is NodeStatus.PUBLISHED and not open_comment:
        _ensure_publish(principal, data.kind)
    return data.status


async def create_node(
    uow: UnitOfWork, principal: Principal, data: NodeCreate, *, locales: Locales, moderate_comments: bool
) -> NodeView:
    ensure(principal, Permission(_resource(data.kind), Action.CREATE))
    locales.require_all((t.locale for t in data.translations), field="translations")
    locales.require_all((b.locale for b in data.bodies), field="bodies")
    parent = await _parent_for(uow, principal, data.parent_id) if data.parent_id is not None else None
    if data.kind == COMMENT and parent is None:
        raise Unprocessable(
            "A comment answers a node: give its parent_id.",
            code="parent_required",
            errors=[{"loc": ["body", "parent_id"], "msg": "required for comments", "type": "missing"}],
        )
    if data.category_id is not None:
        await _require_category(uow, data.category_id)
    status = _initial_status(principal, data, moderate_comments=moderate_comments)
    if data.published_at is not None:
        _ensure_publish(principal, data.kind)
    node = Node(
        kind=data.kind,
        status=NodeStatus.ARCHIVED.value if status is NodeStatus.ARCHIVED else NodeStatus.DRAFT.value,
        author_id=principal.user_id,
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
        await _change_status(uow, node, status)
    return await _view(uow, node, reader_for(principal, None, locales.default))


async def get_node(uow: UnitOfWork, node_id: uuid.UUID, reader: Reader) -> NodeView:
    return await _view(uow, await _visible_or_404(uow, node_id, reader.visibility), reader)


async def get_node_by_slug(uow: UnitOfWork, slug: str, kind: str | None, reader: Reader) -> NodeView:
    """The node with this slug: in the asked locale first, then the default, then any locale."""
    preference = [locale for locale in (reader.locale, reader.default_locale) if locale is not None]
    repository = NodeRepository(uow.session)
    node = await repository.by_slug(slug, kind, preference, reader.visibility)
    if node is None or not await _ancestors_visible(repository, node, reader.visibility):
        raise NotFound(f"No node with slug {slug!r}.")
    return await _view(uow, node, reader)


@dataclass(frozen=True, slots=True)
class NodeFilters:
    kind: str | None = None
    status: NodeStatus | None = None
    locale: str | None = None
    category_id: uuid.UUID | None = None
    tag: str | None = None  # an id or a slug
    author_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    sort: Literal["-created", "created", "position"] = "-created"


async def list_nodes(
    uow: UnitOfWork, filters: NodeFilters, params: PageParams, reader: Reader
) -> Slice[NodeView]:
    """A page of the nodes the caller sees. ``locale`` keeps the nodes translated into it (and serves that
    translation); ``tag`` is a tag's id or slug."""
    if filters.parent_id is not None and not reader.visibility.everything:
        try:
            await _visible_or_404(uow, filters.parent_id, reader.visibility)
        except NotFound:
            return Slice([], None)  # the replies of a node the caller cannot see are as hidden as it
    repository = NodeRepository(uow.session)
    statement = repository.select()
    for column, value in (
        (Node.kind, filters.kind),
        (Node.status, filters.status.value if filters.status else None),
        (Node.category_id, filters.category_id),
        (Node.author_id, filters.author_id),
        (Node.parent_id, filters.parent_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    condition = reader.visibility.condition()
    if condition is not None:
        statement = statement.where(condition)
    if filters.locale is not None:
        statement = statement.join(
            NodeTranslation,
            (NodeTranslation.node_id == Node.id) & (NodeTranslation.locale == filters.locale),
        )
    if filters.tag is not None:
        tag_id = await _tag_id(uow, filters.tag, reader)
        if tag_id is None:
            return Slice([], None)
        statement = statement.join(NodeTag, (NodeTag.node_id == Node.id) & (NodeTag.tag_id == tag_id))
    key = [Node.position, Node.id] if filters.sort == "position" else [Node.id]
    found = await paginate(
        uow.session, statement, key=key, params=params, descending=filters.sort == "-created"
    )
    return Slice(await _views(uow, found.items, reader, bodies=False), found.next_cursor)


async def _tag_id(uow: UnitOfWork, tag: str, reader: Reader) -> uuid.UUID | None:
    try:
        return uuid.UUID(tag)
    except ValueError:
        preference = [locale for locale in (reader.locale, reader.default_locale) if locale is not None]
        return await TagRepository(uow.session).by_slug(tag, preference)


async def update_node(
    uow: UnitOfWork, principal: Principal, node_id: uuid.UUID, data: NodeUpdate, *, locales: Locales
) -> NodeView:
    node = await _editable(uow, principal, node_id, Action.UPDATE)
    given = data.model_fields_set
    changed = False
    if "parent_id" in given and data.parent_id != node.parent_id:
        await _move(uow, principal, node, data.parent_id)
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
        _ensure_publish(principal, node.kind)
        node.published_at = data.published_at
        changed = True
    repository = NodeRepository(uow.session)
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
        if NodeStatus.PUBLISHED.value in (data.status.value, node.status):
            _ensure_publish(principal, node.kind)
        changed = await _change_status(uow, node, data.status) or changed
    if changed:
        node.updated_at = clock.now()
        uow.record(NodeUpdated(node_id=node.id, kind=node.kind))
    return await _view(uow, node, reader_for(principal, None, locales.default))


async def _move(uow: UnitOfWork, principal: Principal, node: Node, parent_id: uuid.UUID | None) -> None:
    """Re-parent the node: its subtree's depths follow, and a published comment's reply moves with it."""
    if parent_id is None and node.kind == COMMENT:
        raise Unprocessable("A comment keeps a parent.", code="parent_required")
    parent = await _parent_for(uow, principal, parent_id, moving=node) if parent_id is not None else None
    repository = NodeRepository(uow.session)
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


async def delete_node(uow: UnitOfWork, principal: Principal, node_id: uuid.UUID) -> None:
    """The node goes with its translations, bodies, tags and replies; each deleted node is announced."""
    node = await _editable(uow, principal, node_id, Action.DELETE)
    repository = NodeRepository(uow.session)
    for row in reversed(await _descendants(repository, node.id)):
        uow.record(NodeDeleted(node_id=row.id, kind=row.kind))
    if node.kind == COMMENT and node.status == NodeStatus.PUBLISHED.value and node.parent_id is not None:
        await repository.bump_replies(node.parent_id, -1)
    uow.record(NodeDeleted(node_id=node.id, kind=node.kind))
    await repository.delete(node)


async def publish_node(uow: UnitOfWork, principal: Principal, node_id: uuid.UUID, reader: Reader) -> NodeView:
    node = await _visible_or_404(uow, node_id, reader.visibility, lock=True)
    _ensure_publish(principal, node.kind)
    if node.status == NodeStatus.PUBLISHED.value:
        raise _invalid_transition(node, "published")
    await _change_status(uow, node, NodeStatus.PUBLISHED)
    return await _view(uow, node, reader)


async def unpublish_node(
    uow: UnitOfWork, principal: Principal, node_id: uuid.UUID, reader: Reader
) -> NodeView:
    node = await _visible_or_404(uow, node_id, reader.visibility, lock=True)
    _ensure_publish(principal, node.kind)
    if node.status != NodeStatus.PUBLISHED.value:
        raise _invalid_transition(node, "unpublished")
    await _change_status(uow, node, NodeStatus.DRAFT)
    return await _view(uow, node, reader)


async def attach_tag(uow: UnitOfWork, principal: Principal, node_id: uuid.UUID, tag_id: uuid.UUID) -> bool:
    """Idempotent: True when the tag was attached by this call."""
    node = await _editable(uow, principal, node_id, Action.UPDATE)
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


async def detach_tag(uow: UnitOfWork, principal: Principal, node_id: uuid.UUID, tag_id: uuid.UUID) -> None:
    node = await _editable(uow, principal, node_id, Action.UPDATE)
    links = NodeTagRepository(uow.session)
    link = await links.find(node.id, tag_id)
    if link is None:
        raise NotFound(f"The tag {tag_id} is not attached to node {node.id}.")
    await links.delete(link)
    uow.record(TagDetached(tag_id=tag_id, target_type="node", target_id=node.id))


# ------------------------------------------------------------------------------------------- categories


@dataclass(frozen=True, slots=True)
class CategoryView:
    category: Category
    translations: list[CategoryTranslation]
    node_count: int


async def _category_views(
    uow: UnitOfWork, categories: Sequence[Category], reader: Reader
) -> list[CategoryView]:
    if not categories:
        return []
    repository = CategoryRepository(uow.session)
    ids = [c.id for c in categories]
    translations = grouped(await repository.translations(ids), lambda t: t.category_id)
    counts = await repository.node_counts(ids, reader.visibility)
    return [
        CategoryView(
            category=c,
            translations=_served(translations.get(c.id, []), reader, lambda t: t.locale),
            node_count=counts.get(c.id, 0),
        )
        for c in categories
    ]


async def _put_terms(
    uow: UnitOfWork,
    owner_id: uuid.UUID,
    items: Sequence[CategoryTranslationIn] | Sequence[TagTranslationIn],
    existing: dict[str, Any],
    *,
    make: Callable[[Any], Any],
    repository: CategoryRepository | TagRepository,
    noun: str,
) -> bool:
    """Upsert a category's or tag's translations per locale; True when anything changed."""
    changed = False
    for item in items:
        row = existing.get(item.locale)
        given = item.slug if item.slug is not None and (row is None or row.slug != item.slug) else None
        fields = {k: getattr(item, k) for k in item.model_fields_set if k not in ("locale", "slug")}
        if row is not None:
            if any(getattr(row, k) != v for k, v in fields.items()):
                changed = True
                for key, value in fields.items():
                    setattr(row, key, value)
            if given is None:
                continue
        else:
            row = make(item)
        locale = item.locale
        await slugs.save_unique(
            uow.session,
            row,
            given=given,
            base=slugs.from_title(item.name),
            owner_id=owner_id,
            slug_owner=partial(repository.slug_owner, locale),
            slugs_like=partial(repository.slugs_like, locale),
            where=f"by another {noun} in {locale!r}",
        )
        changed = True
    return changed


async def _category_parent(uow: UnitOfWork, parent_id: uuid.UUID, moving: uuid.UUID | None = None) -> None:
    repository = CategoryRepository(uow.session)
    if await repository.get(parent_id) is None:
        raise _invalid_reference("parent_id", "category", parent_id)
    ancestor: uuid.UUID | None = parent_id
    while moving is not None and ancestor is not None:
        if ancestor == moving:
            raise Conflict("A category cannot be moved under itself.", code="invalid_parent")
        ancestor = await repository.parent_of(ancestor)


async def create_category(
    uow: UnitOfWork, principal: Principal, data: CategoryCreate, *, locales: Locales
) -> CategoryView:
    locales.require_all((t.locale for t in data.translations), field="translations")
    if data.parent_id is not None:
        await _category_parent(uow, data.parent_id)
    repository = CategoryRepository(uow.session)
    category = await repository.add(Category(parent_id=data.parent_id, position=data.position))
    await _put_terms(
        uow,
        category.id,
        data.translations,
        {},
        make=lambda item: CategoryTranslation(
            category_id=category.id, locale=item.locale, name=item.name, description=item.description
        ),
        repository=repository,
        noun="category",
    )
    uow.record(CategoryCreated(category_id=category.id))
    return (await _category_views(uow, [category], reader_for(principal, None, locales.default)))[0]


async def get_category(uow: UnitOfWork, category_id: uuid.UUID, reader: Reader) -> CategoryView:
    category = await CategoryRepository(uow.session).get_or_404(category_id)
    return (await _category_views(uow, [category], reader))[0]


async def list_categories(
    uow: UnitOfWork, params: PageParams, reader: Reader, *, parent_id: uuid.UUID | None, roots: bool
) -> Slice[CategoryView]:
    """A page of categories in tree order within a level (position, then creation): the children of
    ``parent_id``, or only the top level with ``roots``, or all."""
    repository = CategoryRepository(uow.session)
    where = []
    if parent_id is not None:
        where.append(Category.parent_id == parent_id)
    elif roots:
        where.append(Category.parent_id.is_(None))
    found = await repository.page(params, *where, key=[Category.position, Category.id])
    return Slice(await _category_views(uow, found.items, reader), found.next_cursor)


async def update_category(
    uow: UnitOfWork, principal: Principal, category_id: uuid.UUID, data: CategoryUpdate, *, locales: Locales
) -> CategoryView:
    repository = CategoryRepository(uow.session)
    category = await repository.get_or_404(category_id)
    changed = False
    if "parent_id" in data.model_fields_set and data.parent_id != category.parent_id:
        if data.parent_id is not None:
            await _category_parent(uow, data.parent_id, moving=category.id)
        category.parent_id = data.parent_id
        changed = True
    if data.position is not None and data.position != category.position:
        category.position = data.position
        changed = True
    if data.translations is not None:
        locales.require_all((t.locale for t in data.translations), field="translations")
        existing = {t.locale: t for t in await repository.translations([category.id])}
        changed = (
            await _put_terms(
                uow,
                category.id,
                data.translations,
                existing,
                make=lambda item: CategoryTranslation(
                    category_id=category.id, locale=item.locale, name=item.name, description=item.description
                ),
                repository=repository,
                noun="category",
            )
            or changed
        )
    if changed:
        category.updated_at = clock.now()
        uow.record(CategoryUpdated(category_id=category.id))
    return (await _category_views(uow, [category], reader_for(principal, None, locales.default)))[0]


async def delete_category(uow: UnitOfWork, category_id: uuid.UUID) -> None:
    """A category with subcategories is a 409 ``category_has_children``; its nodes stay, uncategorized
    (each announced as ``node.updated``)."""
    repository = CategoryRepository(uow.session)
    category = await repository.get_or_404(category_id)
    if await repository.has_children(category.id):
        raise Conflict(
            "The category has subcategories: move or delete them first.", code="category_has_children"
        )
    nodes = NodeRepository(uow.session)
    for row in await nodes.in_category(category.id):
        uow.record(NodeUpdated(node_id=row.id, kind=row.kind))
    await nodes.clear_category(category.id)
    uow.record(CategoryDeleted(category_id=category.id))
    await repository.delete(category)


# ------------------------------------------------------------------------------------------------- tags


@dataclass(frozen=True, slots=True)
class TagView:
    tag: Tag
    translations: list[TagTranslation]
    use_count: int


async def _tag_views(uow: UnitOfWork, tags: Sequence[Tag], reader: Reader) -> list[TagView]:
    if not tags:
        return []
    repository = TagRepository(uow.session)
    ids = [t.id for t in tags]
    translations = grouped(await repository.translations(ids), lambda t: t.tag_id)
    counts = await repository.use_counts(ids, reader.visibility)
    return [
        TagView(
            tag=t,
            translations=_served(translations.get(t.id, []), reader, lambda r: r.locale),
            use_count=counts.get(t.id, 0),
        )
        for t in tags
    ]


def _tag_name(items: Sequence[TagTranslationIn], default_locale: str) -> str:
    return next((i.name for i in items if i.locale == default_locale), items[0].name)


async def create_tag(uow: UnitOfWork, principal: Principal, data: TagCreate, *, locales: Locales) -> TagView:
    locales.require_all((t.locale for t in data.translations), field="translations")
    repository = TagRepository(uow.session)
    tag = await repository.add(Tag())
    await _put_terms(
        uow,
        tag.id,
        data.translations,
        {},
        make=lambda item: TagTranslation(tag_id=tag.id, locale=item.locale, name=item.name),
        repository=repository,
        noun="tag",
    )
    uow.record(TagCreated(tag_id=tag.id, name=_tag_name(data.translations, locales.default)))
    return (await _tag_views(uow, [tag], reader_for(principal, None, locales.default)))[0]


async def get_tag(uow: UnitOfWork, tag_id: uuid.UUID, reader: Reader) -> TagView:
    tag = await TagRepository(uow.session).get_or_404(tag_id)
    return (await _tag_views(uow, [tag], reader))[0]


async def list_tags(uow: UnitOfWork, params: PageParams, reader: Reader) -> Slice[TagView]:
    found = await TagRepository(uow.session).page(params)
    return Slice(await _tag_views(uow, found.items, reader), found.next_cursor)


async def update_tag(
    uow: UnitOfWork, principal: Principal, tag_id: uuid.UUID, data: TagUpdate, *, locales: Locales
) -> TagView:
    """Translations are upserted per locale."""
    repository = TagRepository(uow.session)
    tag = await repository.get_or_404(tag_id)
    locales.require_all((t.locale for t in data.translations), field="translations")
    existing = {t.locale: t for t in await repository.translations([tag.id])}
    changed = await _put_terms(
        uow,
        tag.id,
        data.translations,
        existing,
        make=lambda item: TagTranslation(tag_id=tag.id, locale=item.locale, name=item.name),
        repository=repository,
        noun="tag",
    )
    if changed:
        tag.updated_at = clock.now()
        uow.record(TagUpdated(tag_id=tag.id))
    return (await _tag_views(uow, [tag], reader_for(principal, None, locales.default)))[0]


async def delete_tag(uow: UnitOfWork, tag_id: uuid.UUID) -> None:
    """Each node the tag was on is announced as ``tag.detached``, then the tag as ``tag.deleted``."""
    repository = TagRepository(uow.session)
    tag = await repository.get_or_404(tag_id)
    for link in await NodeTagRepository(uow.session).of_tag(tag.id):
        uow.record(TagDetached(tag_id=tag.id, target_type="node", target_id=link.node_id))
    uow.record(TagDeleted(tag_id=tag.id))
    await repository.delete(tag)


# ------------------------------------------------------------------------------------ for the search index


@dataclass(frozen=True, slots=True)
class NodeSource:
    """A node as the search index reads it: every translation and body, and the names of its category and
    tags in every locale they have (read-only; for `rustok.index`)."""

    node: Node
    translations: list[NodeTranslation]
    bodies: list[NodeBody]
    category: list[Term]  # the category's name per locale; empty when uncategorized
    tags: list[Term]  # (tag, locale) names, in the order the tags were attached


async def document_sources(uow: UnitOfWork, node_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, NodeSource]:
    """The nodes of ``node_ids`` that exist, with everything the index builds their documents from."""
    if not node_ids:
        return {}
    repository = NodeRepository(uow.session)
    nodes = await repository.list(Node.id.in_(list(node_ids)))
    ids = [node.id for node in nodes]
    translations = grouped(await repository.translations(ids), lambda t: t.node_id)
    bodies = grouped(await repository.bodies(ids), lambda b: b.node_id)
    tags = grouped(await repository.tag_terms(ids), lambda t: t.owner_id)
    category_ids = list({node.category_id for node in nodes if node.category_id is not None})
    categories = (
        grouped(await CategoryRepository(uow.session).terms(category_ids), lambda t: t.owner_id)
        if category_ids
        else {}
    )
    return {
        node.id: NodeSource(
            node=node,
            translations=translations.get(node.id, []),
            bodies=bodies.get(node.id, []),
            category=categories.get(node.category_id, []) if node.category_id is not None else [],
            tags=tags.get(node.id, []),
        )
        for node in nodes
    }


async def document_source(uow: UnitOfWork, node_id: uuid.UUID) -> NodeSource | None:
    """One node for the index, or None when it is gone."""
    return (await document_sources(uow, [node_id])).get(node_id)


async def node_ids_after(uow: UnitOfWork, after_id: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
    """Up to ``limit`` node ids of the tenant after ``after_id``, in id order (every kind and status)."""
    return await NodeRepository(uow.session).ids_after(after_id, limit)


async def existing_node_ids(uow: UnitOfWork, node_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``node_ids`` that still exist."""
    return await NodeRepository(uow.session).existing_ids(node_ids)


async def node_ids_tagged(uow: UnitOfWork, tag_id: uuid.UUID) -> list[uuid.UUID]:
    """The nodes the tag is attached to."""
    return sorted(link.node_id for link in await NodeTagRepository(uow.session).of_tag(tag_id))


async def node_ids_in_category(uow: UnitOfWork, category_id: uuid.UUID) -> list[uuid.UUID]:
    """The nodes in the category."""
    return sorted(row.id for row in await NodeRepository(uow.session).in_category(category_id))
