"""The SQL of categories and tags and their translations. Every statement runs in the request's
tenant-scoped session, which adds the tenant to each one (see `rustok.core.tenancy`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import case, or_, select

from rustok.content.models import Category, CategoryTranslation, NodeTag, Tag, TagTranslation
from rustok.core.pagination import PageParams, Slice
from rustok.core.repository import Repository
from rustok.core.slugs import family


class Term(NamedTuple):
    """A category's or tag's name in one locale, as nodes show them."""

    owner_id: uuid.UUID  # the node (tags) or the category
    id: uuid.UUID
    locale: str
    name: str
    slug: str


class CategoryRepository(Repository[Category]):
    model = Category
    noun = "category"

    async def level(self, params: PageParams, *, parent_id: uuid.UUID | None, roots: bool) -> Slice[Category]:
        """A page of the children of ``parent_id``, or of the top level with ``roots``, or of all, in tree
        order within a level (position, then creation)."""
        where = []
        if parent_id is not None:
            where.append(Category.parent_id == parent_id)
        elif roots:
            where.append(Category.parent_id.is_(None))
        return await self.page(params, *where, key=[Category.position, Category.id])

    async def translations(self, category_ids: Sequence[uuid.UUID]) -> Sequence[CategoryTranslation]:
        statement = (
            select(CategoryTranslation)
            .where(CategoryTranslation.category_id.in_(category_ids))
            .order_by(CategoryTranslation.category_id, CategoryTranslation.locale)
        )
        return (await self.session.scalars(statement)).all()

    async def terms(self, category_ids: Sequence[uuid.UUID]) -> list[Term]:
        return [
            Term(t.category_id, t.category_id, t.locale, t.name, t.slug)
            for t in await self.translations(category_ids)
        ]

    async def slug_owner(self, locale: str, slug: str) -> uuid.UUID | None:
        statement = select(CategoryTranslation.category_id).where(
            CategoryTranslation.locale == locale, CategoryTranslation.slug == slug
        )
        return (await self.session.scalars(statement)).first()

    async def slugs_like(self, locale: str, base: str) -> set[str]:
        statement = select(CategoryTranslation.slug).where(
            CategoryTranslation.locale == locale,
            or_(
                CategoryTranslation.slug == base,
                CategoryTranslation.slug.startswith(family(base), autoescape=True),
            ),
        )
        return set((await self.session.scalars(statement)).all())

    async def has_children(self, category_id: uuid.UUID) -> bool:
        found = await self.session.scalars(select(Category.id).where(Category.parent_id == category_id))
        return found.first() is not None

    async def parent_of(self, category_id: uuid.UUID) -> uuid.UUID | None:
        found = await self.session.scalars(select(Category.parent_id).where(Category.id == category_id))
        return found.first()


class TagRepository(Repository[Tag]):
    model = Tag
    noun = "tag"

    async def translations(self, tag_ids: Sequence[uuid.UUID]) -> Sequence[TagTranslation]:
        statement = (
            select(TagTranslation)
            .where(TagTranslation.tag_id.in_(tag_ids))
            .order_by(TagTranslation.tag_id, TagTranslation.locale)
        )
        return (await self.session.scalars(statement)).all()

    async def by_slug(self, slug: str, locales: Sequence[str]) -> uuid.UUID | None:
        preference = case(
            *((TagTranslation.locale == locale, rank) for rank, locale in enumerate(locales)),
            else_=len(locales),
        )
        statement = (
            select(TagTranslation.tag_id)
            .where(TagTranslation.slug == slug)
            .order_by(preference, TagTranslation.tag_id)
            .limit(1)
        )
        return (await self.session.scalars(statement)).first()

    async def slug_owner(self, locale: str, slug: str) -> uuid.UUID | None:
        statement = select(TagTranslation.tag_id).where(
            TagTranslation.locale == locale, TagTranslation.slug == slug
        )
        return (await self.session.scalars(statement)).first()

    async def slugs_like(self, locale: str, base: str) -> set[str]:
        statement = select(TagTranslation.slug).where(
            TagTranslation.locale == locale,
            or_(TagTranslation.slug == base, TagTranslation.slug.startswith(family(base), autoescape=True)),
        )
        return set((await self.session.scalars(statement)).all())

    async def terms_of_nodes(self, node_ids: Sequence[uuid.UUID]) -> list[Term]:
        """The names of the tags on ``node_ids`` in every locale; each node's in the order they were
        attached."""
        statement = (
            select(
                NodeTag.node_id,
                TagTranslation.tag_id,
                TagTranslation.locale,
                TagTranslation.name,
                TagTranslation.slug,
            )
            .join_from(NodeTag, TagTranslation, TagTranslation.tag_id == NodeTag.tag_id)
            .where(NodeTag.node_id.in_(node_ids))
            .order_by(NodeTag.node_id, NodeTag.created_at, NodeTag.tag_id)
        )
        return [Term(*row) for row in (await self.session.execute(statement)).all()]
