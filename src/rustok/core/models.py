"""The declarative base every table derives from, and the mixins that give rows their common columns."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, MetaData, Table, Uuid, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column

from rustok.core import clock
from rustok.core.ids import new_id
from rustok.core.types import UTCDateTime

# Stable constraint names, so migrations can name (and drop) what they created on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSON(),
    }


class IdMixin:
    """A UUIDv7 primary key, assigned in Python so it is known before the row is flushed."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class TenantMixin:
    """Marks a table as tenant data. Sessions scope every ORM query on it to their tenant, and rows added
    without a tenant get the session's (see `rustok.core.tenancy`)."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(index=True)


def tenant_column(*, index: bool = False) -> Mapped[uuid.UUID]:
    """A tenant table's ``tenant_id`` as a foreign key to its tenant (its rows go with the tenant);
    ``index`` where no other index of the table starts with it."""
    return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=index)


def one_of(column: str, values: type[StrEnum]) -> str:
    """A CHECK constraint's text: ``column`` holds one of the enum's values."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


# Every table that holds tenant data, filled in as mappers are built (see `rustok.core.tenancy`).
TENANT_TABLES: set[Table] = set()


@event.listens_for(Mapper, "after_mapper_constructed")
def _collect_tenant_tables(mapper: Mapper[Any], cls: type) -> None:
    if issubclass(cls, TenantMixin):
        TENANT_TABLES.update(table for table in mapper.tables if isinstance(table, Table))
