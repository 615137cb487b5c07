"""The SQL of nodes (and comments), their translations, bodies and tag links. Every statement runs in the
request's tenant-scoped session, which adds the tenant to each one (see `rustok.core.tenancy`); filters
that other tables decide (a tag, a locale) are joins, which the scope reaches, not subqueries, which it
cannot."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update

from rustok.content.models import COMMENT, Node, NodeBody, NodeStatus, NodeTag, NodeTranslation
from rustok.content.schemas import NodeFilters
from rustok.core.pagination import PageParams, Slice, paginate
from rustok.core.repository import Repository
from rustok.core.slugs import family


class Visibility(NamedTuple):
    """What unpublished content a caller may see: all of it, none (published only), or its own."""

    all_nodes: bool
    all_comments: bool
    own_comments_of: uuid.UUID | None = None

    @property
    def everything(self) -> bool:
        return self.all_nodes and self.all_comments

    def condition(self) -> ColumnElement[bool] | None:
        """The SQL filter on nodes this caller may see; None when it sees every node of the tenant."""
        if self.everything:
            return None
        published = Node.status == NodeStatus.PUBLISHED.value
        nodes = Node.kind != COMMENT
        comments = Node.kind == COMMENT
        comment_rule: ColumnElement[bool] = published
        if self.all_comments:
            comment_rule = comments
        elif self.own_comments_of is not None:
            comment_rule = or_(published, Node.author_id == self.own_comments_of)
        node_rule: ColumnElement[bool] = nodes if self.all_nodes else and_(nodes, published)
        return or_(node_rule, and_(comments, comment_rule))

    def sees(self, node: Node) -> bool:
        if node.status == NodeStatus.PUBLISHED.value:
            return True
        if node.kind == COMMENT:
            return self.all_comments or (
                self.own_comments_of is not None and node.author_id == self.own_comments_of
            )
        return self.all_nodes


class NodeRepository(Repository[Node]):
    model = Node
    noun = "node"

    async def visible(self, node_id: uuid.UUID, visibility: Visibility, *, lock: bool = False) -> Node | None:
        """The node if the caller sees it. ``lock`` takes its row lock (``FOR UPDATE``; SQLite's writers are
        serialized anyway) and reads its latest committed state, so a write that checks the node's status
        or existence and acts on it cannot race another that does the same."""
        statement = self.select().where(Node.id == node_id)
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        node = (await self.session.scalars(statement)).one_or_none()
        return node if node is not None and visibility.sees(node) else None

    async def by_ids(self, node_ids: Sequence[uuid.UUID]) -> Sequence[Node]:
        return await self.list(Node.id.in_(list(node_ids)))

    async def filtered_page(
        self, filters: NodeFilters, params: PageParams, visibility: Visibility, *, tag_id: uuid.UUID | None
    ) -> Slice[Node]:
        """A page of the nodes ``visibility`` sees that pass ``filters`` (``tag_id``: the tag the filter
        named, found), in the filters' order. The locale and the tag are joins, which the scope reaches."""
        statement = self.select()
        for column, value in (
            (Node.kind, filters.kind),
            (Node.status, filters.status.value if filters.status else None),
            (Node.category_id, filters.category_id),
            (Node.author_id, filters.author_id),
            (Node.parent_id, filters.parent_id),
        ):
            if value is not None:
                statement = statement.where(column == value)
        condition = visibility.condition()
        if condition is not None:
            statement = statement.where(condition)
        if filters.locale is not None:
            statement = statement.join(
                NodeTranslation,
                (NodeTranslation.node_id == Node.id) & (NodeTranslation.locale == filters.locale),
            )
        if tag_id is not None:
            statement = statement.join(NodeTag, (NodeTag.node_id == Node.id) & (NodeTag.tag_id == tag_id))
        key = [Node.position, Node.id] if filters.sort == "position" else [Node.id]
        return await paginate(
            self.session, statement, key=key, params=params, descending=filters.sort == "-created"
        )

    async def translations(self, node_ids: Sequence[uuid.UUID]) -> Sequence[NodeTranslation]:
        statement = (
            select(NodeTranslation)
            .where(NodeTranslation.node_id.in_(node_ids))
            .order_by(NodeTranslation.node_id, NodeTranslation.locale)
        )
        return (await self.session.scalars(statement)).all()

    async def bodies(self, node_ids: Sequence[uuid.UUID]) -> Sequence[NodeBody]:
        statement = (
            select(NodeBody).where(NodeBody.node_id.in_(node_ids)).order_by(NodeBody.node_id, NodeBody.locale)
        )
        return (await self.session.scalars(statement)).all()

    async def slug_owner(self, kind: str, locale: str, slug: str) -> uuid.UUID | None:
        statement = select(NodeTranslation.node_id).where(
            NodeTranslation.kind == kind, NodeTranslation.locale == locale, NodeTranslation.slug == slug
        )
        return (await self.session.scalars(statement)).first()

    async def slugs_like(self, kind: str, locale: str, base: str) -> set[str]:
        """Slugs of ``kind`` in ``locale`` that are ``base`` or may be a numbered form of it."""
        statement = select(NodeTranslation.slug).where(
            NodeTranslation.kind == kind,
            NodeTranslation.locale == locale,
            or_(NodeTranslation.slug == base, NodeTranslation.slug.startswith(family(base), autoescape=True)),
        )
        return set((await self.session.scalars(statement)).all())

    async def by_slug(
        self, slug: str, kind: str | None, locales: Sequence[str], visibility: Visibility
    ) -> Node | None:
        """The visible node with ``slug`` (of ``kind``), preferring a translation in the first of
        ``locales``, then the next, then any locale."""
        preference = case(
            *((NodeTranslation.locale == locale, rank) for rank, locale in enumerate(locales)),
            else_=len(locales),
        )
        statement = (
            select(Node)
            .join(NodeTranslation, NodeTranslation.node_id == Node.id)
            .where(NodeTranslation.slug == slug)
            .order_by(preference, Node.id)
            .limit(1)
        )
        if kind is not None:
            statement = statement.where(NodeTranslation.kind == kind)
        condition = visibility.condition()
        if condition is not None:
            statement = statement.where(condition)
        return (await self.session.scalars(statement)).first()

    async def children(self, parent_ids: Iterable[uuid.UUID]) -> Sequence[Any]:
        statement = select(Node.id, Node.kind, Node.status, Node.parent_id).where(
            Node.parent_id.in_(list(parent_ids))
        )
        return (await self.session.execute(statement)).all()

    async def parent_of(self, node_id: uuid.UUID) -> uuid.UUID | None:
        return (await self.session.scalars(select(Node.parent_id).where(Node.id == node_id))).first()

    async def bump_replies(self, node_id: uuid.UUID, delta: int) -> None:
        """Add ``delta`` to the node's reply count in one statement, so concurrent replies all count."""
        statement = (
            update(Node)
            .where(Node.id == node_id)
            .values(reply_count=Node.reply_count + delta)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(statement)

    async def shift_depth(self, node_ids: Sequence[uuid.UUID], delta: int) -> None:
        statement = (
            update(Node)
            .where(Node.id.in_(node_ids))
            .values(depth=Node.depth + delta)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(statement)

    async def in_category(self, category_id: uuid.UUID) -> Sequence[Any]:
        statement = select(Node.id, Node.kind).where(Node.category_id == category_id)
        return (await self.session.execute(statement)).all()

    async def clear_category(self, category_id: uuid.UUID) -> None:
        statement = (
            update(Node)
            .where(Node.category_id == category_id)
            .values(category_id=None)
            .execution_options(synchronize_session="fetch")
        )
        await self.session.execute(statement)

    async def counts_by_category(
        self, category_ids: Sequence[uuid.UUID], visibility: Visibility
    ) -> dict[uuid.UUID, int]:
        statement = select(Node.category_id, func.count(Node.id)).where(Node.category_id.in_(category_ids))
        condition = visibility.condition()
        if condition is not None:
            statement = statement.where(condition)
        rows = (await self.session.execute(statement.group_by(Node.category_id))).all()
        return {row[0]: int(row[1]) for row in rows if row[0] is not None}

    async def counts_by_tag(
        self, tag_ids: Sequence[uuid.UUID], visibility: Visibility
    ) -> dict[uuid.UUID, int]:
        statement = (
            select(NodeTag.tag_id, func.count(Node.id))
            .join(Node, Node.id == NodeTag.node_id)
            .where(NodeTag.tag_id.in_(tag_ids))
            .group_by(NodeTag.tag_id)
        )
        condition = visibility.condition()
        if condition is not None:
            statement = statement.where(condition)
        rows = (await self.session.execute(statement)).all()
        return {row[0]: int(row[1]) for row in rows}


class NodeTagRepository(Repository[NodeTag]):
    model = NodeTag
    noun = "tag attachment"

    async def find(self, node_id: uuid.UUID, tag_id: uuid.UUID) -> NodeTag | None:
        statement = select(NodeTag).where(NodeTag.node_id == node_id, NodeTag.tag_id == tag_id)
        return (await self.session.scalars(statement)).one_or_none()

    async def of_tag(self, tag_id: uuid.UUID) -> Sequence[NodeTag]:
        return (await self.session.scalars(select(NodeTag).where(NodeTag.tag_id == tag_id))).all()
