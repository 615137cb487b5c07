"""The catalog's use cases: products with translations and options, variants with prices, their stock.

Rules kept here:

- **One transaction.** Every change and its events (``product.*``, ``variant.*``, ``price.updated``,
  ``inventory.*``) are written in the request's unit of work: all or nothing. A write that changes nothing
  records nothing.
- **Visibility.** Draft and archived products, with their variants, prices and stock, are a 404 to callers
  who may not edit products (``products:update`` on all of them): anonymous callers and customers see
  ``active`` products only.
- **Status.** ``draft`` → ``active`` is publishing (``products:publish``; ``published_at`` set the first
  time), ``active`` → anything else unpublishing; ``draft`` ↔ ``archived`` is a plain update.
- **Handles** are unique per tenant and locale. A handle given by the client that is taken is a 409
  ``slug_conflict``; a generated one takes the first free ``-2``, ``-3``, ... suffix (retried in a SAVEPOINT
  if a concurrent writer took it first). A translation keeps its handle when only its title changes.
- **Locales.** Writes in a locale the tenant has not enabled are a 422 ``locale_not_enabled``; reads with
  ``?locale=`` serve that locale, falling back to the tenant's default.
- **Options.** A variant names every option of its product once, with one of its values (422
  ``invalid_options``); no two variants of a product have the same combination (409
  ``variant_options_conflict``). Replacing a product's options so that an existing variant no longer fits
  is a 409 ``options_in_use``. Variant writes lock the product row, so two concurrent writers cannot both
  take one combination.
- **SKUs** are unique per tenant: 409 ``sku_conflict``, checked first and, for a concurrent writer, by the
  database constraint inside a SAVEPOINT.
- **Prices** are one per currency. ``price.updated`` announces each currency whose amount is new or changed
  (also the prices a variant is created with, ``old_amount`` None); a currency taken off the list, or only
  its ``compare_at_amount`` changed, is announced as ``variant.updated`` (no catalog event says "price
  removed").
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from rustok.commerce import inventory
from rustok.commerce.catalog.repository import ProductRepository, VariantRepository, published
from rustok.commerce.catalog.schemas import (
    OptionIn,
    PriceIn,
    ProductCreate,
    ProductTranslationIn,
    ProductUpdate,
    VariantCreate,
    VariantUpdate,
)
from rustok.commerce.events import (
    PriceUpdated,
    ProductCreated,
    ProductDeleted,
    ProductPublished,
    ProductUnpublished,
    ProductUpdated,
    VariantCreated,
    VariantDeleted,
    VariantUpdated,
)
from rustok.commerce.models import (
    Price,
    Product,
    ProductOption,
    ProductStatus,
    ProductTranslation,
    Variant,
)
from rustok.core import clock, slugs
from rustok.core.errors import Conflict, NotFound, Unprocessable
from rustok.core.logging import get_logger
from rustok.core.pagination import PageParams, Slice, paginate
from rustok.core.permissions import Scope
from rustok.core.repository import grouped
from rustok.core.security import Principal, ensure, grant_of
from rustok.core.uow import UnitOfWork
from rustok.tenants.service import Locales, pick_locale

T = TypeVar("T")
log = get_logger("rustok.commerce")


# ---------------------------------------------------------------------------------------- who sees what


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads, and in which locale: ``locale`` None serves every translation."""

    everything: bool  # unpublished products too
    locale: str | None
    default_locale: str


def sees_unpublished(principal: Principal) -> bool:
    """Callers who may edit every product see drafts and archived ones; everyone else active ones only."""
    return grant_of(principal, "products:update") is Scope.ALL


def reader_for(principal: Principal, locale: str | None, default_locale: str) -> Reader:
    return Reader(sees_unpublished(principal), locale, default_locale)


# ------------------------------------------------------------------------------------------------- views


@dataclass(frozen=True, slots=True)
class ProductView:
    product: Product
    translations: list[ProductTranslation]
    options: list[ProductOption]


@dataclass(frozen=True, slots=True)
class VariantView:
    variant: Variant
    prices: list[Price]


