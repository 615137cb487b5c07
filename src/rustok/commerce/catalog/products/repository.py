"""The SQL of products, their translations and options. Every statement runs in the request's
tenant-scoped session, which adds the tenant to each one (see `rustok.core.tenancy`); filters that other
tables decide (a locale) are joins, which the scope reaches, not subqueries, which it cannot."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, or_, select

from rustok.commerce.models import Product, ProductOption, ProductStatus, ProductTranslation
from rustok.core.pagination import PageParams, Slice, paginate
from rustok.core.repository import Repository
from rustok.core.slugs import family


def published() -> ColumnElement[bool]:
    """The products customers and anonymous callers see."""
    return Product.status == ProductStatus.ACTIVE.value


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

    async def by_ids(self, product_ids: Sequence[uuid.UUID]) -> Sequence[Product]:
        return await self.list(Product.id.in_(list(product_ids)))

    async def filtered_page(
        self, params: PageParams, *, everything: bool, status: ProductStatus | None, locale: str | None
    ) -> Slice[Product]:
        """A page of the products, newest first: of ``status``, unpublished ones only with ``everything``,
        and with ``locale`` only those translated into it (a join, which the scope reaches)."""
        statement = self.select()
        if status is not None:
            statement = statement.where(Product.status == status.value)
        if not everything:
            statement = statement.where(published())
        if locale is not None:
            statement = statement.join(
                ProductTranslation,
                (ProductTranslation.product_id == Product.id) & (ProductTranslation.locale == locale),
            )
        return await paginate(self.session, statement, key=[Product.id], params=params, descending=True)

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
