"""Dependencies every endpoint shares, as ``Annotated`` aliases: ``SettingsDep``, ``UoWDep``,
``SessionDep``, ``PageDep``, ``PlatformUoWDep``. They live in the kernel so that every module's router can
use them (modules may not import `rustok.api`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.core.pagination import PageParams
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_app_settings(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """The request's unit of work. It commits when the endpoint returns and before the response is sent
    (``scope="function"``), so a client never sees success for a change that failed to commit."""
    scope = getattr(request.state, "tenant_scope", None)
    assert scope is None or isinstance(scope, TenantScope)
    uow = request.app.state.runtime.uow(scope, write=request.method not in SAFE_METHODS)
    assert isinstance(uow, UnitOfWork)
    async with uow:
        yield uow


def get_session(uow: Annotated[UnitOfWork, Depends(get_uow, scope="function")]) -> AsyncSession:
    return uow.session


async def get_platform_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """A unit of work in the platform scope (every tenant), for platform endpoints. Only routes that require
    a platform permission (``tenants:*``) may use it: the scope reads across tenants."""
    uow = request.app.state.runtime.uow(TenantScope.all_tenants(), write=request.method not in SAFE_METHODS)
    assert isinstance(uow, UnitOfWork)
    async with uow:
        yield uow


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
PlatformUoWDep = Annotated[UnitOfWork, Depends(get_platform_uow, scope="function")]
UoWDep = Annotated[UnitOfWork, Depends(get_uow, scope="function")]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
PageDep = Annotated[PageParams, Query()]
