"""The orders' SQL (tenant-scoped by the session, as every statement)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.commerce.models import (
    Order,
    OrderCounter,
    OrderLine,
    Price,
    Product,
    ProductTranslation,
    Variant,
)
from rustok.core.repository import Repository


class OrderRepository(Repository[Order]):
    model = Order
    noun = "order"

    async def locked(self, order_id: uuid.UUID) -> Order | None:
        """The order with its row locked (``FOR UPDATE``) and its latest committed state, for a status
        change that must not race another."""
        statement = (
            select(Order)
            .where(Order.id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def lines(self, order_ids: Sequence[uuid.UUID]) -> Sequence[OrderLine]:
        statement = (
            select(OrderLine)
            .where(OrderLine.order_id.in_(order_ids))
            .order_by(OrderLine.order_id, OrderLine.id)
        )
        return (await self.session.scalars(statement)).all()

    async def next_number(self, tenant_id: uuid.UUID) -> int:
        """The tenant's next order number, from its counter row: an UPDATE that locks the row until the
        transaction ends, so two orders never get one number. Called last in placing an order, to hold that
        lock as briefly as possible."""
        bump = (
            update(OrderCounter)
            .values(last_number=OrderCounter.last_number + 1)
            .returning(OrderCounter.last_number)
            .execution_options(synchronize_session=False)
        )
        number = (await self.session.execute(bump)).scalar_one_or_none()
        if number is not None:
            return int(number)
        try:
            async with self.session.begin_nested():
                await self.session.execute(insert(OrderCounter).values(tenant_id=tenant_id, last_number=1))
        except IntegrityError:  # another order made the row first
            return int((await self.session.execute(bump)).scalar_one())
        return 1


class OrderCatalogRepository:
    """What placing an order reads of the catalog (same module, its own tables)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def variants(self, variant_ids: Sequence[uuid.UUID]) -> Sequence[tuple[Variant, Product]]:
        statement = (
            select(Variant, Product)
            .join(Product, Product.id == Variant.product_id)
            .where(Variant.id.in_(variant_ids))
        )
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]

    async def prices(self, variant_ids: Sequence[uuid.UUID], currency: str) -> dict[uuid.UUID, int]:
        statement = select(Price.variant_id, Price.amount).where(
            Price.variant_id.in_(variant_ids), Price.currency == currency
        )
        return {row[0]: int(row[1]) for row in (await self.session.execute(statement)).all()}

    async def titles(self, product_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, str]]:
        statement = select(
            ProductTranslation.product_id, ProductTranslation.locale, ProductTranslation.title
        ).where(ProductTranslation.product_id.in_(product_ids))
        found: dict[uuid.UUID, dict[str, str]] = {}
        for product_id, locale, title in (await self.session.execute(statement)).all():
            found.setdefault(product_id, {})[locale] = title
        return found

    async def variant(self, variant_id: uuid.UUID) -> Variant | None:
        return (await self.session.scalars(select(Variant).where(Variant.id == variant_id))).one_or_none()
