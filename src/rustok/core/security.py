"""Who is calling and whether they may: the principal of a request, and the one dependency that checks a
route's declared permission.

Every route declares what it needs, next to its definition::

    @router.get("/nodes", dependencies=[public()])
    async def list_nodes(...): ...

    @router.post("/nodes")
    async def create_node(principal: Annotated[Principal, requires("nodes:create")], ...): ...

`requires` authenticates the request (through ``app.state.authenticator``, which the users module installs;
without one, any credentials are refused) in the request's own unit of work, looks the caller's role up in
the matrix of `rustok.core.permissions`, and answers 401 to an anonymous caller and 403 to an authenticated
one that lacks the permission. It returns the principal with the scope of the grant (``all`` or ``own``),
which the service applies. `public` authenticates (a token, when given, must be valid) and checks nothing. A
test walks every route of the app and fails on any that declares neither (`declared_permission`).

Identity and tenant come only from the verified token and the resolved tenant, never from a header, a query
parameter or a body field.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.routing import APIRoute

from rustok.core.errors import Forbidden, Unauthorized
from rustok.core.permissions import Permission, Role, Scope, scope_for
from rustok.core.request import RequestTenant, RequestUoW, request_tenant
from rustok.core.settings import Settings
from rustok.core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID | None = None
    tenant_id: uuid.UUID | None = None
    role: Role | None = None
    session_id: uuid.UUID | None = None
    scope: Scope | None = None  # of the permission the route checked

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None


ANONYMOUS = Principal()


class Authenticator(Protocol):
    """Who is calling (``app.state.authenticator``, which the users module installs): from the
    ``Authorization`` header, for the request's tenant, read in the request's own unit of work."""

    async def __call__(
        self, authorization: str | None, tenant: RequestTenant | None, uow: UnitOfWork, settings: Settings
    ) -> Principal: ...


async def current_principal(request: Request, uow: RequestUoW) -> Principal:
    """The request's principal (FastAPI runs this once per request): anonymous without credentials, 401
    for bad ones. The session behind a token is read in the request's unit of work: one transaction."""
    authorization = request.headers.get("authorization")
    authenticator: Authenticator | None = getattr(request.app.state, "authenticator", None)
    if authenticator is not None:
        return await authenticator(authorization, request_tenant(request), uow, request.app.state.settings)
    if authorization:
        raise Unauthorized("This server accepts no credentials.", code="invalid_token")
    return ANONYMOUS


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def _refuse(principal: Principal, permission: Permission) -> Exception:
    if not principal.authenticated:
        return Unauthorized("Authentication is required.", headers={"WWW-Authenticate": "Bearer"})
    return Forbidden(f"Your role may not {permission.action} {permission.resource}.")


def grant_of(principal: Principal, permission: Permission | str) -> Scope | None:
    """The scope in which the principal holds ``permission`` (None: it does not)."""
    if isinstance(permission, str):
        permission = Permission.parse(permission)
    return scope_for(principal.role, permission)


def ensure(principal: Principal, permission: Permission | str) -> Scope:
    """The scope of ``permission`` for the principal, or the 401 / 403 a route's check would answer. For
    services whose permission depends on the row (a comment or another node), after the route let the
    caller in on one of its alternatives."""
    if isinstance(permission, str):
        permission = Permission.parse(permission)
    scope = scope_for(principal.role, permission)
    if scope is None:
        raise _refuse(principal, permission)
    return scope


class DeclaredAccess:
    """What a route declares about who may call it, found by `declared_permission`: no ``permissions``
    means public; several mean any one of them lets the caller in (the service then checks the one that
    applies); ``authenticate`` False means the route does not look at credentials at all (health probes,
    metrics)."""

    authenticate = True

    def __init__(self, *permissions: Permission) -> None:
        self.permissions = permissions

    async def __call__(self, *args: Any, **kwargs: Any) -> Principal:
        raise NotImplementedError  # each kind of declaration is a dependency with its own parameters

    def __repr__(self) -> str:
        return f"{type(self).__name__}({' | '.join(map(str, self.permissions)) or 'public'})"


class PermissionCheck(DeclaredAccess):
    """The dependency of `requires` and `public`: authenticates the caller (in the request's unit of work)
    and checks the route's permissions."""

    async def __call__(self, principal: CurrentPrincipal) -> Principal:
        if not self.permissions:
            return principal
        scopes = {scope_for(principal.role, permission) for permission in self.permissions} - {None}
        if not scopes:
            raise _refuse(principal, self.permissions[0])
        return replace(principal, scope=Scope.ALL if Scope.ALL in scopes else Scope.OWN)


class NoCredentials(DeclaredAccess):
    """``public(authenticate=False)``: the route never looks at credentials (and opens no transaction)."""

    authenticate = False

    async def __call__(self) -> Principal:
        return ANONYMOUS


def requires(permission: str, *alternatives: str) -> Any:
    """Declare (and check) that a route needs ``permission`` (``"resource:action"``), or any one of
    ``alternatives`` (the route serves several resources, as the node routes serve comments)."""
    return Depends(PermissionCheck(*(Permission.parse(p) for p in (permission, *alternatives))))


def public(*, authenticate: bool = True) -> Any:
    """Declare that a route is open to anyone. Credentials, when sent, must still be valid, unless
    ``authenticate=False``: operations endpoints (health, metrics) ignore them."""
    return Depends(PermissionCheck() if authenticate else NoCredentials())


def declared_permission(route: APIRoute) -> DeclaredAccess | None:
    """The permission check a route declares, found among its dependencies (however deep)."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, DeclaredAccess):
            return dependant.call
        pending.extend(dependant.dependencies)
    return None
