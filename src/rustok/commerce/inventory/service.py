"""Stock: the one place that changes inventory levels, shared by the inventory routes and by orders.

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

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError

from rustok.commerce.events import InventoryLow, InventoryUpdated
from rustok.commerce.models import InventoryLevel, StockLocation, Variant
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
    """The tenant's default stock location, made the first time it is needed (a concurrent first time is
    settled by the unique name: the loser reads the winner's)."""
    session = uow.session
    statement = select(StockLocation).where(StockLocation.is_default.is_(True)).limit(1)
    found = (await session.scalars(statement)).first()
    if found is not None:
        return found
    location = StockLocation(name=DEFAULT_LOCATION, is_default=True)
    try:
        async with session.begin_nested():
            session.add(location)
            await session.flush()
    except IntegrityError:
        return (await session.scalars(statement)).one()
    return location


async def _level(uow: UnitOfWork, variant_id: uuid.UUID, location_id: uuid.UUID) -> None:
    """Make sure the variant has a level row at the location (a concurrent creation is no error)."""
    session = uow.session
    exists = select(InventoryLevel.id).where(
        InventoryLevel.variant_id == variant_id, InventoryLevel.location_id == location_id
    )
    if (await session.scalars(exists)).first() is not None:
        return
    try:
        async with session.begin_nested():
            session.add(InventoryLevel(variant_id=variant_id, location_id=location_id))
            await session.flush()
    except IntegrityError:
        pass


async def _change(
    uow: UnitOfWork,
    variant: Variant,
    location_id: uuid.UUID,
    *,
    quantity: ColumnElement[int] | int | None = None,
    reserved: ColumnElement[int] | None = None,
    condition: ColumnElement[bool] | None = None,
) -> int | None:
    """One conditional UPDATE of the level: the available quantity after it, or None when ``condition``
    failed (nothing changed)."""
    values: dict[str, object] = {}
    if quantity is not None:
        values["quantity"] = quantity
    if reserved is not None:
        values["reserved"] = reserved
    statement = (
        update(InventoryLevel)
        .where(InventoryLevel.variant_id == variant.id, InventoryLevel.location_id == location_id)
        .values(**values)
        .returning(InventoryLevel.quantity, InventoryLevel.reserved)
        .execution_options(synchronize_session=False)
    )
    if condition is not None:
        statement = statement.where(condition)
    row = (await uow.session.execute(statement)).first()
    if row is None:
        return None
    return int(row.quantity) - int(row.reserved)


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
    statement = select(
        func.coalesce(func.sum(InventoryLevel.quantity), 0),
        func.coalesce(func.sum(InventoryLevel.reserved), 0),
    ).where(InventoryLevel.variant_id == variant.id)
    quantity, reserved = (await uow.session.execute(statement)).one()
    return Stock(variant.id, int(quantity), int(reserved), variant.low_stock_threshold)


async def available_by_variant(uow: UnitOfWork, variant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """What can be sold of each variant (over its locations); variants with no stock recorded are absent."""
    if not variant_ids:
        return {}
    statement = (
        select(InventoryLevel.variant_id, func.sum(InventoryLevel.quantity - InventoryLevel.reserved))
        .where(InventoryLevel.variant_id.in_(list(variant_ids)))
        .group_by(InventoryLevel.variant_id)
    )
    return {row[0]: int(row[1] or 0) for row in (await uow.session.execute(statement)).all()}


async def adjust(uow: UnitOfWork, variant: Variant, delta: int) -> Stock:
    """Add ``delta`` (negative: remove) to the quantity on hand at the default location. Removing more
    than is available is a 409 ``insufficient_stock`` unless the variant allows backorders."""
    location = await default_location(uow)
    await _level(uow, variant.id, location.id)
    condition = None
    if delta < 0 and not variant.allow_backorder:
        condition = InventoryLevel.quantity - InventoryLevel.reserved + delta >= 0
    changed = await _change(
        uow, variant, location.id, quantity=InventoryLevel.quantity + delta, condition=condition
    )
    if changed is None:
        raise InsufficientStock(f"Only the available stock can be removed; {-delta} is more than that.")
    if delta:
        _announce(uow, variant, location.id, changed - delta, changed)
    return await stock_of(uow, variant)


async def set_quantity(uow: UnitOfWork, variant: Variant, quantity: int) -> Stock:
    """Set the quantity on hand at the default location (a stock count). Below what open orders have
    reserved is a 409 ``insufficient_stock`` unless the variant allows backorders."""
    location = await default_location(uow)
    await _level(uow, variant.id, location.id)
    level = (
        await uow.session.scalars(
            select(InventoryLevel)
            .where(InventoryLevel.variant_id == variant.id, InventoryLevel.location_id == location.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
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
    location = await default_location(uow)
    await _level(uow, variant.id, location.id)
    condition = None
    if not variant.allow_backorder:
        condition = InventoryLevel.quantity - InventoryLevel.reserved >= quantity
    changed = await _change(
        uow, variant, location.id, reserved=InventoryLevel.reserved + quantity, condition=condition
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
    changed = await _change(
        uow,
        variant,
        location_id,
        reserved=InventoryLevel.reserved - quantity,
        condition=InventoryLevel.reserved >= quantity,
    )
    if changed is not None:
        _announce(uow, variant, location_id, changed - quantity, changed)


async def fulfil(uow: UnitOfWork, variant: Variant, location_id: uuid.UUID, quantity: int) -> None:
    """Turn a reservation into a decrement (an order completed): on hand and reserved both drop, what is
    available stays. Announced as ``inventory.updated`` with equal old and new available quantities."""
    changed = await _change(
        uow,
        variant,
        location_id,
        quantity=InventoryLevel.quantity - quantity,
        reserved=InventoryLevel.reserved - quantity,
        condition=InventoryLevel.reserved >= quantity,
    )
    if changed is not None:
        _announce(uow, variant, location_id, changed, changed)
