"""The tenants' tables: tenants, the locales each one enables, the modules each one has switched on.

``tenants`` is platform data (a tenant is not inside a tenant); its locales and modules are the tenant's
own data and are scoped like every tenant table.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rustok.core.models import Base, IdMixin, TenantMixin, TimestampMixin


class Tenant(IdMixin, TimestampMixin, Base):
    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    default_locale: Mapped[str] = mapped_column(String(35))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)


class TenantLocale(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "tenant_locales"
    __table_args__ = (UniqueConstraint("tenant_id", "locale"),)

    # Indexed by the unique constraint, whose first column it is.
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(35))
    name: Mapped[str | None] = mapped_column(String(100))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    fallback_locale: Mapped[str | None] = mapped_column(String(35))


class TenantModule(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "tenant_modules"
    __table_args__ = (UniqueConstraint("tenant_id", "module"),)

    # Indexed by the unique constraint, whose first column it is.
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    module: Mapped[str] = mapped_column(String(64))
    is_enabled: Mapped[bool] = mapped_column(default=True)
