"""The use cases of categories and tags, the terms that organise nodes.

- **Categories** form a tree (``parent_id``, ``position``) with per-locale names, slugs and descriptions.
  Moving one under itself or a descendant is a 409 ``invalid_parent``; deleting one with subcategories a
  409 ``category_has_children``; deleting one leaves its nodes uncategorized (each announced as
  ``node.updated``).
- **Tags** have per-locale names and slugs; deleting one detaches it from every node (``tag.detached``
  each), then announces ``tag.deleted``.
- **Slugs** are unique per tenant and locale, upserted as every translation is (`rustok.core.translations`).
- **Counts** (``node_count``, ``use_count``) count the nodes the caller can see.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from rustok.content.events import (
    CategoryCreated,
    CategoryDeleted,
    CategoryUpdated,
    NodeUpdated,
    TagCreated,
    TagDeleted,
    TagDetached,
    TagUpdated,
)
from rustok.content.models import Category, CategoryTranslation, Tag, TagTranslation
from rustok.content.nodes.access import NodeReader, reader_for
from rustok.content.nodes.repository import NodeRepository, NodeTagRepository
from rustok.content.nodes.service import invalid_reference
from rustok.content.schemas import (
    CategoryCreate,
    CategoryTranslationIn,
    CategoryUpdate,
    TagCreate,
    TagTranslationIn,
    TagUpdate,
)
from rustok.content.terms.repository import CategoryRepository, TagRepository
from rustok.core import clock
from rustok.core.deps import RequestContext
from rustok.core.errors import Conflict
from rustok.core.pagination import PageParams, Slice
from rustok.core.repository import grouped
from rustok.core.translations import SlugScope, put_translation
from rustok.core.uow import UnitOfWork
from rustok.tenants.service import tenant_locales

TermIn = CategoryTranslationIn | TagTranslationIn


async def _put_terms(
    uow: UnitOfWork,
    owner_id: uuid.UUID,
    items: Sequence[TermIn],
    existing: dict[str, Any],
    *,
    make: Callable[[Any], Any],
    repository: CategoryRepository | TagRepository,
    noun: str,
) -> bool:
    """Upsert a category's or tag's translations per locale; True when anything changed."""
    changed = False
    for item in items:
        scope = SlugScope(
            owner_id=owner_id,
            slug_owner=partial(repository.slug_owner, item.locale),
            slugs_like=partial(repository.slugs_like, item.locale),
            where=f"by another {noun} in {item.locale!r}",
        )
        row = existing.get(item.locale)
        changed = (
            await put_translation(
                uow.session, item, row, make=partial(make, item), title=item.name, scope=scope
            )
            or changed
        )
    return changed


# ------------------------------------------------------------------------------------------- categories


@dataclass(frozen=True, slots=True)
class CategoryView:
    category: Category
    translations: list[CategoryTranslation]
    node_count: int


async def _category_views(
    uow: UnitOfWork, categories: Sequence[Category], reader: NodeReader
) -> list[CategoryView]:
    if not categories:
        return []
    ids = [c.id for c in categories]
    translations = grouped(await CategoryRepository(uow.session).translations(ids), lambda t: t.category_id)
    counts = await NodeRepository(uow.session).counts_by_category(ids, reader.sees)
    return [
        CategoryView(
            category=c, translations=reader.served(translations.get(c.id, [])), node_count=counts.get(c.id, 0)
        )
        for c in categories
    ]


async def _category_view(ctx: RequestContext, category: Category, locale: str | None = None) -> CategoryView:
    return (await _category_views(ctx.uow, [category], reader_for(ctx, locale)))[0]


def _category_translation(category: Category, item: CategoryTranslationIn) -> CategoryTranslation:
    return CategoryTranslation(
        category_id=category.id, locale=item.locale, name=item.name, description=item.description
    )


async def _category_parent(uow: UnitOfWork, parent_id: uuid.UUID, moving: uuid.UUID | None = None) -> None:
    repository = CategoryRepository(uow.session)
    if await repository.get(parent_id) is None:
        raise invalid_reference("parent_id", "category", parent_id)
    ancestor: uuid.UUID | None = parent_id
    while moving is not None and ancestor is not None:
        if ancestor == moving:
            raise Conflict("A category cannot be moved under itself.", code="invalid_parent")
        ancestor = await repository.parent_of(ancestor)


async def create_category(ctx: RequestContext, data: CategoryCreate) -> CategoryView:
    uow = ctx.uow
    ctx.authorize("categories:create")
    (await tenant_locales(uow)).require_all((t.locale for t in data.translations), field="translations")
    if data.parent_id is not None:
        await _category_parent(uow, data.parent_id)
    repository = CategoryRepository(uow.session)
    category = await repository.add(Category(parent_id=data.parent_id, position=data.position))
    await _put_terms(
        uow,
        category.id,
        data.translations,
        {},
        make=partial(_category_translation, category),
        repository=repository,
        noun="category",
    )
    uow.record(CategoryCreated(category_id=category.id))
    return await _category_view(ctx, category)


async def get_category(
    ctx: RequestContext, category_id: uuid.UUID, *, locale: str | None = None
) -> CategoryView:
    category = await CategoryRepository(ctx.uow.session).get_or_404(category_id)
    return await _category_view(ctx, category, locale)


async def list_categories(
    ctx: RequestContext,
    params: PageParams,
    *,
    parent_id: uuid.UUID | None = None,
    roots: bool = False,
    locale: str | None = None,
) -> Slice[CategoryView]:
    """A page of categories in tree order within a level (position, then creation): the children of
    ``parent_id``, or only the top level with ``roots``, or all."""
    found = await CategoryRepository(ctx.uow.session).level(params, parent_id=parent_id, roots=roots)
    return Slice(await _category_views(ctx.uow, found.items, reader_for(ctx, locale)), found.next_cursor)


async def update_category(ctx: RequestContext, category_id: uuid.UUID, data: CategoryUpdate) -> CategoryView:
    uow = ctx.uow
    ctx.authorize("categories:update")
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
        (await tenant_locales(uow)).require_all((t.locale for t in data.translations), field="translations")
        existing = {t.locale: t for t in await repository.translations([category.id])}
        changed = (
            await _put_terms(
                uow,
                category.id,
                data.translations,
                existing,
                make=partial(_category_translation, category),
                repository=repository,
                noun="category",
            )
            or changed
        )
    if changed:
        category.updated_at = clock.now()
        uow.record(CategoryUpdated(category_id=category.id))
    return await _category_view(ctx, category)


async def delete_category(ctx: RequestContext, category_id: uuid.UUID) -> None:
    """A category with subcategories is a 409 ``category_has_children``; its nodes stay, uncategorized
    (each announced as ``node.updated``)."""
    uow = ctx.uow
    ctx.authorize("categories:delete")
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


async def _tag_views(uow: UnitOfWork, tags: Sequence[Tag], reader: NodeReader) -> list[TagView]:
    if not tags:
        return []
    ids = [t.id for t in tags]
    translations = grouped(await TagRepository(uow.session).translations(ids), lambda t: t.tag_id)
    counts = await NodeRepository(uow.session).counts_by_tag(ids, reader.sees)
    return [
        TagView(tag=t, translations=reader.served(translations.get(t.id, [])), use_count=counts.get(t.id, 0))
        for t in tags
    ]


async def _tag_view(ctx: RequestContext, tag: Tag, locale: str | None = None) -> TagView:
    return (await _tag_views(ctx.uow, [tag], reader_for(ctx, locale)))[0]


def _tag_translation(tag: Tag, item: TagTranslationIn) -> TagTranslation:
    return TagTranslation(tag_id=tag.id, locale=item.locale, name=item.name)


async def create_tag(ctx: RequestContext, data: TagCreate) -> TagView:
    uow = ctx.uow
    ctx.authorize("tags:create")
    locales = await tenant_locales(uow)
    locales.require_all((t.locale for t in data.translations), field="translations")
    repository = TagRepository(uow.session)
    tag = await repository.add(Tag())
    await _put_terms(
        uow,
        tag.id,
        data.translations,
        {},
        make=partial(_tag_translation, tag),
        repository=repository,
        noun="tag",
    )
    name = next((i.name for i in data.translations if i.locale == locales.default), data.translations[0].name)
    uow.record(TagCreated(tag_id=tag.id, name=name))
    return await _tag_view(ctx, tag)


async def get_tag(ctx: RequestContext, tag_id: uuid.UUID, *, locale: str | None = None) -> TagView:
    return await _tag_view(ctx, await TagRepository(ctx.uow.session).get_or_404(tag_id), locale)


async def list_tags(ctx: RequestContext, params: PageParams, *, locale: str | None = None) -> Slice[TagView]:
    found = await TagRepository(ctx.uow.session).page(params)
    return Slice(await _tag_views(ctx.uow, found.items, reader_for(ctx, locale)), found.next_cursor)


async def update_tag(ctx: RequestContext, tag_id: uuid.UUID, data: TagUpdate) -> TagView:
    """Translations are upserted per locale."""
    uow = ctx.uow
    ctx.authorize("tags:update")
    repository = TagRepository(uow.session)
    tag = await repository.get_or_404(tag_id)
    (await tenant_locales(uow)).require_all((t.locale for t in data.translations), field="translations")
    existing = {t.locale: t for t in await repository.translations([tag.id])}
    changed = await _put_terms(
        uow,
        tag.id,
        data.translations,
        existing,
        make=partial(_tag_translation, tag),
        repository=repository,
        noun="tag",
    )
    if changed:
        tag.updated_at = clock.now()
        uow.record(TagUpdated(tag_id=tag.id))
    return await _tag_view(ctx, tag)


async def delete_tag(ctx: RequestContext, tag_id: uuid.UUID) -> None:
    """Each node the tag was on is announced as ``tag.detached``, then the tag as ``tag.deleted``."""
    uow = ctx.uow
    ctx.authorize("tags:delete")
    repository = TagRepository(uow.session)
    tag = await repository.get_or_404(tag_id)
    for link in await NodeTagRepository(uow.session).of_tag(tag.id):
        uow.record(TagDetached(tag_id=tag.id, target_type="node", target_id=link.node_id))
    uow.record(TagDeleted(tag_id=tag.id))
    await repository.delete(tag)
