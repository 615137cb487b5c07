"""The repository base: all SQL for one table lives in a subclass of `Repository`.

Queries go through the session, whose tenant scope (see `rustok.core.tenancy`) adds the tenant to every
statement on tenant data, so a repository method cannot forget it. A repository never commits: it adds,
flushes and reads; the unit of work that owns the session decides when the transaction ends.
"""

from __future__ import annotations

import builtins
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from rustok.core.errors import NotFound
from rustok.core.models import IdMixin
from rustok.core.pagination import PageParams, Slice, paginate
from rustok.core.tenancy import TenantScopeError, scope_of

M = TypeVar("M", bound=IdMixin)
T = TypeVar("T")


def grouped(rows: Iterable[T], key: Callable[[T], uuid.UUID]) -> dict[uuid.UUID, list[T]]:
    """Rows fetched for many owners at once, by owner id (``key``), in their order."""
    found: dict[uuid.UUID, list[T]] = defaultdict(list)
    for row in rows:
        found[key(row)].append(row)
    return found


class Repository(Generic[M]):
    model: ClassVar[type[Any]]
    # What a missing row is called in a 404's detail ("node", "product", ...).
    noun: ClassVar[str] = "object"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def tenant_id(self) -> uuid.UUID:
        """The tenant this repository's session serves; an error in a platform or unscoped session."""
        scope = scope_of(self.session)
        if scope is None or scope.tenant_id is None:
            raise TenantScopeError(f"{type(self).__name__} needs a tenant-scoped session")
        return scope.tenant_id

    def select(self) -> Select[M]:
        return select(self.model)

    async def get(self, id_: uuid.UUID) -> M | None:
        result = await self.session.scalars(self.select().where(self.model.id == id_))
        return result.one_or_none()

    async def get_or_404(self, id_: uuid.UUID) -> M:
        """The row, or a 404 that says nothing about whether it exists in another tenant."""
        row = await self.get(id_)
        if row is None:
            raise NotFound(f"No {self.noun} with id {id_}.")
        return row

    async def list(self, *where: ColumnElement[bool], limit: int | None = None) -> Sequence[M]:
        statement = self.select().where(*where)
        if limit is not None:
            statement = statement.limit(limit)
        return (await self.session.scalars(statement)).all()

    async def count(self, *where: ColumnElement[bool]) -> int:
        # count(Model.id), not count(*) ... select_from(Model): the tenant scope reaches entity columns.
        statement = select(func.count(self.model.id)).where(*where)
        return int((await self.session.execute(statement)).scalar_one())

    async def page(
        self,
        params: PageParams,
        *where: ColumnElement[bool],
        key: Sequence[InstrumentedAttribute[Any]] | None = None,
        descending: bool = False,
    ) -> Slice[M]:
        """A cursor page, by default in id order (UUIDv7: creation order)."""
        key = key if key is not None else (self.model.id,)
        return await paginate(
            self.session, self.select().where(*where), key=key, params=params, descending=descending
        )

    async def ids_after(self, after_id: uuid.UUID | None, limit: int) -> builtins.list[uuid.UUID]:
        """Up to ``limit`` ids after ``after_id``, in id order: for walking a table in batches."""
        statement = select(self.model.id).order_by(self.model.id).limit(limit)
        if after_id is not None:
            statement = statement.where(self.model.id > after_id)
        return list((await self.session.scalars(statement)).all())

    async def existing_ids(self, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Those of ``ids`` that still exist."""
        if not ids:
            return set()
        statement = select(self.model.id).where(self.model.id.in_(list(ids)))
        return set((await self.session.scalars(statement)).all())

    async def add(self, row: M) -> M:
        self.session.add(row)
        await self.session.flush()
        return row

    async def delete(self, row: M) -> None:
        await self.session.delete(row)
        await self.session.flush()
