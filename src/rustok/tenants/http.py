"""The tenants module's routes."""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel

from rustok.core.routing import make_router
from rustok.core.security import public
from rustok.tenants.cache import ResolvedTenant

router = make_router(prefix="/api", tags=["tenants"])


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
async def current_tenant(request: Request) -> CurrentTenant:
    tenant: ResolvedTenant = request.state.tenant
    return CurrentTenant(
        id=str(tenant.id),
        name=tenant.name,
        slug=tenant.slug,
        default_locale=tenant.default_locale,
        locales=list(tenant.locales),
    )
