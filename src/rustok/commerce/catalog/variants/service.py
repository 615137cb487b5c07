"""The use cases of variants: their options, SKUs, prices and stock. Variants are part of their product:
reading them needs the product visible to the caller (`rustok.commerce.catalog.products.service`), changing
them ``products:update``; their stock needs ``inventory:*``.

- **Options.** A variant names every option of its product once, with one of its values (422
  ``invalid_options``); no two variants of a product have the same combination (409
  ``variant_options_conflict``). Variant writes lock the product row, so two concurrent writers cannot both
  take one combination.
- **SKUs** are unique per tenant: 409 ``sku_conflict``, checked first and, for a concurrent writer, by the
  database constraint inside a SAVEPOINT.
- **Prices** are one per currency. ``price.updated`` announces each currency whose amount is new or changed
  (also the prices a variant is created with, ``old_amount`` None); a currency taken off the list, or only
  its ``compare_at_amount`` changed, is announced as ``variant.updated`` (no catalog event says "price
  removed"). Every change of a variant's prices, and the removal of a variant, rewrites its product's
  listed prices (per currency its cheapest variant's, `ProductRepository.refresh_prices`) in the same
  transaction, under the product's row lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from rustok.commerce import inventory
from rustok.commerce.catalog.products.repository import ProductRepository
from rustok.commerce.catalog.products.service import fits, options_of, product_or_404, reader_for
from rustok.commerce.catalog.schemas import PriceIn, VariantCreate, VariantUpdate
from rustok.commerce.catalog.variants.repository import VariantRepository
from rustok.commerce.events import PriceUpdated, VariantCreated, VariantDeleted, VariantUpdated
from rustok.commerce.models import Price, Product, Variant
from rustok.core import clock
from rustok.core.deps import RequestContext
from rustok.core.errors import Conflict, NotFound, Unprocessable
from rustok.core.logging import get_logger
from rustok.core.pagination import PageParams, Slice
from rustok.core.repository import grouped
from rustok.core.uow import UnitOfWork

log = get_logger("rustok.commerce")


@dataclass(frozen=True, slots=True)
class VariantView:
    variant: Variant
    prices: list[Price]


async def _variant_views(uow: UnitOfWork, variants: Sequence[Variant]) -> list[VariantView]:
    if not variants:
        return []
    prices = grouped(
        await VariantRepository(uow.session).prices([v.id for v in variants]), lambda p: p.variant_id
    )
    return [VariantView(v, prices.get(v.id, [])) for v in variants]


async def _variant_view(uow: UnitOfWork, variant: Variant) -> VariantView:
    return (await _variant_views(uow, [variant]))[0]


async def _variant_or_404(uow: UnitOfWork, variant_id: uuid.UUID, *, everything: bool) -> Variant:
    """The variant, if the caller sees its product (``everything``: unpublished ones too)."""
    variant = await VariantRepository(uow.session).get(variant_id)
    if variant is None or (
        not everything
        and await ProductRepository(uow.session).visible(variant.product_id, everything=False) is None
    ):
        raise NotFound(f"No variant with id {variant_id}.")
    return variant


async def _editable_variant(uow: UnitOfWork, variant_id: uuid.UUID) -> tuple[Variant, Product]:
    """The variant with its product, both locked (product first, as every variant write takes them)."""
    variant = await VariantRepository(uow.session).get(variant_id)
    if variant is None:
        raise NotFound(f"No variant with id {variant_id}.")
    product = await product_or_404(uow, variant.product_id, everything=True, lock=True)
    locked = await VariantRepository(uow.session).locked(variant_id)
    if locked is None:  # deleted while we waited for the product's lock
        raise NotFound(f"No variant with id {variant_id}.")
    return locked, product


def _invalid_options(product_options: Sequence[tuple[str, list[str]]]) -> Unprocessable:
    wanted = "; ".join(f"{name}: {', '.join(values)}" for name, values in product_options) or "none"
    return Unprocessable(
        f"A variant names every option of its product once, with one of its values ({wanted}).",
        code="invalid_options",
        errors=[
            {
                "loc": ["body", "options"],
                "msg": "does not fit the product's options",
                "type": "invalid_options",
            }
        ],
    )


async def _check_options(
    uow: UnitOfWork, product: Product, options: dict[str, str], *, variant_id: uuid.UUID | None = None
) -> None:
    product_options = options_of(await ProductRepository(uow.session).options([product.id]))
    if not fits(options, product_options):
        raise _invalid_options(product_options)
    if not product_options:
        return  # a product without options: its variants differ by SKU only
    for other in await VariantRepository(uow.session).of_product(product.id):
        if other.id != variant_id and other.options == options:
            raise Conflict(
                f"The variant {other.sku!r} already has these options.", code="variant_options_conflict"
            )


def _sku_conflict(sku: str) -> Conflict:
    return Conflict(f"The SKU {sku!r} is taken by another variant.", code="sku_conflict")


async def _check_sku(uow: UnitOfWork, sku: str, variant_id: uuid.UUID | None = None) -> None:
    """A SKU another variant holds is a 409 (checked before the variant changes: a read would flush it)."""
    holder = await VariantRepository(uow.session).sku_owner(sku)
    if holder is not None and holder != variant_id:
        raise _sku_conflict(sku)


async def _save_variant(uow: UnitOfWork, variant: Variant, changes: dict[str, Any] | None = None) -> None:
    """Apply ``changes`` to the variant and flush it inside a SAVEPOINT (``begin_nested`` flushes what is
    pending first, so the changes are made inside it): a SKU a concurrent writer took first is a 409, not
    a 500."""
    sku = (changes or {}).get("sku", variant.sku)  # read now: a rolled-back SAVEPOINT expires the row
    try:
        async with uow.session.begin_nested():
            for field, value in (changes or {}).items():
                setattr(variant, field, value)
            uow.session.add(variant)
            await uow.session.flush()
    except IntegrityError:
        raise _sku_conflict(sku) from None


async def _put_prices(uow: UnitOfWork, variant: Variant, prices: Sequence[PriceIn]) -> bool:
    """Make the variant's price list ``prices``: ``price.updated`` for each amount new or changed. True
    when something else changed (a currency removed, a ``compare_at_amount``), for ``variant.updated``."""
    existing = {p.currency: p for p in await VariantRepository(uow.session).prices([variant.id])}
    other_change = False
    for price in prices:
        row = existing.pop(price.currency, None)
        old_amount = row.amount if row is not None else None
        if row is None:
            uow.session.add(
                Price(
                    variant_id=variant.id,
                    currency=price.currency,
                    amount=price.amount,
                    compare_at_amount=price.compare_at_amount,
                )
            )
        else:
            if row.compare_at_amount != price.compare_at_amount:
                row.compare_at_amount = price.compare_at_amount
                other_change = other_change or row.amount == price.amount
            row.amount = price.amount
        if old_amount != price.amount:
            uow.record(
                PriceUpdated(
                    variant_id=variant.id,
                    product_id=variant.product_id,
                    currency=price.currency,
                    old_amount=old_amount,
                    new_amount=price.amount,
                )
            )
    for row in existing.values():
        await uow.session.delete(row)
        other_change = True
    await uow.session.flush()
    await ProductRepository(uow.session).refresh_prices(variant.product_id)
    return other_change


async def create_variant(ctx: RequestContext, product_id: uuid.UUID, data: VariantCreate) -> VariantView:
    uow = ctx.uow
    ctx.authorize("products:update")
    product = await product_or_404(uow, product_id, everything=True, lock=True)
    await _check_options(uow, product, data.options)
    await _check_sku(uow, data.sku)
    variant = Variant(
        product_id=product.id,
        sku=data.sku,
        title=data.title,
        options=data.options,
        barcode=data.barcode,
        weight_grams=data.weight_grams,
        rank=data.rank,
        manage_inventory=data.manage_inventory,
        allow_backorder=data.allow_backorder,
        low_stock_threshold=data.low_stock_threshold,
    )
    await _save_variant(uow, variant)
    uow.record(VariantCreated(variant_id=variant.id, product_id=product.id))
    await _put_prices(uow, variant, data.prices)
    if data.manage_inventory and data.inventory_quantity:
        await inventory.set_quantity(uow, variant, data.inventory_quantity)
    return await _variant_view(uow, variant)


async def list_variants(ctx: RequestContext, product_id: uuid.UUID, params: PageParams) -> Slice[VariantView]:
    """A page of the product's variants, by rank then creation."""
    product = await product_or_404(ctx.uow, product_id, everything=reader_for(ctx).sees)
    found = await VariantRepository(ctx.uow.session).page_of_product(product.id, params)
    return Slice(await _variant_views(ctx.uow, found.items), found.next_cursor)


