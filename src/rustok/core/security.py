"""Who is calling and whether they may: the principal of a request, and the one dependency that checks a
route's declared permission.

Every route declares what it needs, next to its definition::

    @router.get("/nodes", dependencies=[public()])
    async def list_nodes(...): ...

    @router.post("/nodes")
    async def create_node(principal: Annotated[Principal, requires("nodes:create")], ...): ...

`requires` authenticates the request (through ``app.state.authenticator``, which the users module installs;
without one, any credentials are refused), looks the caller's role up in the matrix of
`rustok.core.permissions`, and answers 401 to an anonymous caller and 403 to an authenticated one that lacks
the permission. It returns the principal with the scope of the grant (``all`` or ``own``), which the service
applies. `public` authenticates (a token, when given, must be valid) and checks nothing. A test walks every
route of the app and fails on any that declares neither (`declared_permission`).

Identity and tenant come only from the verified token and the resolved tenant, never from a header, a query
parameter or a body field.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute

from rustok.core.errors import Forbidden, Unauthorized
from rustok.core.permissions import Permission, Role, Scope, scope_for


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
Authenticator = Callable[[Request], Awaitable[Principal]]


async def authenticate(request: Request) -> Principal:
    """The request's principal (once per request): anonymous without credentials, 401 for bad ones."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    authenticator: Authenticator | None = getattr(request.app.state, "authenticator", None)
    if authenticator is not None:
        principal = await authenticator(request)
    elif request.headers.get("authorization"):
        raise Unauthorized("This server accepts no credentials.", code="invalid_token")
    else:
        principal = ANONYMOUS
    request.state.principal = principal
    return principal


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


class PermissionCheck:
    """The dependency a route declares: no ``permissions`` means public; several mean any one of them lets
    the caller in (the service then checks the one that applies); ``authenticate`` False means the route
    does not look at credentials at all (health probes, metrics)."""

    def __init__(self, *permissions: Permission, authenticate: bool = True) -> None:
        self.permissions = permissions
        self.authenticate = authenticate

    def __repr__(self) -> str:
        return f"PermissionCheck({' | '.join(map(str, self.permissions)) or 'public'})"

    async def __call__(self, request: Request) -> Principal:
        if not self.authenticate:
            return ANONYMOUS
        principal = await authenticate(request)
        if not self.permissions:
            return principal
        scopes = {scope_for(principal.role, permission) for permission in self.permissions} - {None}
        if not scopes:
            raise _refuse(principal, self.permissions[0])
        return replace(principal, scope=Scope.ALL if Scope.ALL in scopes else Scope.OWN)


def requires(permission: str, *alternatives: str) -> Any:
    """Declare (and check) that a route needs ``permission`` (``"resource:action"``), or any one of
    ``alternatives`` (the route serves several resources, as the node routes serve comments)."""
    return Depends(PermissionCheck(*(Permission.parse(p) for p in (permission, *alternatives))))


def public(*, authenticate: bool = True) -> Any:
    """Declare that a route is open to anyone. Credentials, when sent, must still be valid, unless
    ``authenticate=False``: operations endpoints (health, metrics) ignore them."""
    return Depends(PermissionCheck(authenticate=authenticate))


def declared_permission(route: APIRoute) -> PermissionCheck | None:
    """The permission check a route declares, found among its dependencies (however deep)."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, PermissionCheck):
            return dependant.call
        pending.extend(dependant.dependencies)
    return None