def _served(rows: list[ProductTranslation], reader: Reader) -> list[ProductTranslation]:
    """Every translation without ``?locale=``; with it, the one in the locale served (asked, else
    default, else the first)."""
    if reader.locale is None:
        return rows
    chosen = pick_locale([r.locale for r in rows], reader.locale, reader.default_locale)
    return [r for r in rows if r.locale == chosen]


async def _views(uow: UnitOfWork, products: Sequence[Product], reader: Reader) -> list[ProductView]:
    if not products:
        return []
    repository = ProductRepository(uow.session)
    ids = [p.id for p in products]
    translations = grouped(await repository.translations(ids), lambda t: t.product_id)
    options = grouped(await repository.options(ids), lambda o: o.product_id)
    return [
        ProductView(p, _served(translations.get(p.id, []), reader), options.get(p.id, [])) for p in products
    ]


async def _view(uow: UnitOfWork, product: Product, reader: Reader) -> ProductView:
    return (await _views(uow, [product], reader))[0]


async def _variant_views(uow: UnitOfWork, variants: Sequence[Variant]) -> list[VariantView]:
    if not variants:
        return []
    prices = grouped(
        await VariantRepository(uow.session).prices([v.id for v in variants]), lambda p: p.variant_id
    )
    return [VariantView(v, prices.get(v.id, [])) for v in variants]


async def _variant_view(uow: UnitOfWork, variant: Variant) -> VariantView:
    return (await _variant_views(uow, [variant]))[0]


# ---------------------------------------------------------------------------------------------- products


async def _product_or_404(
    uow: UnitOfWork, product_id: uuid.UUID, *, everything: bool, lock: bool = False
) -> Product:
    product = await ProductRepository(uow.session).visible(product_id, everything=everything, lock=lock)
    if product is None:
        raise NotFound(f"No product with id {product_id}.")
    return product


def _invalid_transition(product: Product, action: str) -> Conflict:
    return Conflict(f"A {product.status} product cannot be {action}.", code="invalid_transition")


async def _put_translation(
    uow: UnitOfWork, product: Product, data: ProductTranslationIn, existing: ProductTranslation | None
) -> bool:
    """Insert or change the product's translation in ``data.locale``; True when anything changed."""
    repository = ProductRepository(uow.session)
    given = (
        data.handle
        if data.handle is not None and (existing is None or existing.handle != data.handle)
        else None
    )
    save = partial(
        slugs.save_unique,
        uow.session,
        given=given,
        owner_id=product.id,
        slug_owner=partial(repository.slug_owner, data.locale),
        slugs_like=partial(repository.slugs_like, data.locale),
        where=f"by another product in {data.locale!r}",
        field="handle",
    )
    if existing is None:
        row = ProductTranslation(
            product_id=product.id,
            locale=data.locale,
            title=data.title,
            subtitle=data.subtitle,
            description=data.description,
        )
        await save(row, base=slugs.from_title(data.title))
        return True
    changed = existing.title != data.title
    existing.title = data.title
    for field in ("subtitle", "description"):
        if field in data.model_fields_set and getattr(existing, field) != getattr(data, field):
            setattr(existing, field, getattr(data, field))
            changed = True
    if given is not None:
        await save(existing, base="")
        changed = True
    return changed


def _options_of(rows: Sequence[ProductOption]) -> list[tuple[str, list[str]]]:
    return [(row.name, list(row.values)) for row in rows]


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


def _fits(options: dict[str, str], product_options: Sequence[tuple[str, list[str]]]) -> bool:
    """Whether ``options`` name every option of the product exactly once, each with one of its values."""
    allowed = dict(product_options)
    return set(options) == set(allowed) and all(value in allowed[name] for name, value in options.items())


async def _change_status(
    uow: UnitOfWork, principal: Principal, product: Product, status: ProductStatus
) -> bool:
    """Move the product to ``status``, checking ``products:publish`` when it enters or leaves ``active``,
    and announce it. True when the change is a plain update (draft ↔ archived), which the caller
    announces as ``product.updated``."""
    old = ProductStatus(product.status)
    if old is status:
        return False
    active = ProductStatus.ACTIVE
    if active in (old, status):
        ensure(principal, "products:publish")
    product.status = status.value
    if status is active:
        if product.published_at is None:
            product.published_at = clock.now()
        uow.record(ProductPublished(product_id=product.id))
        return False
    if old is active:
        uow.record(ProductUnpublished(product_id=product.id))
        return False
    return True


