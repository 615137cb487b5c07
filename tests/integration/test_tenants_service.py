"""The tenants module's use cases, with their events: create, update, delete, locales."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from rustok.core.errors import Conflict, NotFound
from rustok.core.pagination import PageParams
from rustok.core.tenancy import TenantScope, TenantScopeError
from rustok.core.uow import UnitOfWork
from rustok.tenants import service
from rustok.tenants.schemas import CurrentTenantUpdate, LocaleIn, TenantCreate, TenantUpdate
from rustok.testing import EventRecorder

MakeUoW = Callable[..., UnitOfWork]


async def new_tenant(make_uow: MakeUoW, slug: str = "acme", **fields: object) -> uuid.UUID:
    async with make_uow(TenantScope.all_tenants()) as uow:
        tenant = await service.create_tenant(uow, TenantCreate(name=slug.title(), slug=slug, **fields))
    return tenant.id


async def test_creating_a_tenant_enables_its_default_locale_and_announces_both(
    make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    async with event_recorder.watch() as events:
        tenant_id = await new_tenant(make_uow, default_locale="de")

    assert events.types == ["tenant.created", "locale.enabled"]
    assert {e.tenant_id for e in events} == {tenant_id}
    async with make_uow(TenantScope.of(tenant_id), write=False) as uow:
        locales = await service.list_locales(uow)
    assert [(row.locale, row.is_default) for row in locales] == [("de", True)]


async def test_slugs_and_domains_are_unique(make_uow: MakeUoW) -> None:
    await new_tenant(make_uow, "acme", domain="acme.example.com")

    with pytest.raises(Conflict) as slug:
        await new_tenant(make_uow, "acme")
    with pytest.raises(Conflict) as domain:
        await new_tenant(make_uow, "other", domain="acme.example.com")

    assert (slug.value.problem_code, domain.value.problem_code) == (
        "tenant_slug_conflict",
        "tenant_domain_conflict",
    )


async def test_tenants_are_platform_work(make_uow: MakeUoW) -> None:
    with pytest.raises(TenantScopeError):
        async with make_uow(TenantScope.of(uuid.uuid4())) as uow:
            await service.create_tenant(uow, TenantCreate(name="X", slug="x"))


async def test_an_update_is_announced_and_a_new_default_locale_is_enabled(
    make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    tenant_id = await new_tenant(make_uow)

    async with event_recorder.watch() as events, make_uow(TenantScope.all_tenants()) as uow:
        tenant = await service.update_tenant(
            uow, tenant_id, TenantUpdate(name="Acme Inc", default_locale="fr", is_active=False)
        )

    assert (tenant.name, tenant.default_locale, tenant.is_active) == ("Acme Inc", "fr", False)
    assert sorted(events.types) == ["locale.enabled", "tenant.updated"]
    async with make_uow(TenantScope.of(tenant_id), write=False) as uow:
        locales = await service.list_locales(uow)
    assert [(row.locale, row.is_default) for row in locales] == [("fr", True), ("en", False)]


async def test_an_update_cannot_take_another_tenants_slug(make_uow: MakeUoW) -> None:
    await new_tenant(make_uow, "taken")
    tenant_id = await new_tenant(make_uow, "mine")

    with pytest.raises(Conflict):
        async with make_uow(TenantScope.all_tenants()) as uow:
            await service.update_tenant(uow, tenant_id, TenantUpdate(slug="taken"))
    async with make_uow(TenantScope.all_tenants()) as uow:
        same = await service.update_tenant(uow, tenant_id, TenantUpdate(slug="mine"))
    assert same.slug == "mine"


async def test_locales_are_enabled_once_and_the_default_cannot_be_disabled(
    make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    tenant_id = await new_tenant(make_uow)
    scope = TenantScope.of(tenant_id)

    async with event_recorder.watch() as events:
        for _ in range(2):
            async with make_uow(scope) as uow:
                await service.enable_locale(uow, tenant_id, LocaleIn(locale="de", name="Deutsch"))
        async with make_uow(scope) as uow:
            await service.disable_locale(uow, tenant_id, "de")

    assert events.types == ["locale.enabled", "locale.disabled"]
    with pytest.raises(Conflict) as default:
        async with make_uow(scope) as uow:
            await service.disable_locale(uow, tenant_id, "en")
    assert default.value.problem_code == "default_locale"
    with pytest.raises(NotFound):
        async with make_uow(scope) as uow:
            await service.disable_locale(uow, tenant_id, "de")


async def test_an_admin_changes_name_and_settings_of_the_current_tenant(
    make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    tenant_id = await new_tenant(make_uow)

    async with event_recorder.watch() as events, make_uow(TenantScope.of(tenant_id)) as uow:
        tenant = await service.update_current_tenant(
            uow, tenant_id, CurrentTenantUpdate(settings={"registration_open": False})
        )

    assert tenant.settings == {"registration_open": False}
    assert events.types == ["tenant.updated"]


async def test_deleting_a_tenant_removes_it_and_announces_it(
    make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    tenant_id = await new_tenant(make_uow)

    async with event_recorder.watch() as events, make_uow(TenantScope.all_tenants()) as uow:
        await service.delete_tenant(uow, tenant_id)

    assert events.types == ["tenant.updated"]
    async with make_uow(TenantScope.all_tenants(), write=False) as uow:
        page = await service.list_tenants(uow, PageParams())
        assert tenant_id not in [t.id for t in page.items]
        with pytest.raises(NotFound):
            await service.get_tenant(uow, tenant_id)
