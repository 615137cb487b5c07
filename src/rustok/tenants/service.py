"""The tenants module's use cases."""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rustok.core.errors import Conflict, NotFound, Unprocessable
from rustok.core.ids import parse_id
from rustok.core.pagination import MAX_LIMIT, PageParams, Slice
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope, TenantScopeError
from rustok.core.uow import UnitOfWork, UnitOfWorkFactory
from rustok.tenants.cache import ResolvedTenant, TenantCache, TenantKey
from rustok.tenants.events import LocaleDisabled, LocaleEnabled, TenantCreated, TenantUpdated
from rustok.tenants.models import Tenant, TenantLocale
from rustok.tenants.repository import TenantLocaleRepository, TenantRepository
from rustok.tenants.schemas import CurrentTenantUpdate, LocaleIn, TenantCreate, TenantUpdate

# The caches of this process, which the invalidating consumer reaches (tests may have several).
LIVE_CACHES: weakref.WeakSet[TenantCache] = weakref.WeakSet()


def _platform(uow: UnitOfWork) -> None:
    if uow.scope is None or not uow.scope.platform:
        raise TenantScopeError("managing tenants is platform work (an all-tenants unit of work)")


async def _refuse_taken(
    uow: UnitOfWork, slug: str | None, domain: str | None, but: uuid.UUID | None = None
) -> None:
    tenants = TenantRepository(uow.session)
    if slug is not None:
        taken = await tenants.id_with_slug(slug)
        if taken is not None and taken != but:
            raise Conflict(f"A tenant with slug {slug!r} exists.", code="tenant_slug_conflict")
    if domain is not None:
        taken = await tenants.id_with_domain(domain)
        if taken is not None and taken != but:
            raise Conflict(f"A tenant with domain {domain!r} exists.", code="tenant_domain_conflict")


async def create_tenant(uow: UnitOfWork, data: TenantCreate) -> Tenant:
    """A new tenant with its default locale enabled; platform work (an all-tenants unit of work)."""
    _platform(uow)
    session = uow.session
    await _refuse_taken(uow, data.slug, data.domain)
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


def forget_after_commit(uow: UnitOfWork, tenant_id: uuid.UUID) -> None:
    """Drop the tenant from this process's caches (and Redis) as soon as the change is committed; the
    ``tenant.*`` event does the same for every other process when the relay delivers it."""

    async def forget(_: UnitOfWork) -> None:
        await forget_everywhere(tenant_id)

    uow.after_commit(forget)


async def forget_everywhere(tenant_id: uuid.UUID, current: ResolvedTenant | None = None) -> None:
    """Drop the tenant from every cache of this process (and Redis, and through pub/sub the others'),
    under its id and, given ``current``, under its current slug and domain too."""
    for cache in list(LIVE_CACHES):
        await cache.invalidate(tenant_id, current)


def build_tenant_cache(settings: Settings, uows: UnitOfWorkFactory, redis: Any = None) -> TenantCache:
    """The process's tenant cache, loading from the database in the platform scope."""

    async def load(key: TenantKey) -> ResolvedTenant | None:
        async with uows(TenantScope.all_tenants(), write=False) as uow:
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


async def get_tenant(uow: UnitOfWork, tenant_id: uuid.UUID) -> Tenant:
    tenant = await TenantRepository(uow.session).get(tenant_id)
    if tenant is None:
        raise NotFound(f"No tenant with id {tenant_id}.")
    return tenant


async def find_tenant(uow: UnitOfWork, ref: str) -> Tenant:
    """Platform work: the tenant ``ref`` names, by its id or its slug (operators' commands take either)."""
    _platform(uow)
    ref = ref.strip()
    tenant_id = parse_id(ref)
    key: TenantKey = ("id", str(tenant_id)) if tenant_id is not None else ("slug", ref.lower())
    tenant = await TenantRepository(uow.session).find(key)
    if tenant is None:
        raise NotFound(f"no tenant {ref!r}")
    return tenant


async def tenant_ids(uow: UnitOfWork) -> list[uuid.UUID]:
    """Platform work: every tenant's id, in id order."""
    _platform(uow)
    return await TenantRepository(uow.session).ids()


async def list_tenants(uow: UnitOfWork, params: PageParams) -> Slice[Tenant]:
    _platform(uow)
    return await TenantRepository(uow.session).page(params)


async def update_tenant(uow: UnitOfWork, tenant_id: uuid.UUID, data: TenantUpdate) -> Tenant:
    """Platform work. A new default locale is enabled as well."""
    _platform(uow)
    tenant = await get_tenant(uow, tenant_id)
    changes = data.model_dump(exclude_unset=True)
    for required in ("name", "slug", "default_locale", "settings", "is_active"):
        if required in changes and changes[required] is None:
            raise Conflict(f"{required} cannot be removed.", code="invalid_change")
    await _refuse_taken(uow, changes.get("slug"), changes.get("domain"), but=tenant.id)
    for name, value in changes.items():
        setattr(tenant, name, value)
    if data.default_locale is not None:
        await _enable(uow, tenant, LocaleIn(locale=data.default_locale, is_default=True))
    await uow.session.flush()
    uow.record(TenantUpdated(tenant_id=tenant.id), tenant_id=tenant.id)
    return tenant