async def create_product(
    uow: UnitOfWork, principal: Principal, data: ProductCreate, *, locales: Locales
) -> ProductView:
    locales.require_all((t.locale for t in data.translations), field="translations")
    status = data.status or ProductStatus.DRAFT
    if status is ProductStatus.ACTIVE:
        ensure(principal, "products:publish")
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
        await _change_status(uow, principal, product, status)
    return await _view(uow, product, reader_for(principal, None, locales.default))


async def get_product(uow: UnitOfWork, product_id: uuid.UUID, reader: Reader) -> ProductView:
    return await _view(uow, await _product_or_404(uow, product_id, everything=reader.everything), reader)


async def list_products(
    uow: UnitOfWork, params: PageParams, reader: Reader, *, status: ProductStatus | None
) -> Slice[ProductView]:
    """A page of the products the caller sees, newest first. ``reader.locale`` keeps the products
    translated into it (and serves that translation)."""
    repository = ProductRepository(uow.session)
    statement = repository.select()
    if status is not None:
        statement = statement.where(Product.status == status.value)
    if not reader.everything:
        statement = statement.where(published())
    if reader.locale is not None:
        statement = statement.join(
            ProductTranslation,
            (ProductTranslation.product_id == Product.id) & (ProductTranslation.locale == reader.locale),
        )
    found = await paginate(uow.session, statement, key=[Product.id], params=params, descending=True)
    return Slice(await _views(uow, found.items, reader), found.next_cursor)


async def update_product(
    uow: UnitOfWork, principal: Principal, product_id: uuid.UUID, data: ProductUpdate, *, locales: Locales
) -> ProductView:
    product = await _product_or_404(uow, product_id, everything=True, lock=True)
    repository = ProductRepository(uow.session)
    changed = False
    if data.metadata is not None and data.metadata != product.meta:
        product.meta = data.metadata
        changed = True
    if data.translations is not None:
        locales.require_all((t.locale for t in data.translations), field="translations")
        existing = {t.locale: t for t in await repository.translations([product.id])}
        for translation in data.translations:
            changed = (
                await _put_translation(uow, product, translation, existing.get(translation.locale)) or changed
            )
    if data.options is not None:
        new = [(o.name, list(o.values)) for o in data.options]
        if new != _options_of(await repository.options([product.id])):
            for variant in await VariantRepository(uow.session).of_product(product.id):
                if not _fits(variant.options, new):
                    raise Conflict(
                        f"The variant {variant.sku!r} does not fit the new options: "
                        "change or delete it first.",
                        code="options_in_use",
                    )
            await _put_options(uow, product, data.options)
            changed = True
    if data.status is not None:
        changed = await _change_status(uow, principal, product, data.status) or changed
    if changed:
        product.updated_at = clock.now()
        uow.record(ProductUpdated(product_id=product.id))
    return await _view(uow, product, reader_for(principal, None, locales.default))


async def delete_product(uow: UnitOfWork, product_id: uuid.UUID) -> None:
    """The product goes with its translations, options and variants (with their prices and stock); each
    variant is announced as ``variant.deleted``, then the product as ``product.deleted``."""
    product = await _product_or_404(uow, product_id, everything=True, lock=True)
    for variant in await VariantRepository(uow.session).of_product(product.id):
        uow.record(VariantDeleted(variant_id=variant.id, product_id=product.id))
    uow.record(ProductDeleted(product_id=product.id))
    await ProductRepository(uow.session).delete(product)


async def publish_product(
    uow: UnitOfWork, principal: Principal, product_id: uuid.UUID, reader: Reader
) -> ProductView:
    product = await _product_or_404(uow, product_id, everything=True, lock=True)
    if product.status == ProductStatus.ACTIVE.value:
        raise _invalid_transition(product, "published")
    await _change_status(uow, principal, product, ProductStatus.ACTIVE)
    product.updated_at = clock.now()
    return await _view(uow, product, reader)


async def unpublish_product(
    uow: UnitOfWork, principal: Principal, product_id: uuid.UUID, reader: Reader
) -> ProductView:
    product = await _product_or_404(uow, product_id, everything=True, lock=True)
    if product.status != ProductStatus.ACTIVE.value:
        raise _invalid_transition(product, "unpublished")
    await _change_status(uow, principal, product, ProductStatus.DRAFT)
    product.updated_at = clock.now()
    return await _view(uow, product, reader)


