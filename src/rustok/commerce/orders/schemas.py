"""Orders in and out. Money is integer minor units of the order's currency."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from rustok.commerce.models import OrderStatus
from rustok.core.event_fields import CurrencyCode
from rustok.core.fields import NoNul, Strict

MAX_ITEMS = 100
MAX_QUANTITY = 10_000


def _text(max_length: int, *, min_length: int = 0) -> Any:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Line = Annotated[str, _text(200, min_length=1), NoNul]
OptionalLine = Annotated[str, _text(200), NoNul]


class ShippingAddress(Strict):
    name: Line
    line1: Line
    line2: OptionalLine | None = None
    city: Line
    postal_code: Annotated[str, _text(20), NoNul] | None = None
    region: OptionalLine | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        description="ISO 3166-1 alpha-2 code, e.g. DE."
    )
    phone: Annotated[str, _text(40), NoNul] | None = None


class OrderItemIn(Strict):
    variant_id: uuid.UUID
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class OrderCreate(Strict):
    currency: CurrencyCode
    items: list[OrderItemIn] = Field(min_length=1, max_length=MAX_ITEMS)
    email: Annotated[str, _text(320, min_length=3), NoNul] | None = None
    shipping_address: ShippingAddress | None = None

    @field_validator("items")
    @classmethod
    def _each_variant_once(cls, items: list[OrderItemIn]) -> list[OrderItemIn]:
        ids = [item.variant_id for item in items]
        if len(set(ids)) != len(ids):
            raise ValueError("each variant may appear once; give its total quantity")
        return items


class TransitionIn(Strict):
    status: Literal["paid", "shipped", "completed"]


class CancelIn(Strict):
    reason: Annotated[str, _text(500), NoNul] | None = None


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    variant_id: uuid.UUID | None
    product_id: uuid.UUID | None
    sku: str
    title: str
    quantity: int
    unit_price: int = Field(description="The variant's price when the order was placed, in minor units.")
    total: int


class OrderOut(BaseModel):
    id: uuid.UUID
    number: int
    status: OrderStatus
    customer_id: uuid.UUID | None
    email: str | None
    currency: str
    items: list[OrderLineOut]
    subtotal: int
    total: int
    shipping_address: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