async def delete_tenant(uow: UnitOfWork, tenant_id: uuid.UUID) -> None:
    """Platform work: the tenant and, by cascade, its locales, modules and users go. Announced as
    ``tenant.updated`` (the catalog has no deletion of a tenant), which drops it from every cache."""
    _platform(uow)
    tenant = await get_tenant(uow, tenant_id)
    await uow.session.delete(tenant)
    await uow.session.flush()
    uow.record(TenantUpdated(tenant_id=tenant_id), tenant_id=tenant_id)


async def update_current_tenant(uow: UnitOfWork, tenant_id: uuid.UUID, data: CurrentTenantUpdate) -> Tenant:
    tenant = await get_tenant(uow, tenant_id)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise Conflict(f"{name} cannot be removed.", code="invalid_change")
        setattr(tenant, name, value)
    await uow.session.flush()
    uow.record(TenantUpdated(tenant_id=tenant.id), tenant_id=tenant.id)
    return tenant


# How many locales a tenant may have enabled at once: its locale list is then always one page of the API's
# largest (`rustok.core.pagination.MAX_LIMIT`), and no real site comes near it.
MAX_LOCALES = MAX_LIMIT


async def list_locales(uow: UnitOfWork) -> list[TenantLocale]:
    rows = await TenantLocaleRepository(uow.session).enabled()
    return sorted(rows, key=lambda row: (not row.is_default, row.locale))


async def enable_locale(uow: UnitOfWork, tenant_id: uuid.UUID, data: LocaleIn) -> TenantLocale:
    tenant = await get_tenant(uow, tenant_id)
    locale = await _enable(uow, tenant, data)
    await uow.session.flush()
    return locale


async def _enable(uow: UnitOfWork, tenant: Tenant, data: LocaleIn) -> TenantLocale:
    session = uow.session
    locales = TenantLocaleRepository(session)
    row = await locales.find(tenant.id, data.locale)
    newly = row is None or not row.is_enabled
    if newly and await locales.count_enabled(tenant.id) >= MAX_LOCALES:
        raise Conflict(
            f"A tenant may have at most {MAX_LOCALES} locales enabled; disable one first.",
            code="locale_limit",
        )
    if row is None:
        row = TenantLocale(tenant_id=tenant.id, locale=data.locale)
        session.add(row)
    row.is_enabled = True
    if data.name is not None:
        row.name = data.name
    if data.is_default:
        for other in await locales.defaults(tenant.id):
            if other is not row:
                other.is_default = False
        row.is_default = True
        if tenant.default_locale != data.locale:
            tenant.default_locale = data.locale
            uow.record(TenantUpdated(tenant_id=tenant.id), tenant_id=tenant.id)
    if newly:
        uow.record(LocaleEnabled(locale=data.locale), tenant_id=tenant.id)
    return row


async def disable_locale(uow: UnitOfWork, tenant_id: uuid.UUID, locale: str) -> None:
    """The default locale cannot be disabled (409 ``default_locale``): make another one the default first."""
    tenant = await get_tenant(uow, tenant_id)
    row = await TenantLocaleRepository(uow.session).find(tenant.id, locale, enabled=True)
    if row is None:
        raise NotFound(f"The locale {locale!r} is not enabled.", code="locale_not_enabled")
    if row.is_default or tenant.default_locale == locale:
        raise Conflict(
            f"{locale!r} is the default locale; make another one the default first.", code="default_locale"
        )
    row.is_enabled = False
    await uow.session.flush()
    uow.record(LocaleDisabled(locale=locale), tenant_id=tenant.id)


# ------------------------------------------------------------------------ locales of content (public surface)
#
# Which locales the other modules' content may be written in, and which one a read serves. Writes are
# checked against the tenant's enabled locales as the database has them in the writing transaction (not the
# cached tenant, which may lag a locale just enabled or disabled): a locale the tenant has not enabled is a
# 422 ``locale_not_enabled``. Reads fall back: the asked locale when the object has it, else the tenant's
# default, else the first the object has.


@dataclass(frozen=True, slots=True)
class Locales:
    default: str
    enabled: tuple[str, ...]  # the default first

    def require(self, locale: str, *, loc: tuple[str | int, ...] = ("body", "locale")) -> str:
        if locale not in self.enabled:
            raise Unprocessable(
                f"The locale {locale!r} is not enabled for this tenant (enabled: {', '.join(self.enabled)}).",
                code="locale_not_enabled",
                errors=[{"loc": list(loc), "msg": "locale not enabled", "type": "locale_not_enabled"}],
            )
        return locale

    def require_all(self, locales: Iterable[str], *, field: str) -> None:
        for index, locale in enumerate(locales):
            self.require(locale, loc=("body", field, index, "locale"))


async def tenant_locales(uow: UnitOfWork) -> Locales:
    """The enabled locales of the unit of work's tenant, read in its transaction."""
    rows = await list_locales(uow)
    default = next((row.locale for row in rows if row.is_default), rows[0].locale if rows else "en")
    return Locales(default=default, enabled=tuple(row.locale for row in rows))
