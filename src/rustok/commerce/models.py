"""The commerce module's tables: products with translations and options, variants with prices, stock
locations and inventory levels, orders with their lines, and each tenant's order-number counter. All are
tenant data.

What must hold under concurrency is a constraint or a single conditional statement here:

- a handle is unique per tenant and locale, a SKU per tenant;
- an inventory level never has ``reserved < 0``; its ``quantity - reserved`` (what can be sold) goes below
  zero only for a variant that allows backorders, because a reservation is one conditional UPDATE;
- an order number is unique per tenant, drawn from the tenant's counter row by an UPDATE that locks it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rustok.core.models import Base, IdMixin, TenantMixin, TimestampMixin, one_of, tenant_column


class ProductStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"  # published
    ARCHIVED = "archived"


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Product(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "commerce_products"
    __table_args__ = (
        CheckConstraint(one_of("status", ProductStatus), name="status"),
        Index("ix_commerce_products_listing", "tenant_id", "status", "id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column()
    status: Mapped[str] = mapped_column(String(16), default=ProductStatus.DRAFT.value)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON(), default=dict)
    published_at: Mapped[datetime | None]


class ProductTranslation(IdMixin, TenantMixin, Base):
    __tablename__ = "commerce_product_translations"
    __table_args__ = (
        UniqueConstraint("product_id", "locale"),
        UniqueConstraint("tenant_id", "locale", "handle"),
        # A lookup by handle in any locale (`GET /products/by-handle/{handle}`).
        Index("ix_commerce_product_translations_handle", "tenant_id", "handle"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column()
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commerce_products.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(35))
    title: Mapped[str] = mapped_column(String(500))
    handle: Mapped[str] = mapped_column(String(200))
    subtitle: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)  # markdown
    # The description rendered and sanitized (`rustok.content.render`), made when it is written.
    description_html: Mapped[str | None] = mapped_column(Text)


class ProductOption(IdMixin, TenantMixin, Base):
    """An option of a product (``Size``) with its values in order (``["S", "M", "L"]``)."""

    __tablename__ = "commerce_product_options"
    __table_args__ = (UniqueConstraint("product_id", "name"),)

    tenant_id: Mapped[uuid.UUID] = tenant_column(index=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commerce_products.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    values: Mapped[list[str]] = mapped_column(JSON(), default=list)
    position: Mapped[int] = mapped_column(default=0)


class ProductImage(IdMixin, TenantMixin, Base):
    """A media item shown with a product, at ``position`` (0 first), with alt text per locale.

    Deleting the product deletes its images; deleting the media item detaches it from every product that
    showed it (the row goes by the foreign key's cascade), as Saleor and Vendure do."""

    __tablename__ = "commerce_product_images"
    __table_args__ = (
        UniqueConstraint("product_id", "media_id"),
        UniqueConstraint("product_id", "position"),
        Index("ix_commerce_product_images_media", "media_id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column(index=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commerce_products.id", ondelete="CASCADE"))
    media_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"))
    position: Mapped[int]
    # {locale: alt text}; a locale without one falls back to the media item's own alt text.
    alt: Mapped[dict[str, str]] = mapped_column(JSON(), default=dict)


class Variant(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "commerce_variants"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sku"),
        Index("ix_commerce_variants_product", "tenant_id", "product_id", "rank", "id"),
        CheckConstraint("low_stock_threshold IS NULL OR low_stock_threshold >= 0", name="threshold"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column()
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commerce_products.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(500))
    # {option name: value}, each a value of the product's option of that name.
    options: Mapped[dict[str, str]] = mapped_column(JSON(), default=dict)
    barcode: Mapped[str | None] = mapped_column(String(64))
    weight_grams: Mapped[int | None]
    rank: Mapped[int] = mapped_column(default=0)
    manage_inventory: Mapped[bool] = mapped_column(default=True)
    allow_backorder: Mapped[bool] = mapped_column(default=False)
    low_stock_threshold: Mapped[int | None]


class Price(IdMixin, TenantMixin, Base):
    __tablename__ = "commerce_prices"
    __table_args__ = (
        UniqueConstraint("variant_id", "currency"),
        CheckConstraint("amount >= 0", name="amount"),
        CheckConstraint("compare_at_amount IS NULL OR compare_at_amount >= 0", name="compare_at_amount"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column(index=True)
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commerce_variants.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units
    compare_at_amount: Mapped[int | None] = mapped_column(BigInteger)


class ProductPrice(TenantMixin, Base):
    """A product's price in one currency as a storefront lists it: its cheapest variant's. Derived from
    the prices, rewritten by every write of a variant's prices or of its variants (in the same transaction,
    under the product's row lock), so that a list sorted or filtered by price is one range of
    ``ix_commerce_product_prices_listing`` instead of an aggregate over the tenant's prices."""

    __tablename__ = "commerce_product_prices"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount"),
        Index("ix_commerce_product_prices_listing", "tenant_id", "currency", "amount", "product_id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column()
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_products.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units


class StockLocation(IdMixin, TimestampMixin, TenantMixin, Base):
    """Where stock is kept. Each tenant gets one default location when it first stocks a variant."""

    __tablename__ = "commerce_stock_locations"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    tenant_id: Mapped[uuid.UUID] = tenant_column()
    name: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(default=False)


class InventoryLevel(IdMixin, TenantMixin, Base):
    """A variant's stock at one location: ``quantity`` on hand, ``reserved`` by open orders; what can be
    sold is ``quantity - reserved``."""

    __tablename__ = "commerce_inventory_levels"
    __table_args__ = (
        UniqueConstraint("variant_id", "location_id"),
        CheckConstraint("reserved >= 0", name="reserved"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column(index=True)
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("commerce_variants.id", ondelete="CASCADE"))
    location_id: Mapped[uuid.UUID] = mapped_column(
        # Named: the conventional name would pass PostgreSQL's 63 characters.
        ForeignKey(
            "commerce_stock_locations.id", ondelete="CASCADE", name="fk_commerce_inventory_levels_location"
        ),
        index=True,
    )
    quantity: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)

    @property
    def available(self) -> int:
        return self.quantity - self.reserved


class OrderCounter(TenantMixin, Base):
    """The last order number a tenant issued: one row per tenant, drawn from by ``UPDATE ... RETURNING``."""

    __tablename__ = "commerce_order_counters"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    last_number: Mapped[int] = mapped_column(BigInteger, default=0)


class Order(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "commerce_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        CheckConstraint(one_of("status", OrderStatus), name="status"),
        CheckConstraint("subtotal >= 0 AND total >= 0", name="amounts"),
        Index("ix_commerce_orders_customer", "tenant_id", "customer_id", "id"),
        Index("ix_commerce_orders_listing", "tenant_id", "status", "id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column()
    number: Mapped[int] = mapped_column(BigInteger)
    # A deleted customer's orders stay, for the books.
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.PENDING.value)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON())
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))


class OrderLine(IdMixin, TenantMixin, Base):
    """A line of an order, with what was sold as it was then (SKU, title, unit price): later changes to the
    catalog do not rewrite past orders."""

    __tablename__ = "commerce_order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column(index=True)
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_orders.id", ondelete="CASCADE"), index=True
    )
    variant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("commerce_variants.id", ondelete="SET NULL")
    )
    product_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("commerce_products.id", ondelete="SET NULL")
    )
    # Where the line's stock is reserved; None when the variant does not manage inventory.
    location_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("commerce_stock_locations.id", ondelete="SET NULL")
    )
    sku: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int]
    unit_price: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
