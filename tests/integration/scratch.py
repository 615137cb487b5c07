"""Tables that exist only inside a test's transaction, to exercise the kernel's table machinery before any
domain module has tables of its own. They live on their own metadata, so the migrations check ignores them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy import ForeignKey, MetaData
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from rustok.core.models import NAMING_CONVENTION, Base, IdMixin, TenantMixin, TimestampMixin


class ScratchBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = Base.type_annotation_map


class Widget(IdMixin, TimestampMixin, TenantMixin, ScratchBase):
    __tablename__ = "scratch_widgets"

    name: Mapped[str]
    parts: Mapped[list[Part]] = relationship(back_populates="widget", lazy="raise")


class Part(IdMixin, TenantMixin, ScratchBase):
    __tablename__ = "scratch_parts"

    widget_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scratch_widgets.id"))
    label: Mapped[str]
    widget: Mapped[Widget] = relationship(back_populates="parts", lazy="raise")


class Setting(IdMixin, ScratchBase):
    """Not tenant data: never scoped."""

    __tablename__ = "scratch_settings"

    key: Mapped[str]


@pytest_asyncio.fixture(loop_scope="session")
async def scratch_tables(db_connection: AsyncConnection) -> AsyncIterator[None]:
    """Create the scratch tables inside the test's transaction (DDL is transactional on both backends)."""
    await db_connection.run_sync(ScratchBase.metadata.create_all)
    yield


class Effect(IdMixin, TenantMixin, ScratchBase):
    """What a test consumer did: one row per application of an event, so a second effect shows."""

    __tablename__ = "scratch_effects"

    consumer: Mapped[str]
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str]
