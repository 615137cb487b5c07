"""Products as reads serve them: with their translations (in the locale served), options, images (with
their alt text and file URL) and variants (with their prices, in one currency when asked, and
availability).

A page of products is read in a constant number of statements, whatever its size: one per part (the
translations, options, images, media items, media alt texts, variants, prices and stock of all the page's
products at once), never one per product.

**Availability.** Everyone sees whether a variant is ``in_stock``: it does not manage stock, allows
backorders, or has some available (on hand minus reserved). How much is available is shown only to callers
who may read inventory (``inventory:read``), or to everyone when the tenant's settings say
``{"commerce": {"show_stock_quantity": true}}``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rustok.commerce import inventory
from rustok.commerce.catalog.products.repository import ProductRepository
from rustok.commerce.catalog.variants.repository import VariantRepository
from rustok.commerce.models import Price, Product, ProductImage, ProductOption, ProductTranslation, Variant
from rustok.content import service as content
from rustok.core.deps import RequestContext
from rustok.core.permissions import Scope
from rustok.core.publishing import Reader
from rustok.core.repository import grouped
from rustok.core.request import RequestTenant

ProductReader = Reader[bool]  # sees: unpublished products too


def reader_for(ctx: RequestContext, locale: str | None = None) -> ProductReader:
    """Callers who may edit every product see drafts and archived ones; everyone else active ones only."""
    return Reader.of(ctx, ctx.grant("products:update") is Scope.ALL, locale)


def shows_stock_quantity(settings: Mapping[str, Any]) -> bool:
    """The tenant's setting ``commerce.show_stock_quantity``: whether everyone sees available quantities."""
    commerce = settings.get("commerce")
    return isinstance(commerce, Mapping) and commerce.get("show_stock_quantity") is True


@dataclass(frozen=True, slots=True)
class Serving:
    """How a read serves products: to whom (``reader``), in which currency (None: every price), whether it
    shows available quantities, and for which tenant (its media URLs)."""

    reader: ProductReader
    currency: str | None
    shows_available: bool
    tenant: RequestTenant

    @classmethod
    def of(cls, ctx: RequestContext, locale: str | None = None, currency: str | None = None) -> Serving:
        shows = ctx.grant("inventory:read") is not None or shows_stock_quantity(ctx.tenant_settings)
        return cls(reader_for(ctx, locale), currency, shows, ctx.tenant)

    @property
    def locale(self) -> str:
        """The locale alt texts are served in: the asked one, else the tenant's default."""
        return self.reader.locale or self.reader.default_locale


@dataclass(frozen=True, slots=True)
class VariantStock:
    """A variant of a product read, with its prices and availability (``available`` None: not shown)."""

    variant: Variant
    prices: list[Price]
    in_stock: bool
    available: int | None


@dataclass(frozen=True, slots=True)
class ImageView:
    media_id: uuid.UUID
    position: int
    alt: str | None
    url: str
    width: int | None
    height: int | None


@dataclass(frozen=True, slots=True)
class ProductView:
    product: Product
    translations: list[ProductTranslation]
    options: list[ProductOption]
    images: list[ImageView]
    variants: list[VariantStock]


def can_be_ordered(variant: Variant, available: int) -> bool:
    return not variant.manage_inventory or variant.allow_backorder or available > 0


def _alt(image: ProductImage, media: content.MediaSource, locale: str, default: str) -> str | None:
    """The product's alt text in the locale served, else the media item's in it; else the same in the
    tenant's default locale."""
    for wanted in dict.fromkeys((locale, default)):
        found = image.alt.get(wanted) or media.alt.get(wanted)
        if found:
            return found
    return None


async def _images(
    ctx: RequestContext, product_ids: Sequence[uuid.UUID], serving: Serving
) -> dict[uuid.UUID, list[ImageView]]:
    rows = await ProductRepository(ctx.uow.session).images(product_ids)
    media = await content.media_sources(ctx.uow, serving.tenant, list({row.media_id for row in rows}))
    found: dict[uuid.UUID, list[ImageView]] = {}
    for row in rows:
        item = media.get(row.media_id)
        if item is None:  # pragma: no cover - the foreign key's cascade takes the row with its media item
            continue
        shown = found.setdefault(row.product_id, [])
        shown.append(
            ImageView(
                media_id=row.media_id,
                position=len(shown),
                alt=_alt(row, item, serving.locale, serving.reader.default_locale),
                url=item.url,
                width=item.width,
                height=item.height,
            )
        )
    return found


async def _variants(
    ctx: RequestContext, product_ids: Sequence[uuid.UUID], serving: Serving
) -> dict[uuid.UUID, list[VariantStock]]:
    repository = VariantRepository(ctx.uow.session)
    rows = sorted(await repository.of_products(product_ids), key=lambda v: (v.rank, v.id))
    if not rows:
        return {}
    ids = [v.id for v in rows]
    prices = grouped(await repository.prices(ids, currency=serving.currency), lambda p: p.variant_id)
    available = await inventory.available_by_variant(ctx.uow, ids)
    stocks = [
        VariantStock(
            variant=v,
            prices=prices.get(v.id, []),
            in_stock=can_be_ordered(v, available.get(v.id, 0)),
            available=available.get(v.id, 0) if serving.shows_available else None,
        )
        for v in rows
    ]
    return grouped(stocks, lambda s: s.variant.product_id)


async def views(ctx: RequestContext, products: Sequence[Product], serving: Serving) -> list[ProductView]:
    """The products as ``serving`` serves them, in a constant number of statements."""
    if not products:
        return []
    repository = ProductRepository(ctx.uow.session)
    ids = [p.id for p in products]
    translations = grouped(await repository.translations(ids), lambda t: t.product_id)
    options = grouped(await repository.options(ids), lambda o: o.product_id)
    images = await _images(ctx, ids, serving)
    variants = await _variants(ctx, ids, serving)
    return [
        ProductView(
            product=p,
            translations=serving.reader.served(translations.get(p.id, [])),
            options=options.get(p.id, []),
            images=images.get(p.id, []),
            variants=variants.get(p.id, []),
        )
        for p in products
    ]


async def view(ctx: RequestContext, product: Product, serving: Serving) -> ProductView:
    return (await views(ctx, [product], serving))[0]