async def get_variant(ctx: RequestContext, variant_id: uuid.UUID) -> VariantView:
    variant = await _variant_or_404(ctx.uow, variant_id, everything=reader_for(ctx).sees)
    return await _variant_view(ctx.uow, variant)


_NULLABLE = ("title", "low_stock_threshold", "barcode", "weight_grams")


async def update_variant(ctx: RequestContext, variant_id: uuid.UUID, data: VariantUpdate) -> VariantView:
    """Partial; ``title``, ``low_stock_threshold``, ``barcode``, ``weight_grams`` null clear them, a null
    for any other field leaves it as it is."""
    uow = ctx.uow
    ctx.authorize("products:update")
    variant, product = await _editable_variant(uow, variant_id)
    changes: dict[str, Any] = {}
    for field in data.model_fields_set:
        value = getattr(data, field)
        if value is None and field not in _NULLABLE:
            continue
        if getattr(variant, field) != value:
            changes[field] = value
    if not changes:
        return await _variant_view(uow, variant)
    if "options" in changes:
        await _check_options(uow, product, changes["options"], variant_id=variant.id)
    if "sku" in changes:
        await _check_sku(uow, changes["sku"], variant.id)
    if "sku" in changes:
        await _save_variant(uow, variant, changes)
    else:
        for field, value in changes.items():
            setattr(variant, field, value)
    variant.updated_at = clock.now()
    uow.record(VariantUpdated(variant_id=variant.id, product_id=variant.product_id))
    return await _variant_view(uow, variant)


