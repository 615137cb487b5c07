"""Stock's SQL: the default location, the inventory levels, and the conditional UPDATEs that change them
(tenant-scoped by the session, as every statement). Each change is one ``UPDATE ... RETURNING`` on the
level's row with its condition in the same statement, so it is atomic on both backends (see
`rustok.commerce.inventory.service`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.commerce.models import InventoryLevel, StockLocation


class InventoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def default_location(self, name: str) -> StockLocation:
        """The tenant's default stock location, made (as ``name``) the first time it is needed; a
        concurrent first time is settled by the unique name: the loser reads the winner's."""
        statement = select(StockLocation).where(StockLocation.is_default.is_(True)).limit(1)
        found = (await self.session.scalars(statement)).first()
        if found is not None:
            return found
        location = StockLocation(name=name, is_default=True)
        try:
            async with self.session.begin_nested():
                self.session.add(location)
                await self.session.flush()
        except IntegrityError:
            return (await self.session.scalars(statement)).one()
        return location

    async def ensure_level(self, variant_id: uuid.UUID, location_id: uuid.UUID) -> None:
        """Make sure the variant has a level row at the location (a concurrent creation is no error)."""
        exists = select(InventoryLevel.id).where(
            InventoryLevel.variant_id == variant_id, InventoryLevel.location_id == location_id
        )
        if (await self.session.scalars(exists)).first() is not None:
            return
        try:
            async with self.session.begin_nested():
                self.session.add(InventoryLevel(variant_id=variant_id, location_id=location_id))
                await self.session.flush()
        except IntegrityError:
            pass

    async def locked_level(self, variant_id: uuid.UUID, location_id: uuid.UUID) -> InventoryLevel:
        """The level row, locked (``FOR UPDATE``) with its latest committed state."""
        statement = (
            select(InventoryLevel)
            .where(InventoryLevel.variant_id == variant_id, InventoryLevel.location_id == location_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(statement)).one()

    async def _change(
        self,
        variant_id: uuid.UUID,
        location_id: uuid.UUID,
        *,
        quantity: ColumnElement[int] | None = None,
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
            .where(InventoryLevel.variant_id == variant_id, InventoryLevel.location_id == location_id)
            .values(**values)
            .returning(InventoryLevel.quantity, InventoryLevel.reserved)
            .execution_options(synchronize_session=False)
        )
        if condition is not None:
            statement = statement.where(condition)
        row = (await self.session.execute(statement)).first()
        if row is None:
            return None
        return int(row.quantity) - int(row.reserved)

    async def add_quantity(
        self, variant_id: uuid.UUID, location_id: uuid.UUID, delta: int, *, keep_available: bool
    ) -> int | None:
        """Add ``delta`` to the quantity on hand; with ``keep_available``, only if what is available stays
        at or above zero. The available quantity after, or None when refused."""
        condition = None
        if keep_available:
            condition = InventoryLevel.quantity - InventoryLevel.reserved + delta >= 0
        return await self._change(
            variant_id, location_id, quantity=InventoryLevel.quantity + delta, condition=condition
        )

    async def reserve(
        self, variant_id: uuid.UUID, location_id: uuid.UUID, quantity: int, *, only_available: bool
    ) -> int | None:
        """Reserve ``quantity``; with ``only_available``, only if that much is available. The available
        quantity after, or None when refused."""
        condition = None
        if only_available:
            condition = InventoryLevel.quantity - InventoryLevel.reserved >= quantity
        return await self._change(
            variant_id, location_id, reserved=InventoryLevel.reserved + quantity, condition=condition
        )

    async def release(self, variant_id: uuid.UUID, location_id: uuid.UUID, quantity: int) -> int | None:
        """Give back ``quantity`` of the reservations, if that much is reserved."""
        return await self._change(
            variant_id,
            location_id,
            reserved=InventoryLevel.reserved - quantity,
            condition=InventoryLevel.reserved >= quantity,
        )

    async def fulfil(self, variant_id: uuid.UUID, location_id: uuid.UUID, quantity: int) -> int | None:
        """Take ``quantity`` off both the quantity on hand and the reservations, if that much is reserved."""
        return await self._change(
            variant_id,
            location_id,
            quantity=InventoryLevel.quantity - quantity,
            reserved=InventoryLevel.reserved - quantity,
            condition=InventoryLevel.reserved >= quantity,
        )

    async def totals(self, variant_id: uuid.UUID) -> tuple[int, int]:
        """The variant's quantity on hand and reserved, summed over its locations."""
        statement = select(
            func.coalesce(func.sum(InventoryLevel.quantity), 0),
            func.coalesce(func.sum(InventoryLevel.reserved), 0),
        ).where(InventoryLevel.variant_id == variant_id)
        quantity, reserved = (await self.session.execute(statement)).one()
        return int(quantity), int(reserved)

    async def available_by_variant(self, variant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        statement = (
            select(InventoryLevel.variant_id, func.sum(InventoryLevel.quantity - InventoryLevel.reserved))
            .where(InventoryLevel.variant_id.in_(list(variant_ids)))
            .group_by(InventoryLevel.variant_id)
        )
        return {row[0]: int(row[1] or 0) for row in (await self.session.execute(statement)).all()}
