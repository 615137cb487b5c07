"""The tenants module's SQL."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.tenants.cache import ResolvedTenant, TenantKey
from rustok.tenants.models import Tenant, TenantLocale


class TenantRepository:
    """Tenants are platform data: these queries run in the platform scope (or name the tenant)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, key: TenantKey) -> Tenant | None:
        kind, value = key
        if kind == "id":
            try:
                criterion = Tenant.id == uuid.UUID(value)
            except ValueError:
                return None
        elif kind == "slug":
            criterion = Tenant.slug == value
        else:
            criterion = Tenant.domain == value
        return (await self.session.scalars(select(Tenant).where(criterion))).one_or_none()

    async def ids(self) -> list[uuid.UUID]:
        return list((await self.session.scalars(select(Tenant.id).order_by(Tenant.id))).all())

    async def resolved(self, key: TenantKey) -> ResolvedTenant | None:
        """The tenant behind ``key`` with its enabled locales (the default first), as the cache holds it."""
        tenant = await self.find(key)
        if tenant is None:
            return None
        rows = await self.session.execute(
            select(TenantLocale.locale, TenantLocale.is_default)
            .where(TenantLocale.tenant_id == tenant.id, TenantLocale.is_enabled.is_(True))
            .order_by(TenantLocale.locale)
        )
        locales = sorted(rows, key=lambda row: (not row.is_default, row.locale))
        return ResolvedTenant(
            id=tenant.id,
            name=tenant.name,
            slug=tenant.slug,
            domain=tenant.domain,
            default_locale=tenant.default_locale,
            is_active=tenant.is_active,
            settings=dict(tenant.settings),
            locales=tuple(row.locale for row in locales),
        )
