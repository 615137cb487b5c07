"""The tenants module's routes: the current tenant and its locales, and the platform's tenant API."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Response, status
from pydantic import BaseModel

from rustok.core.deps import ContextDep, PageDep, PlatformUoWDep, SettingsDep, UoWDep
from rustok.core.errors import problem_responses
from rustok.core.pagination import Page
from rustok.core.routing import make_router
from rustok.core.security import public, requires
from rustok.tenants import service
from rustok.tenants.schemas import (
    CurrentTenantUpdate,
    LocaleIn,
    LocaleOut,
    TenantCreatedOut,
    TenantCreateIn,
    TenantOut,
    TenantUpdate,
)
from rustok.users import service as users
from rustok.users.schemas import UserOut

router = make_router(prefix="/api", tags=["tenants"])
LocaleParam = Annotated[str, Path(max_length=35, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


class CurrentTenant(BaseModel):
    """The public face of the request's tenant."""

    id: str
    name: str
    slug: str
    default_locale: str
    locales: list[str]


@router.get(
    "/tenant",
    response_model=CurrentTenant,
    summary="The tenant this request resolved to",
    dependencies=[public()],
)
async def current_tenant(ctx: ContextDep) -> CurrentTenant:
    tenant = ctx.tenant
    return CurrentTenant(
        id=str(tenant.id),
        name=tenant.name,
        slug=tenant.slug,
        default_locale=tenant.default_locale,
        locales=list(tenant.locales),
    )


@router.patch(
    "/tenant",
    response_model=TenantOut,
    summary="Change the current tenant's name or settings",
    responses=problem_responses(401, 403, 409, 422),
    dependencies=[requires("settings:update")],
)
async def update_current_tenant(ctx: ContextDep, body: CurrentTenantUpdate) -> TenantOut:
    uow, tenant_id = ctx.uow, ctx.tenant_id
    tenant = await service.update_current_tenant(uow, tenant_id, body)
    service.forget_after_commit(uow, tenant_id)
    return TenantOut.model_validate(tenant)


@router.get(
    "/tenant/locales",
    response_model=Page[LocaleOut],
    summary="The locales the current tenant has enabled, the default first",
    dependencies=[public()],
)
async def list_locales(uow: UoWDep) -> Page[LocaleOut]:
    """Like every collection, a page; a tenant has at most 100 locales enabled, so it is always the whole
    list and `next_cursor` is null."""
    rows = await service.list_locales(uow)
    return Page(items=[LocaleOut.model_validate(row) for row in rows], next_cursor=None)


@router.post(
    "/tenant/locales",
    response_model=LocaleOut,
    status_code=status.HTTP_201_CREATED,
    summary="Enable a locale (optionally as the default)",
    responses=problem_responses(401, 403, 409, 422),
    dependencies=[requires("settings:update")],
)
async def enable_locale(ctx: ContextDep, body: LocaleIn) -> LocaleOut:
    uow, tenant_id = ctx.uow, ctx.tenant_id
    row = await service.enable_locale(uow, tenant_id, body)
    service.forget_after_commit(uow, tenant_id)
    return LocaleOut.model_validate(row)


@router.delete(
    "/tenant/locales/{locale}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Disable a locale (not the default one)",
    responses=problem_responses(401, 403, 404, 409),
    dependencies=[requires("settings:update")],
)
async def disable_locale(ctx: ContextDep, locale: LocaleParam) -> Response:
    uow, tenant_id = ctx.uow, ctx.tenant_id
    await service.disable_locale(uow, tenant_id, locale)
    service.forget_after_commit(uow, tenant_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------------------------------- platform


@router.post(
    "/admin/tenants",
    response_model=TenantCreatedOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a tenant, and its first admin (platform)",
    responses=problem_responses(401, 403, 409, 422),
    dependencies=[requires("tenants:create")],
)
async def create_tenant(body: TenantCreateIn, uow: PlatformUoWDep, settings: SettingsDep) -> TenantCreatedOut:
    """The tenant with its default locale and, given `admin`, its first admin user (role `admin`, who signs
    in with `X-Tenant-ID` set to the new slug): `tenant.created` and `user.registered` in one transaction."""
    tenant = await service.create_tenant(uow, body)
    admin = None
    if body.admin is not None:
        admin = await users.create_user(uow, tenant.id, body.admin.as_user(), settings=settings)
    service.forget_after_commit(uow, tenant.id)  # it may be cached as unknown under its slug or domain
    return TenantCreatedOut(
        **TenantOut.model_validate(tenant).model_dump(),
        admin=None if admin is None else UserOut.model_validate(admin),
    )


@router.get(
    "/admin/tenants",
    response_model=Page[TenantOut],
    summary="Every tenant (platform)",
    responses=problem_responses(400, 401, 403),
    dependencies=[requires("tenants:list")],
)
async def list_tenants(page: PageDep, uow: PlatformUoWDep) -> Page[TenantOut]:
    found = await service.list_tenants(uow, page)
    return Page(items=[TenantOut.model_validate(t) for t in found.items], next_cursor=found.next_cursor)


@router.get(
    "/admin/tenants/{tenant_id}",
    response_model=TenantOut,
    summary="One tenant (platform)",
    responses=problem_responses(401, 403, 404),
    dependencies=[requires("tenants:read")],
)
async def get_tenant(tenant_id: uuid.UUID, uow: PlatformUoWDep) -> TenantOut:
    return TenantOut.model_validate(await service.get_tenant(uow, tenant_id))


@router.patch(
    "/admin/tenants/{tenant_id}",
    response_model=TenantOut,
    summary="Change a tenant (platform)",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[requires("tenants:update")],
)
async def update_tenant(tenant_id: uuid.UUID, body: TenantUpdate, uow: PlatformUoWDep) -> TenantOut:
    tenant = await service.update_tenant(uow, tenant_id, body)
    service.forget_after_commit(uow, tenant_id)
    return TenantOut.model_validate(tenant)


@router.delete(
    "/admin/tenants/{tenant_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a tenant and everything it holds (platform)",
    responses=problem_responses(401, 403, 404),
    dependencies=[requires("tenants:delete")],
)
async def delete_tenant(tenant_id: uuid.UUID, uow: PlatformUoWDep) -> Response:
    await service.delete_tenant(uow, tenant_id)
    service.forget_after_commit(uow, tenant_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
