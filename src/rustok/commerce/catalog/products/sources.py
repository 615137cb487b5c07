"""Products as the search index reads them (`rustok.index`, through `rustok.commerce.service`): every
translation, the options, and the variants with their prices and available stock; and the ids it walks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from rustok.commerce import inventory
from rustok.commerce.catalog.products.repository import ProductRepository
from rustok.commerce.catalog.variants.repository import VariantRepository
from rustok.commerce.models import Price, Product, ProductOption, ProductTranslation, Variant
from rustok.core.repository import grouped
from rustok.core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class VariantSource:
    variant: Variant
    prices: list[Price]
    available: int  # on hand minus reserved, summed over the locations


@dataclass(frozen=True, slots=True)
class ProductSource:
    """A product as the search index reads it: every translation, its options, and its variants with their
    prices and available stock (read-only; for `rustok.index`)."""

    product: Product
    translations: list[ProductTranslation]
    options: list[ProductOption]
    variants: list[VariantSource]


async def document_sources(
    uow: UnitOfWork, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ProductSource]:
    """The products of ``product_ids`` that exist, with everything the index builds their documents from."""
    if not product_ids:
        return {}
    repository = ProductRepository(uow.session)
    products = await repository.by_ids(product_ids)
    ids = [p.id for p in products]
    translations = grouped(await repository.translations(ids), lambda t: t.product_id)
    options = grouped(await repository.options(ids), lambda o: o.product_id)
    variants = VariantRepository(uow.session)
    rows = await variants.of_products(ids)
    variant_ids = [v.id for v in rows]
    prices = grouped(await variants.prices(variant_ids), lambda p: p.variant_id) if variant_ids else {}
    available = await inventory.available_by_variant(uow, variant_ids)
    by_product = grouped(sorted(rows, key=lambda v: (v.rank, v.id)), lambda v: v.product_id)
    return {
        p.id: ProductSource(
            product=p,
            translations=translations.get(p.id, []),
            options=options.get(p.id, []),
            variants=[
                VariantSource(v, prices.get(v.id, []), available.get(v.id, 0))
                for v in by_product.get(p.id, [])
            ],
        )
        for p in products
    }


async def document_source(uow: UnitOfWork, product_id: uuid.UUID) -> ProductSource | None:
    """One product for the index, or None when it is gone."""
    return (await document_sources(uow, [product_id])).get(product_id)


async def product_ids_after(uow: UnitOfWork, after_id: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
    """Up to ``limit`` product ids of the tenant after ``after_id``, in id order (every status)."""
    return await ProductRepository(uow.session).ids_after(after_id, limit)


async def existing_product_ids(uow: UnitOfWork, product_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``product_ids`` that still exist."""
    return await ProductRepository(uow.session).existing_ids(product_ids)
