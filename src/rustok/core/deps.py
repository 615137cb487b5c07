"""Dependencies every endpoint shares, as ``Annotated`` aliases: ``ContextDep`` (the typed request context),
``UoWDep``, ``PlatformUoWDep``, ``SettingsDep``, ``PageDep``. They live in the kernel so that every module's
router can use them (modules may not import `rustok.api`).

An endpoint is parse → one service call → shape::

    @content.get("/nodes/{node_id}")
    async def get_node(node_id: uuid.UUID, ctx: ContextDep, _: Annotated[Principal, requires(...)]):
        return _node_out(await service.get_node(ctx, node_id))

The context is built once per request, from the request's one unit of work (in which the caller was
authenticated too), and is what services take; GraphQL resolvers and the admin build the same object.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request

from rustok.core.errors import Forbidden, NotFound, ProblemError
from rustok.core.pagination import PageParams
from rustok.core.permissions import Permission, Role, Scope
from rustok.core.request import RequestTenant, RequestUoW, request_tenant, unit_of_work_factory
from rustok.core.security import CurrentPrincipal, Principal, ensure, grant_of
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope, TenantScopeError
from rustok.core.uow import UnitOfWork, UnitOfWorkFactory


class Row(Enum):
    ANY = "any"  # `RequestContext.authorize` without a row: no owner to compare


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who asks, for which tenant, in which transaction: what a service needs of the request.

    ``principal`` is the caller (anonymous, or a user of ``tenant`` with a role); ``uow`` the request's
    unit of work, in the tenant's scope. ``grant``/``authorize`` answer for the caller's role (a rule that
    depends on the row is checked by the service after the fetch, with ``authorize``)."""

    tenant: RequestTenant
    principal: Principal
    uow: UnitOfWork
    settings: Settings
    uows: UnitOfWorkFactory | None = None  # for `separate_uow`; None outside a request

    @classmethod
    def system(
        cls, uow: UnitOfWork, tenant: RequestTenant, settings: Settings, *, role: Role = Role.ADMIN
    ) -> RequestContext:
        """A context for work that is no request (a command, a consumer, a seed, a bench), to call the
        services with: the tenant's ``role`` (by default its admin), acting as no user, in ``uow``, which
        must be in the tenant's scope."""
        if uow.scope is None or uow.scope.tenant_id != tenant.id:
            raise TenantScopeError(f"a context for tenant {tenant.id} needs a unit of work in its scope")
        return cls(tenant, Principal(tenant_id=tenant.id, role=role), uow, settings)

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.tenant.id

    @property
    def default_locale(self) -> str:
        return self.tenant.default_locale

    @property
    def locales(self) -> tuple[str, ...]:
        """The tenant's enabled locales, the default first."""
        return self.tenant.locales

    @property
    def tenant_settings(self) -> Mapping[str, Any]:
        return self.tenant.settings

    def locale(self, requested: str | None) -> str:
        """The locale to serve: the one asked for, else the tenant's default."""
        return requested or self.tenant.default_locale

    def grant(self, permission: Permission | str) -> Scope | None:
        """The scope in which the caller holds ``permission`` (None: not at all)."""
        return grant_of(self.principal, permission)

    def authorize(
        self,
        permission: Permission | str,
        *,
        owner_id: uuid.UUID | Literal[Row.ANY] | None = Row.ANY,
        hidden: ProblemError | None = None,
    ) -> Scope:
        """Check ``permission`` for the caller (401 anonymous, 403 otherwise) and return its scope. Given
        the owner of the row at hand (None: nobody's), an ``own`` grant lets the caller in on their own rows
        only: another's row is ``hidden`` (the service's 404 for it; rbac.md: under ``own``, another's row
        does not exist). Without a row (a list), the caller applies the scope."""
        scope = ensure(self.principal, permission)
        if scope is Scope.OWN and owner_id is not Row.ANY and owner_id != self.principal.user_id:
            raise hidden if hidden is not None else NotFound("Not found.")
        return scope

    def separate_uow(self) -> UnitOfWork:
        """A writing unit of work of its own in the tenant's scope, for a route that streams its body
        before it writes (`rustok.core.request.streams_body`); nothing else uses one."""
        if self.uows is None:
            raise TenantScopeError("a separate unit of work is for requests only")
        return self.uows(TenantScope.of(self.tenant.id))


# Dependencies are coroutines: FastAPI runs a plain function in a worker thread, costlier than its work.
async def get_app_settings(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_context(
    request: Request, uow: RequestUoW, principal: CurrentPrincipal, settings: SettingsDep
) -> RequestContext:
    tenant = request_tenant(request)
    if tenant is None:  # only /api/* routes are resolved, and only they take a context
        raise TenantScopeError("a request context outside /api/*: no tenant was resolved")
    return RequestContext(tenant, principal, uow, settings, unit_of_work_factory(request))


async def get_platform_uow(uow: RequestUoW, principal: CurrentPrincipal) -> UnitOfWork:
    """The request's unit of work, widened to every tenant, for platform endpoints: only a caller who holds
    a platform permission (``tenants:*``) gets it, after the route's own check."""
    if grant_of(principal, "tenants:read") is None:
        raise Forbidden("Only platform operators manage tenants.")
    uow.widen_to_platform()
    return uow


ContextDep = Annotated[RequestContext, Depends(get_context)]
UoWDep = RequestUoW
PlatformUoWDep = Annotated[UnitOfWork, Depends(get_platform_uow)]
PageDep = Annotated[PageParams, Query()]
