"""The tenants module's SQL."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.core.pagination import PageParams, Slice, paginate
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

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def id_with_slug(self, slug: str) -> uuid.UUID | None:
        return await self.session.scalar(select(Tenant.id).where(Tenant.slug == slug))

    async def id_with_domain(self, domain: str) -> uuid.UUID | None:
        return await self.session.scalar(select(Tenant.id).where(Tenant.domain == domain))

    async def page(self, params: PageParams) -> Slice[Tenant]:
        return await paginate(self.session, select(Tenant), key=(Tenant.id,), params=params)

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


class TenantLocaleRepository:
    """A tenant's locales (tenant data: the session's scope, or the tenant named, selects them)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enabled(self) -> list[TenantLocale]:
        """The enabled locales of the scope's tenant, by locale."""
        rows = await self.session.scalars(
            select(TenantLocale).where(TenantLocale.is_enabled.is_(True)).order_by(TenantLocale.locale)
        )
        return list(rows)

    async def count_enabled(self, tenant_id: uuid.UUID) -> int:
        """How many locales the tenant has enabled."""
        count = await self.session.scalar(
            select(func.count(TenantLocale.id)).where(
                TenantLocale.tenant_id == tenant_id, TenantLocale.is_enabled.is_(True)
            )
        )
        return count or 0

    async def find(self, tenant_id: uuid.UUID, locale: str, *, enabled: bool = False) -> TenantLocale | None:
        """The tenant's row of ``locale`` (only an enabled one with ``enabled``)."""
        statement = select(TenantLocale).where(
            TenantLocale.tenant_id == tenant_id, TenantLocale.locale == locale
        )
        if enabled:
            statement = statement.where(TenantLocale.is_enabled.is_(True))
        return await self.session.scalar(statement)

    async def defaults(self, tenant_id: uuid.UUID) -> list[TenantLocale]:
        """The tenant's rows marked default (one, unless a change is half-way)."""
        rows = await self.session.scalars(
            select(TenantLocale).where(TenantLocale.tenant_id == tenant_id, TenantLocale.is_default.is_(True))
        )
        return list(rows)
