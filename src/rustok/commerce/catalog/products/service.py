"""The use cases of products: with their translations and options, and their status.

Rules kept here (statuses, handles and locale serving are the kernel's, `rustok.core.publishing` and
`rustok.core.translations`):

- **One transaction.** Every change and its events (``product.*``) are written in the request's unit of
  work: all or nothing. A write that changes nothing records nothing.
- **Visibility.** Draft and archived products, with their variants, prices and stock, are a 404 to callers
  who may not edit products (``products:update`` on all of them): anonymous callers and customers see
  ``active`` products only.
- **Status.** Entering or leaving ``active`` is publishing and unpublishing (``products:publish``;
  ``published_at`` set the first time); ``draft`` ↔ ``archived`` is a plain update.
- **Handles** are unique per tenant and locale.
- **Locales.** Writes in a locale the tenant has not enabled are a 422 ``locale_not_enabled``, checked
  against the tenant's locales as the database has them in the writing transaction; reads with
  ``?locale=`` serve that locale, falling back to the tenant's default.
- **Options.** Replacing a product's options so that an existing variant no longer fits is a 409
  ``options_in_use``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from rustok.commerce.catalog.products.repository import ProductRepository
from rustok.commerce.catalog.schemas import OptionIn, ProductCreate, ProductTranslationIn, ProductUpdate
from rustok.commerce.catalog.variants.repository import VariantRepository
from rustok.commerce.events import (
    ProductCreated,
    ProductDeleted,
    ProductPublished,
    ProductUnpublished,
    ProductUpdated,
    VariantDeleted,
)
from rustok.commerce.models import Product, ProductOption, ProductStatus, ProductTranslation
from rustok.core import clock
from rustok.core.deps import RequestContext
from rustok.core.errors import Conflict, NotFound
from rustok.core.pagination import PageParams, Slice
from rustok.core.permissions import Scope
from rustok.core.publishing import Change, Lifecycle, Reader
from rustok.core.repository import grouped
from rustok.core.translations import SlugScope, put_translation
from rustok.core.uow import UnitOfWork
from rustok.tenants.service import tenant_locales

ProductReader = Reader[bool]  # sees: unpublished products too
LIFECYCLE = Lifecycle("product", published=ProductStatus.ACTIVE.value)


def reader_for(ctx: RequestContext, locale: str | None = None) -> ProductReader:
    """Callers who may edit every product see drafts and archived ones; everyone else active ones only."""
    return Reader.of(ctx, ctx.grant("products:update") is Scope.ALL, locale)


async def product_or_404(
    uow: UnitOfWork, product_id: uuid.UUID, *, everything: bool, lock: bool = False
) -> Product:
    product = await ProductRepository(uow.session).visible(product_id, everything=everything, lock=lock)
    if product is None:
        raise NotFound(f"No product with id {product_id}.")
    return product


# ------------------------------------------------------------------------------------------------- views


@dataclass(frozen=True, slots=True)
class ProductView:
    product: Product
    translations: list[ProductTranslation]
    options: list[ProductOption]


async def _views(uow: UnitOfWork, products: Sequence[Product], reader: ProductReader) -> list[ProductView]:
    if not products:
        return []
    repository = ProductRepository(uow.session)
    ids = [p.id for p in products]
    translations = grouped(await repository.translations(ids), lambda t: t.product_id)
    options = grouped(await repository.options(ids), lambda o: o.product_id)
    return [
        ProductView(p, reader.served(translations.get(p.id, [])), options.get(p.id, [])) for p in products
    ]


async def _view(uow: UnitOfWork, product: Product, reader: ProductReader) -> ProductView:
    return (await _views(uow, [product], reader))[0]


# ------------------------------------------------------------------------------------------------ options


def options_of(rows: Sequence[ProductOption]) -> list[tuple[str, list[str]]]:
    return [(row.name, list(row.values)) for row in rows]


def fits(options: dict[str, str], product_options: Sequence[tuple[str, list[str]]]) -> bool:
    """Whether ``options`` name every option of the product exactly once, each with one of its values."""
    allowed = dict(product_options)
    return set(options) == set(allowed) and all(value in allowed[name] for name, value in options.items())


async def _put_options(
    uow: UnitOfWork, product: Product, options: Sequence[OptionIn], *, replace: bool = True
) -> None:
    if replace:
        await ProductRepository(uow.session).clear_options(product.id)
    for position, option in enumerate(options):
        uow.session.add(
            ProductOption(
                product_id=product.id, name=option.name, values=list(option.values), position=position
            )
        )
    await uow.session.flush()


# ------------------------------------------------------------------------------------ the product's parts


async def _put_translation(
    uow: UnitOfWork, product: Product, data: ProductTranslationIn, existing: ProductTranslation | None
) -> bool:
    """Insert or change the product's translation in ``data.locale``; True when anything changed."""
    repository = ProductRepository(uow.session)
    return await put_translation(
        uow.session,
        data,
        existing,
        make=lambda: ProductTranslation(
            product_id=product.id,
            locale=data.locale,
            title=data.title,
            subtitle=data.subtitle,
            description=data.description,
        ),
        title=data.title,
        scope=SlugScope(
            owner_id=product.id,
            slug_owner=partial(repository.slug_owner, data.locale),
            slugs_like=partial(repository.slugs_like, data.locale),
            where=f"by another product in {data.locale!r}",
            field="handle",
        ),
    )


