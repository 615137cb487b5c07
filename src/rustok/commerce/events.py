"""The events of the commerce module: products, variants, inventory, prices and orders.

Money is always an integer amount in the currency's minor units (cents), with its currency code."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from rustok.core.event_fields import CurrencyCode, MinorUnits
from rustok.core.events import DomainEvent

OrderStatus = Literal["pending", "paid", "shipped", "completed", "cancelled"]


class ProductCreated(DomainEvent, event_type="product.created"):
    product_id: uuid.UUID


class ProductUpdated(DomainEvent, event_type="product.updated"):
    product_id: uuid.UUID


class ProductPublished(DomainEvent, event_type="product.published"):
    product_id: uuid.UUID


class ProductUnpublished(DomainEvent, event_type="product.unpublished"):
    product_id: uuid.UUID


class ProductDeleted(DomainEvent, event_type="product.deleted"):
    product_id: uuid.UUID


class VariantCreated(DomainEvent, event_type="variant.created"):
    variant_id: uuid.UUID
    product_id: uuid.UUID


class VariantUpdated(DomainEvent, event_type="variant.updated"):
    variant_id: uuid.UUID
    product_id: uuid.UUID


class VariantDeleted(DomainEvent, event_type="variant.deleted"):
    variant_id: uuid.UUID
    product_id: uuid.UUID


class InventoryUpdated(DomainEvent, event_type="inventory.updated"):
    """A variant's stock changed, at one location or (``location_id`` None) overall.

    Quantities can be negative when the variant allows backorders."""

    variant_id: uuid.UUID
    product_id: uuid.UUID
    location_id: uuid.UUID | None = None
    old_quantity: int
    new_quantity: int


class InventoryLow(DomainEvent, event_type="inventory.low"):
    """Available stock fell below ``threshold``: fired once, when it crosses the threshold downward, not
    on every change while it stays below."""

    variant_id: uuid.UUID
    product_id: uuid.UUID
    remaining: int
    threshold: int = Field(ge=0)


class PriceUpdated(DomainEvent, event_type="price.updated"):
    """A variant's price in one currency changed; ``old_amount`` is None when it had no price in it."""

    variant_id: uuid.UUID
    product_id: uuid.UUID
    currency: CurrencyCode
    old_amount: MinorUnits | None = None
    new_amount: MinorUnits


class OrderPlaced(DomainEvent, event_type="order.placed"):
    """``customer_id`` is None for a guest checkout."""

    order_id: uuid.UUID
    customer_id: uuid.UUID | None = None
    total: MinorUnits
    currency: CurrencyCode


class OrderStatusChanged(DomainEvent, event_type="order.status_changed"):
    order_id: uuid.UUID
    old_status: OrderStatus
    new_status: OrderStatus


class OrderCompleted(DomainEvent, event_type="order.completed"):
    order_id: uuid.UUID


class OrderCancelled(DomainEvent, event_type="order.cancelled"):
    order_id: uuid.UUID
    reason: str | None = Field(default=None, max_length=500)