# ---------------------------------------------------------------------------------------------- variants


async def _variant_or_404(uow: UnitOfWork, variant_id: uuid.UUID, *, everything: bool) -> Variant:
    """The variant, if the caller sees its product."""
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
    product = await _product_or_404(uow, variant.product_id, everything=True, lock=True)
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
    product_options = _options_of(await ProductRepository(uow.session).options([product.id]))
    if not _fits(options, product_options):
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
    return other_change


async def create_variant(uow: UnitOfWork, product_id: uuid.UUID, data: VariantCreate) -> VariantView:
    product = await _product_or_404(uow, product_id, everything=True, lock=True)
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


async def list_variants(
    uow: UnitOfWork, product_id: uuid.UUID, params: PageParams, reader: Reader
) -> Slice[VariantView]:
    """A page of the product's variants, by rank then creation."""
    product = await _product_or_404(uow, product_id, everything=reader.everything)
    repository = VariantRepository(uow.session)
    found = await repository.page(params, Variant.product_id == product.id, key=[Variant.rank, Variant.id])
    return Slice(await _variant_views(uow, found.items), found.next_cursor)


async def get_variant(uow: UnitOfWork, variant_id: uuid.UUID, reader: Reader) -> VariantView:
    return await _variant_view(uow, await _variant_or_404(uow, variant_id, everything=reader.everything))


_NULLABLE = ("title", "low_stock_threshold", "barcode", "weight_grams")


async def update_variant(uow: UnitOfWork, variant_id: uuid.UUID, data: VariantUpdate) -> VariantView:
    """Partial; ``title``, ``low_stock_threshold``, ``barcode``, ``weight_grams`` null clear them, a null
    for any other field leaves it as it is."""
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


async def replace_prices(uow: UnitOfWork, variant_id: uuid.UUID, prices: Sequence[PriceIn]) -> VariantView:
    variant, _ = await _editable_variant(uow, variant_id)
    if await _put_prices(uow, variant, prices):
        variant.updated_at = clock.now()
        uow.record(VariantUpdated(variant_id=variant.id, product_id=variant.product_id))
    return await _variant_view(uow, variant)


async def delete_variant(uow: UnitOfWork, variant_id: uuid.UUID) -> None:
    """The variant goes with its prices and stock; order lines keep what was sold (SKU, title, price)."""
    variant, _ = await _editable_variant(uow, variant_id)
    uow.record(VariantDeleted(variant_id=variant.id, product_id=variant.product_id))
    await VariantRepository(uow.session).delete(variant)


# --------------------------------------------------------------------------------------------- inventory


async def stock(uow: UnitOfWork, variant_id: uuid.UUID, reader: Reader) -> inventory.Stock:
    """The variant's stock summed over locations; a variant that does not manage inventory answers its
    levels as well (zeros unless stock was recorded for it)."""
    variant = await _variant_or_404(uow, variant_id, everything=reader.everything)
    return await inventory.stock_of(uow, variant)


async def adjust_stock(
    uow: UnitOfWork, variant_id: uuid.UUID, delta: int, reason: str | None
) -> inventory.Stock:
    variant = await _variant_or_404(uow, variant_id, everything=True)
    log.info("inventory_adjusted", variant_id=str(variant.id), delta=delta, reason=reason)
    return await inventory.adjust(uow, variant, delta)


async def set_stock(uow: UnitOfWork, variant_id: uuid.UUID, quantity: int) -> inventory.Stock:
    variant = await _variant_or_404(uow, variant_id, everything=True)
    return await inventory.set_quantity(uow, variant, quantity)


# ------------------------------------------------------------------------------------ for the search index


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
    products = await repository.list(Product.id.in_(list(product_ids)))
    ids = [p.id for p in products]
    translations = grouped(await repository.translations(ids), lambda t: t.product_id)
    options = grouped(await repository.options(ids), lambda o: o.product_id)
    variants = VariantRepository(uow.session)
    rows = await variants.list(Variant.product_id.in_(ids)) if ids else []
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
