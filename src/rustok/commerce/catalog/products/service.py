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
- **Descriptions** are markdown, rendered and sanitized (as node bodies are, `rustok.content.render`) when
  they are written, and served as ``description_html`` beside the markdown.
- **Images** are media items of the tenant (422 ``media_not_found`` otherwise), each once, in order, with
  alt text per enabled locale; given on a write, they replace the product's list.
- **Reads** embed the variants with their prices and availability (`rustok.commerce.catalog.products.views`);
  ``?currency=`` keeps the prices in it, and a currency none of the tenant's prices is in is a 422
  ``currency_not_sold``. The storefront's list filters by price and stock and sorts by price.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from rustok.commerce.catalog.products.repository import ListFilters, ProductRepository
from rustok.commerce.catalog.products.views import ProductView, Serving, reader_for, view, views
from rustok.commerce.catalog.schemas import (
    OptionIn,
    ProductCreate,
    ProductImageIn,
    ProductSort,
    ProductTranslationIn,
    ProductUpdate,
)
from rustok.commerce.catalog.variants.repository import VariantRepository
from rustok.commerce.events import (
    ProductCreated,
    ProductDeleted,
    ProductPublished,
    ProductUnpublished,
    ProductUpdated,
    VariantDeleted,
)
from rustok.commerce.models import Product, ProductImage, ProductOption, ProductStatus, ProductTranslation
from rustok.content import service as content
from rustok.core import clock
from rustok.core.deps import RequestContext
from rustok.core.errors import Conflict, NotFound, Unprocessable
from rustok.core.pagination import PageParams, Slice
from rustok.core.publishing import Change, Lifecycle
from rustok.core.translations import SlugScope, put_translation
from rustok.core.uow import UnitOfWork
from rustok.tenants.service import tenant_locales

LIFECYCLE = Lifecycle("product", published=ProductStatus.ACTIVE.value)

__all__ = [
    "LIFECYCLE",
    "ProductView",
    "create_product",
    "delete_product",
    "fits",
    "get_product",
    "get_product_by_handle",
    "list_products",
    "options_of",
    "product_or_404",
    "publish_product",
    "reader_for",
    "unpublish_product",
    "update_product",
]


async def product_or_404(
    uow: UnitOfWork, product_id: uuid.UUID, *, everything: bool, lock: bool = False
) -> Product:
    product = await ProductRepository(uow.session).visible(product_id, everything=everything, lock=lock)
    if product is None:
        raise NotFound(f"No product with id {product_id}.")
    return product


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


def _rendered(description: str | None) -> str | None:
    return None if description is None else content.render(description, content.BodyFormat.MARKDOWN)


