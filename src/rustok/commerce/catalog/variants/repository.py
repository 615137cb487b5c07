"""The SQL of variants and their prices. Every statement runs in the request's tenant-scoped session, which
adds the tenant to each one (see `rustok.core.tenancy`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from rustok.commerce.models import Price, Variant
from rustok.core.pagination import PageParams, Slice
from rustok.core.repository import Repository


class VariantRepository(Repository[Variant]):
    model = Variant
    noun = "variant"

    async def locked(self, variant_id: uuid.UUID) -> Variant | None:
        statement = (
            self.select()
            .where(Variant.id == variant_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def of_product(self, product_id: uuid.UUID) -> Sequence[Variant]:
        statement = self.select().where(Variant.product_id == product_id).order_by(Variant.rank, Variant.id)
        return (await self.session.scalars(statement)).all()

    async def of_products(self, product_ids: Sequence[uuid.UUID]) -> Sequence[Variant]:
        return await self.list(Variant.product_id.in_(list(product_ids))) if product_ids else []

    async def page_of_product(self, product_id: uuid.UUID, params: PageParams) -> Slice[Variant]:
        """A page of the product's variants, by rank then creation."""
        return await self.page(params, Variant.product_id == product_id, key=[Variant.rank, Variant.id])

    async def sku_owner(self, sku: str) -> uuid.UUID | None:
        return (await self.session.scalars(select(Variant.id).where(Variant.sku == sku))).first()

    async def prices(
        self, variant_ids: Sequence[uuid.UUID], *, currency: str | None = None
    ) -> Sequence[Price]:
        """The variants' prices (only those in ``currency`` when given), by variant and currency."""
        statement = (
            select(Price).where(Price.variant_id.in_(variant_ids)).order_by(Price.variant_id, Price.currency)
        )
        if currency is not None:
            statement = statement.where(Price.currency == currency)
        return (await self.session.scalars(statement)).all()
