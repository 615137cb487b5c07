"""Stock: the one place that changes inventory levels, shared by the inventory routes and by orders. Its
SQL is `rustok.commerce.inventory.repository`.

Every change is a single conditional ``UPDATE ... RETURNING`` on the level's row, so it is atomic on both
backends: PostgreSQL locks the row and re-checks the condition against the latest committed version (under
read committed), SQLite serializes writers. A reservation therefore never takes more than is available
(``quantity - reserved``) unless the variant allows backorders, however many orders race for the last unit.

Every change announces ``inventory.updated`` with the **available** quantity before and after (what can be
sold: on hand minus reserved), and ``inventory.low`` when that crosses the variant's threshold downward
(from above it to at or below it): once per crossing, since each change sees its own before and after.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from rustok.commerce.events import InventoryLow, InventoryUpdated
from rustok.commerce.inventory.repository import InventoryRepository
from rustok.commerce.models import StockLocation, Variant
from rustok.core.errors import Conflict
from rustok.core.uow import UnitOfWork

DEFAULT_LOCATION = "Default"


StockChange = Callable[["UnitOfWork", Variant, uuid.UUID, int], Awaitable[None]]
"""`release` or `fulfil`: a change to a reservation an order holds."""


class InsufficientStock(Conflict):
    code = "insufficient_stock"


@dataclass(frozen=True, slots=True)
class Stock:
    """A variant's stock summed over its locations."""

    variant_id: uuid.UUID
    quantity: int
    reserved: int
    low_stock_threshold: int | None

    @property
    def available(self) -> int:
        return self.quantity - self.reserved


async def default_location(uow: UnitOfWork) -> StockLocation:
    """The tenant's default stock location, made the first time it is needed."""
    return await InventoryRepository(uow.session).default_location(DEFAULT_LOCATION)


def _announce(
    uow: UnitOfWork, variant: Variant, location_id: uuid.UUID, old_available: int, new_available: int
) -> None:
    uow.record(
        InventoryUpdated(
            variant_id=variant.id,
            product_id=variant.product_id,
            location_id=location_id,
            old_quantity=old_available,
            new_quantity=new_available,
        )
    )
    threshold = variant.low_stock_threshold
    if threshold is not None and old_available > threshold >= new_available:
        uow.record(
            InventoryLow(
                variant_id=variant.id,
                product_id=variant.product_id,
                remaining=new_available,
                threshold=threshold,
            )
        )


async def stock_of(uow: UnitOfWork, variant: Variant) -> Stock:
    quantity, reserved = await InventoryRepository(uow.session).totals(variant.id)
    return Stock(variant.id, quantity, reserved, variant.low_stock_threshold)


async def available_by_variant(uow: UnitOfWork, variant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """What can be sold of each variant (over its locations); variants with no stock recorded are absent."""
    if not variant_ids:
        return {}
    return await InventoryRepository(uow.session).available_by_variant(variant_ids)


async def adjust(uow: UnitOfWork, variant: Variant, delta: int) -> Stock:
    """Add ``delta`` (negative: remove) to the quantity on hand at the default location. Removing more
    than is available is a 409 ``insufficient_stock`` unless the variant allows backorders."""
    levels = InventoryRepository(uow.session)
    location = await default_location(uow)
    await levels.ensure_level(variant.id, location.id)
    keep_available = delta < 0 and not variant.allow_backorder
    changed = await levels.add_quantity(variant.id, location.id, delta, keep_available=keep_available)
    if changed is None:
        raise InsufficientStock(f"Only the available stock can be removed; {-delta} is more than that.")
    if delta:
        _announce(uow, variant, location.id, changed - delta, changed)
    return await stock_of(uow, variant)


async def set_quantity(uow: UnitOfWork, variant: Variant, quantity: int) -> Stock:
    """Set the quantity on hand at the default location (a stock count). Below what open orders have
    reserved is a 409 ``insufficient_stock`` unless the variant allows backorders."""
    levels = InventoryRepository(uow.session)
    location = await default_location(uow)
    await levels.ensure_level(variant.id, location.id)
    level = await levels.locked_level(variant.id, location.id)
    if quantity < level.reserved and not variant.allow_backorder:
        raise InsufficientStock(f"{level.reserved} are reserved by open orders; the quantity cannot be less.")
    old_available = level.available
    level.quantity = quantity
    await uow.session.flush()
    if level.available != old_available:
        _announce(uow, variant, location.id, old_available, level.available)
    return await stock_of(uow, variant)


async def reserve(uow: UnitOfWork, variant: Variant, quantity: int) -> uuid.UUID:
    """Reserve ``quantity`` for an order at the default location, atomically: a 409
    ``insufficient_stock`` when less is available (unless backorders are allowed). The location."""
    levels = InventoryRepository(uow.session)
    location = await default_location(uow)
    await levels.ensure_level(variant.id, location.id)
    changed = await levels.reserve(
        variant.id, location.id, quantity, only_available=not variant.allow_backorder
    )
    if changed is None:
        raise InsufficientStock(
            f"Not enough stock of {variant.sku!r} for {quantity}.",
            variant_id=str(variant.id),
            sku=variant.sku,
        )
    _announce(uow, variant, location.id, changed + quantity, changed)
    return location.id


async def release(uow: UnitOfWork, variant: Variant, location_id: uuid.UUID, quantity: int) -> None:
    """Give back a reservation (an order cancelled)."""
    changed = await InventoryRepository(uow.session).release(variant.id, location_id, quantity)
    if changed is not None:
        _announce(uow, variant, location_id, changed - quantity, changed)


async def fulfil(uow: UnitOfWork, variant: Variant, location_id: uuid.UUID, quantity: int) -> None:
    """Turn a reservation into a decrement (an order completed): on hand and reserved both drop, what is
    available stays. Announced as ``inventory.updated`` with equal old and new available quantities."""
    changed = await InventoryRepository(uow.session).fulfil(variant.id, location_id, quantity)
    if changed is not None:
        _announce(uow, variant, location_id, changed, changed)
