"""The tenants module's use cases."""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import select

from rustok.core.errors import Conflict
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope, TenantScopeError
from rustok.core.uow import SessionFactory, UnitOfWork
from rustok.tenants.cache import ResolvedTenant, TenantCache, TenantKey
from rustok.tenants.events import LocaleEnabled, TenantCreated
from rustok.tenants.models import Tenant, TenantLocale
from rustok.tenants.repository import TenantRepository
from rustok.tenants.schemas import TenantCreate

# The caches of this process, which the invalidating consumer reaches (tests may have several).
LIVE_CACHES: weakref.WeakSet[TenantCache] = weakref.WeakSet()


async def create_tenant(uow: UnitOfWork, data: TenantCreate) -> Tenant:
    """A new tenant with its default locale enabled; platform work (an all-tenants unit of work)."""
    if uow.scope is None or not uow.scope.platform:
        raise TenantScopeError("creating a tenant is platform work")
    session = uow.session
    taken = await session.scalar(select(Tenant.id).where(Tenant.slug == data.slug))
    if taken is not None:
        raise Conflict(f"A tenant with slug {data.slug!r} exists.", code="tenant_slug_conflict")
    if data.domain is not None:
        taken = await session.scalar(select(Tenant.id).where(Tenant.domain == data.domain))
        if taken is not None:
            raise Conflict(f"A tenant with domain {data.domain!r} exists.", code="tenant_domain_conflict")
    tenant = Tenant(
        name=data.name,
        slug=data.slug,
        domain=data.domain,
        default_locale=data.default_locale,
        settings=data.settings,
        is_active=data.is_active,
    )
    session.add(tenant)
    await session.flush()
    session.add(TenantLocale(tenant_id=tenant.id, locale=data.default_locale, is_default=True))
    await session.flush()
    uow.record(TenantCreated(tenant_id=tenant.id), tenant_id=tenant.id)
    uow.record(LocaleEnabled(locale=data.default_locale), tenant_id=tenant.id)
    return tenant


def build_tenant_cache(settings: Settings, session_factory: SessionFactory, redis: Any = None) -> TenantCache:
    """The process's tenant cache, loading from the database in the platform scope."""

    async def load(key: TenantKey) -> ResolvedTenant | None:
        async with UnitOfWork(session_factory, TenantScope.all_tenants(), write=False) as uow:
            return await TenantRepository(uow.session).resolved(key)

    cache = TenantCache(
        load,
        redis=redis,
        ttl=settings.tenant_cache_ttl_seconds,
        negative_ttl=settings.tenant_cache_negative_ttl_seconds,
        max_entries=settings.tenant_cache_max_entries,
    )
    LIVE_CACHES.add(cache)
    return cache