def _announce(uow: UnitOfWork, product: Product, change: Change) -> bool:
    """Announce a status change the product went through. True when it is a plain update (draft ↔
    archived), which the caller announces as ``product.updated``."""
    if change is Change.PUBLISHED:
        uow.record(ProductPublished(product_id=product.id))
    elif change is Change.UNPUBLISHED:
        uow.record(ProductUnpublished(product_id=product.id))
    return change is Change.UPDATED


# ------------------------------------------------------------------------------------------------ use cases


async def create_product(ctx: RequestContext, data: ProductCreate) -> ProductView:
    uow = ctx.uow
    ctx.authorize("products:create")
    (await tenant_locales(uow)).require_all((t.locale for t in data.translations), field="translations")
    status = data.status or ProductStatus.DRAFT
    if status is ProductStatus.ACTIVE:
        ctx.authorize("products:publish")
    product = Product(
        status=ProductStatus.ARCHIVED.value
        if status is ProductStatus.ARCHIVED
        else ProductStatus.DRAFT.value,
        meta=data.metadata,
    )
    await ProductRepository(uow.session).add(product)
    uow.record(ProductCreated(product_id=product.id))
    for translation in data.translations:
        await _put_translation(uow, product, translation, None)
    await _put_options(uow, product, data.options, replace=False)
    if status is ProductStatus.ACTIVE:
        _announce(uow, product, LIFECYCLE.move(product, status.value))
    return await _view(uow, product, reader_for(ctx))


async def get_product(
    ctx: RequestContext, product_id: uuid.UUID, *, locale: str | None = None
) -> ProductView:
    reader = reader_for(ctx, locale)
    return await _view(ctx.uow, await product_or_404(ctx.uow, product_id, everything=reader.sees), reader)


async def list_products(
    ctx: RequestContext, params: PageParams, *, status: ProductStatus | None = None, locale: str | None = None
) -> Slice[ProductView]:
    """A page of the products the caller sees, newest first. ``locale`` keeps the products translated
    into it (and serves that translation)."""
    reader = reader_for(ctx, locale)
    found = await ProductRepository(ctx.uow.session).filtered_page(
        params, everything=reader.sees, status=status, locale=locale
    )
    return Slice(await _views(ctx.uow, found.items, reader), found.next_cursor)


async def update_product(ctx: RequestContext, product_id: uuid.UUID, data: ProductUpdate) -> ProductView:
    uow = ctx.uow
    ctx.authorize("products:update")
    product = await product_or_404(uow, product_id, everything=True, lock=True)
    repository = ProductRepository(uow.session)
    changed = False
    if data.metadata is not None and data.metadata != product.meta:
        product.meta = data.metadata
        changed = True
    if data.translations is not None:
        (await tenant_locales(uow)).require_all((t.locale for t in data.translations), field="translations")
        existing = {t.locale: t for t in await repository.translations([product.id])}
        for translation in data.translations:
            changed = (
                await _put_translation(uow, product, translation, existing.get(translation.locale)) or changed
            )
    if data.options is not None:
        new = [(o.name, list(o.values)) for o in data.options]
        if new != options_of(await repository.options([product.id])):
            for variant in await VariantRepository(uow.session).of_product(product.id):
                if not fits(variant.options, new):
                    raise Conflict(
                        f"The variant {variant.sku!r} does not fit the new options: "
                        "change or delete it first.",
                        code="options_in_use",
                    )
            await _put_options(uow, product, data.options)
            changed = True
    if data.status is not None:
        if LIFECYCLE.crosses(product.status, data.status.value):
            ctx.authorize("products:publish")
        changed = _announce(uow, product, LIFECYCLE.move(product, data.status.value)) or changed
    if changed:
        product.updated_at = clock.now()
        uow.record(ProductUpdated(product_id=product.id))
    return await _view(uow, product, reader_for(ctx))


async def delete_product(ctx: RequestContext, product_id: uuid.UUID) -> None:
    """The product goes with its translations, options and variants (with their prices and stock); each
    variant is announced as ``variant.deleted``, then the product as ``product.deleted``."""
    uow = ctx.uow
    ctx.authorize("products:delete")
    product = await product_or_404(uow, product_id, everything=True, lock=True)
    for variant in await VariantRepository(uow.session).of_product(product.id):
        uow.record(VariantDeleted(variant_id=variant.id, product_id=product.id))
    uow.record(ProductDeleted(product_id=product.id))
    await ProductRepository(uow.session).delete(product)


async def publish_product(ctx: RequestContext, product_id: uuid.UUID) -> ProductView:
    return await _publication(ctx, product_id, LIFECYCLE.publish)


async def unpublish_product(ctx: RequestContext, product_id: uuid.UUID) -> ProductView:
    return await _publication(ctx, product_id, LIFECYCLE.unpublish)


async def _publication(
    ctx: RequestContext, product_id: uuid.UUID, move: Callable[[Product], Change]
) -> ProductView:
    """The publish routes: ``move`` is `Lifecycle.publish` or `Lifecycle.unpublish`."""
    ctx.authorize("products:publish")
    product = await product_or_404(ctx.uow, product_id, everything=True, lock=True)
    _announce(ctx.uow, product, move(product))
    product.updated_at = clock.now()
    return await _view(ctx.uow, product, reader_for(ctx))