async def _put_translation(
    uow: UnitOfWork, product: Product, data: ProductTranslationIn, existing: ProductTranslation | None
) -> bool:
    """Insert or change the product's translation in ``data.locale`` (its description rendered); True
    when anything changed."""
    repository = ProductRepository(uow.session)
    changed = await put_translation(
        uow.session,
        data,
        existing,
        make=lambda: ProductTranslation(
            product_id=product.id,
            locale=data.locale,
            title=data.title,
            subtitle=data.subtitle,
            description=data.description,
            description_html=_rendered(data.description),
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
    if existing is not None and "description" in data.model_fields_set:
        existing.description_html = _rendered(existing.description)
    return changed


def _media_not_found(index: int, media_id: uuid.UUID) -> Unprocessable:
    detail = f"No media item with id {media_id}."
    return Unprocessable(
        detail,
        code="media_not_found",
        errors=[{"loc": ["body", "images", index, "media_id"], "msg": detail, "type": "media_not_found"}],
    )


async def _check_images(ctx: RequestContext, images: Sequence[ProductImageIn]) -> None:
    """Every image a media item of the tenant (422 ``media_not_found``), its alt texts in enabled locales
    (422 ``locale_not_enabled``)."""
    found = await content.existing_media_ids(ctx.uow, [image.media_id for image in images])
    for index, image in enumerate(images):
        if image.media_id not in found:
            raise _media_not_found(index, image.media_id)
    if any(image.alt for image in images):
        locales = await tenant_locales(ctx.uow)
        for index, image in enumerate(images):
            for locale in image.alt:
                locales.require(locale, loc=("body", "images", index, "alt", locale))


async def _put_images(
    uow: UnitOfWork, product: Product, images: Sequence[ProductImageIn], *, replace: bool = True
) -> bool:
    """Make ``images`` the product's images, in order (``replace``: instead of those it has); True when
    that changed them."""
    repository = ProductRepository(uow.session)
    wanted = [(image.media_id, dict(image.alt)) for image in images]
    if replace:
        if wanted == [(row.media_id, row.alt) for row in await repository.images([product.id])]:
            return False
        await repository.clear_images(product.id)
    for position, (media_id, alt) in enumerate(wanted):
        uow.session.add(ProductImage(product_id=product.id, media_id=media_id, position=position, alt=alt))
    await uow.session.flush()
    return True


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
    if data.images:
        await _check_images(ctx, data.images)
        await _put_images(uow, product, data.images, replace=False)
    if status is ProductStatus.ACTIVE:
        _announce(uow, product, LIFECYCLE.move(product, status.value))
    return await view(ctx, product, Serving.of(ctx))


def _query_error(detail: str, code: str, field: str) -> Unprocessable:
    return Unprocessable(detail, code=code, errors=[{"loc": ["query", field], "msg": detail, "type": code}])


async def _serving(ctx: RequestContext, locale: str | None, currency: str | None) -> Serving:
    """How this read serves products; a currency none of the tenant's prices is in is a 422."""
    if currency is not None and not await ProductRepository(ctx.uow.session).sells(currency):
        raise _query_error(
            f"This shop sells nothing in {currency}.", code="currency_not_sold", field="currency"
        )
    return Serving.of(ctx, locale, currency)


async def get_product(
    ctx: RequestContext, product_id: uuid.UUID, *, locale: str | None = None, currency: str | None = None
) -> ProductView:
    serving = await _serving(ctx, locale, currency)
    product = await product_or_404(ctx.uow, product_id, everything=serving.reader.sees)
    return await view(ctx, product, serving)


async def get_product_by_handle(
    ctx: RequestContext, handle: str, *, locale: str | None = None, currency: str | None = None
) -> ProductView:
    """The product with this handle: in the asked locale first, then the default, then any locale."""
    serving = await _serving(ctx, locale, currency)
    product = await ProductRepository(ctx.uow.session).by_handle(
        handle, serving.reader.preference, everything=serving.reader.sees
    )
    if product is None:
        raise NotFound(f"No product with handle {handle!r}.")
    return await view(ctx, product, serving)


@dataclass(frozen=True, slots=True)
class ProductQuery:
    """A list's filters and sort as the caller gave them (``?status=&locale=&currency=&min_price=&...``)."""

    status: ProductStatus | None = None
    locale: str | None = None
    currency: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    sort: ProductSort = ProductSort.NEWEST


def _check_query(query: ProductQuery) -> None:
    if query.currency is None:
        for field, given in (
            ("min_price", query.min_price is not None),
            ("max_price", query.max_price is not None),
            ("sort", query.sort is not ProductSort.NEWEST),
        ):
            if given:
                raise _query_error(
                    f"`{field}` is about prices in one currency: give `currency` too.",
                    code="currency_required",
                    field=field,
                )
    if query.min_price is not None and query.max_price is not None and query.min_price > query.max_price:
        raise _query_error("`min_price` is above `max_price`.", code="invalid_price_range", field="min_price")


async def list_products(
    ctx: RequestContext, params: PageParams, query: ProductQuery | None = None
) -> Slice[ProductView]:
    """A page of the products the caller sees, newest first or by price. ``locale`` keeps the products
    translated into it (and serves that translation); ``currency`` those with a price in it (and serves
    only those prices), which ``min_price``/``max_price`` bound (a product's price is its cheapest
    variant's); ``in_stock`` those that can (or, false, cannot) be ordered now."""
    query = query or ProductQuery()
    _check_query(query)
    serving = await _serving(ctx, query.locale, query.currency)
    by_price = {ProductSort.NEWEST: 0, ProductSort.PRICE: 1, ProductSort.PRICE_DESC: -1}[query.sort]
    filters = ListFilters(
        everything=serving.reader.sees,
        status=query.status,
        locale=query.locale,
        currency=query.currency,
        min_price=query.min_price,
        max_price=query.max_price,
        in_stock=query.in_stock,
        by_price=by_price,
    )
    found = await ProductRepository(ctx.uow.session).storefront_page(params, filters)
    return Slice(await views(ctx, found.items, serving), found.next_cursor)


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
    if data.images is not None:
        await _check_images(ctx, data.images)
        changed = await _put_images(uow, product, data.images) or changed
    if data.status is not None:
        if LIFECYCLE.crosses(product.status, data.status.value):
            ctx.authorize("products:publish")
        changed = _announce(uow, product, LIFECYCLE.move(product, data.status.value)) or changed
    if changed:
        product.updated_at = clock.now()
        uow.record(ProductUpdated(product_id=product.id))
    return await view(ctx, product, Serving.of(ctx))


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
    return await view(ctx, product, Serving.of(ctx))