async def replace_prices(
    ctx: RequestContext, variant_id: uuid.UUID, prices: Sequence[PriceIn]
) -> VariantView:
    uow = ctx.uow
    ctx.authorize("products:update")
    variant, _ = await _editable_variant(uow, variant_id)
    if await _put_prices(uow, variant, prices):
        variant.updated_at = clock.now()
        uow.record(VariantUpdated(variant_id=variant.id, product_id=variant.product_id))
    return await _variant_view(uow, variant)


async def delete_variant(ctx: RequestContext, variant_id: uuid.UUID) -> None:
    """The variant goes with its prices and stock; order lines keep what was sold (SKU, title, price)."""
    uow = ctx.uow
    ctx.authorize("products:update")
    variant, _ = await _editable_variant(uow, variant_id)
    uow.record(VariantDeleted(variant_id=variant.id, product_id=variant.product_id))
    await VariantRepository(uow.session).delete(variant)
    await ProductRepository(uow.session).refresh_prices(variant.product_id)


# --------------------------------------------------------------------------------------------- inventory


async def stock(ctx: RequestContext, variant_id: uuid.UUID) -> inventory.Stock:
    """The variant's stock summed over locations; a variant that does not manage inventory answers its
    levels as well (zeros unless stock was recorded for it)."""
    variant = await _variant_or_404(ctx.uow, variant_id, everything=reader_for(ctx).sees)
    return await inventory.stock_of(ctx.uow, variant)


async def adjust_stock(
    ctx: RequestContext, variant_id: uuid.UUID, delta: int, reason: str | None = None
) -> inventory.Stock:
    ctx.authorize("inventory:update")
    variant = await _variant_or_404(ctx.uow, variant_id, everything=True)
    log.info("inventory_adjusted", variant_id=str(variant.id), delta=delta, reason=reason)
    return await inventory.adjust(ctx.uow, variant, delta)


async def set_stock(ctx: RequestContext, variant_id: uuid.UUID, quantity: int) -> inventory.Stock:
    ctx.authorize("inventory:update")
    variant = await _variant_or_404(ctx.uow, variant_id, everything=True)
    return await inventory.set_quantity(ctx.uow, variant, quantity)
