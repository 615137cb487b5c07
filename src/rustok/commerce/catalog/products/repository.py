"""The SQL of products, their translations, options and images. Every statement runs in the request's
tenant-scoped session, which adds the tenant to each one (see `rustok.core.tenancy`); filters that other
tables decide (a locale, a price) are joins, which the scope reaches, not subqueries, which it cannot; the
one subquery, the storefront list's in-stock EXISTS, names the tenant itself."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, case, delete, func, or_, select

from rustok.commerce.models import (
    InventoryLevel,
    Price,
    Product,
    ProductImage,
    ProductOption,
    ProductPrice,
    ProductStatus,
    ProductTranslation,
    Variant,
)
from rustok.core.pagination import PageParams, Slice, paginate, paginate_rows
from rustok.core.repository import Repository
from rustok.core.slugs import family


def published() -> ColumnElement[bool]:
    """The products customers and anonymous callers see."""
    return Product.status == ProductStatus.ACTIVE.value


@dataclass(frozen=True, slots=True)
class ListFilters:
    """What a list of products keeps and how it is sorted. ``currency`` keeps the products with a price in
    it (their cheapest variant's is the product's price, which ``min_price``/``max_price`` bound and
    ``by_price`` sorts: 1 cheapest first, -1 dearest first, 0 newest first)."""

    everything: bool
    status: ProductStatus | None = None
    locale: str | None = None
    currency: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    by_price: int = 0


class ProductRepository(Repository[Product]):
    model = Product
    noun = "product"

    async def visible(self, product_id: uuid.UUID, *, everything: bool, lock: bool = False) -> Product | None:
        """The product if the caller sees it (``everything``: unpublished ones too). ``lock`` takes its row
        lock (``FOR UPDATE``; SQLite's writers are serialized anyway) and reads its latest committed
        state, so writes that check the product and act on it (its variants' options) do not race."""
        statement = self.select().where(Product.id == product_id)
        if not everything:
            statement = statement.where(published())
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return (await self.session.scalars(statement)).one_or_none()

    async def by_handle(self, handle: str, locales: Sequence[str], *, everything: bool) -> Product | None:
        """The product with ``handle`` (unpublished ones only with ``everything``), preferring a translation
        in the first of ``locales``, then the next, then any locale."""
        preference = case(
            *((ProductTranslation.locale == locale, rank) for rank, locale in enumerate(locales)),
            else_=len(locales),
        )
        statement = (
            select(Product)
            .join(ProductTranslation, ProductTranslation.product_id == Product.id)
            .where(ProductTranslation.handle == handle)
            .order_by(preference, Product.id)
            .limit(1)
        )
        if not everything:
            statement = statement.where(published())
        return (await self.session.scalars(statement)).first()

    async def by_ids(self, product_ids: Sequence[uuid.UUID]) -> Sequence[Product]:
        return await self.list(Product.id.in_(list(product_ids)))

    async def storefront_page(self, params: PageParams, filters: ListFilters) -> Slice[Product]:
        """A page of the products ``filters`` keep, in their order, in one statement: with a currency, the
        products joined to their price in it (``commerce_product_prices``: by price, a range of its
        listing index); the in-stock filter an EXISTS over the product's variants. Price-sorted cursors
        carry the price and the id, and name the sort and currency, so a cursor of another sort or
        currency is a 400."""
        tenant_id = self.tenant_id
        statement: Select[Any] = select(Product)
        priced = filters.currency is not None
        if priced:
            joined = select(Product, ProductPrice.amount).join(
                ProductPrice,
                (ProductPrice.product_id == Product.id) & (ProductPrice.currency == filters.currency),
            )
            statement = cast("Select[Any]", joined)  # rows of (product, its price)
            if filters.min_price is not None:
                statement = statement.where(ProductPrice.amount >= filters.min_price)
            if filters.max_price is not None:
                statement = statement.where(ProductPrice.amount <= filters.max_price)
        if filters.status is not None:
            statement = statement.where(Product.status == filters.status.value)
        if not filters.everything:
            statement = statement.where(published())
        if filters.locale is not None:
            statement = statement.join(
                ProductTranslation,
                (ProductTranslation.product_id == Product.id) & (ProductTranslation.locale == filters.locale),
            )
        if filters.in_stock is not None:
            stocked = in_stock(tenant_id)
            statement = statement.where(stocked if filters.in_stock else ~stocked)
            statement = statement.execution_options(tenant_criteria="explicit")
        if not priced or not filters.by_price:
            if not priced:
                return await paginate(
                    self.session, statement, key=[Product.id], params=params, descending=True
                )
            found = await paginate_rows(
                self.session,
                statement,
                key=[Product.id],
                values=lambda row: [row[0].id],
                params=params,
                descending=True,
            )
        else:
            found = await paginate_rows(
                self.session,
                statement,
                key=[ProductPrice.amount, ProductPrice.product_id],
                values=_price_key,
                params=params,
                descending=filters.by_price < 0,
                kind=f"{'-' if filters.by_price < 0 else ''}price:{filters.currency}",
            )
        return Slice([row[0] for row in found.items], found.next_cursor)

    async def sells(self, currency: str) -> bool:
        """Whether any of the tenant's products has a price in ``currency``."""
        statement = select(ProductPrice.product_id).where(ProductPrice.currency == currency).limit(1)
        return (await self.session.scalars(statement)).first() is not None

    async def refresh_prices(self, product_id: uuid.UUID) -> None:
        """Rewrite the product's listed prices from its variants' prices: per currency, the cheapest. Its
        callers hold the product's row lock, so two writers do not interleave here."""
        cheapest = (
            select(Price.currency, func.min(Price.amount))
            .join(Variant, Variant.id == Price.variant_id)
            .where(Variant.product_id == product_id)
            .group_by(Price.currency)
        )
        rows = (await self.session.execute(cheapest)).all()
        clear = (
            delete(ProductPrice)
            .where(ProductPrice.product_id == product_id)
            .execution_options(synchronize_session="fetch")
        )
        await self.session.execute(clear)
        for currency, amount in rows:
            self.session.add(ProductPrice(product_id=product_id, currency=currency, amount=int(amount)))
        await self.session.flush()

    async def images(self, product_ids: Sequence[uuid.UUID]) -> Sequence[ProductImage]:
        statement = (
            select(ProductImage)
            .where(ProductImage.product_id.in_(product_ids))
            .order_by(ProductImage.product_id, ProductImage.position)
        )
        return (await self.session.scalars(statement)).all()

    async def clear_images(self, product_id: uuid.UUID) -> None:
        statement = (
            delete(ProductImage)
            .where(ProductImage.product_id == product_id)
            .execution_options(synchronize_session="fetch")
        )
        await self.session.execute(statement)

    async def translations(self, product_ids: Sequence[uuid.UUID]) -> Sequence[ProductTranslation]:
        statement = (
            select(ProductTranslation)
            .where(ProductTranslation.product_id.in_(product_ids))
            .order_by(ProductTranslation.product_id, ProductTranslation.locale)
        )
        return (await self.session.scalars(statement)).all()

    async def options(self, product_ids: Sequence[uuid.UUID]) -> Sequence[ProductOption]:
        statement = (
            select(ProductOption)
            .where(ProductOption.product_id.in_(product_ids))
            .order_by(ProductOption.product_id, ProductOption.position, ProductOption.id)
        )
        return (await self.session.scalars(statement)).all()

    async def clear_options(self, product_id: uuid.UUID) -> None:
        statement = (
            delete(ProductOption)
            .where(ProductOption.product_id == product_id)
            .execution_options(synchronize_session="fetch")
        )
        await self.session.execute(statement)

    async def slug_owner(self, locale: str, handle: str) -> uuid.UUID | None:
        """The product whose translation in ``locale`` has ``handle``."""
        statement = select(ProductTranslation.product_id).where(
            ProductTranslation.locale == locale, ProductTranslation.handle == handle
        )
        return (await self.session.scalars(statement)).first()

    async def slugs_like(self, locale: str, base: str) -> set[str]:
        """Handles in ``locale`` that are ``base`` or may be a numbered form of it."""
        statement = select(ProductTranslation.handle).where(
            ProductTranslation.locale == locale,
            or_(
                ProductTranslation.handle == base,
                ProductTranslation.handle.startswith(family(base), autoescape=True),
            ),
        )
        return set((await self.session.scalars(statement)).all())


def _price_key(row: Any) -> list[Any]:
    return [row[1], row[0].id]


def in_stock(tenant_id: uuid.UUID) -> ColumnElement[bool]:
    """Whether a product (the enclosing query's) has a variant that can be ordered now: it does not manage
    stock, allows backorders, or has some available (on hand minus reserved, over its locations)."""
    available = (
        select(func.coalesce(func.sum(InventoryLevel.quantity - InventoryLevel.reserved), 0))
        .where(InventoryLevel.variant_id == Variant.id, InventoryLevel.tenant_id == tenant_id)
        .scalar_subquery()
    )
    return (
        select(Variant.id)
        .where(
            Variant.product_id == Product.id,
            Variant.tenant_id == tenant_id,
            or_(Variant.manage_inventory.is_(False), Variant.allow_backorder.is_(True), available > 0),
        )
        .exists()
    )
