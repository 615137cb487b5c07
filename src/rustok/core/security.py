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


class PermissionCheck:
    """The dependency a route declares: ``permission`` None means public; ``authenticate`` False means the
    route does not look at credentials at all (health probes, metrics)."""

    def __init__(self, permission: Permission | None, *, authenticate: bool = True) -> None:
        self.permission = permission
        self.authenticate = authenticate

    def __repr__(self) -> str:
        return f"PermissionCheck({str(self.permission) if self.permission else 'public'})"

    async def __call__(self, request: Request) -> Principal:
        if not self.authenticate:
            return ANONYMOUS
        principal = await authenticate(request)
        if self.permission is None:
            return principal
        scope = scope_for(principal.role, self.permission)
        if scope is None:
            if not principal.authenticated:
                raise Unauthorized("Authentication is required.", headers={"WWW-Authenticate": "Bearer"})
            raise Forbidden(f"Your role may not {self.permission.action} {self.permission.resource}.")
        return replace(principal, scope=scope)


def requires(permission: str) -> Any:
    """Declare (and check) that a route needs ``permission`` (``"resource:action"``)."""
    return Depends(PermissionCheck(Permission.parse(permission)))


def public(*, authenticate: bool = True) -> Any:
    """Declare that a route is open to anyone. Credentials, when sent, must still be valid, unless
    ``authenticate=False``: operations endpoints (health, metrics) ignore them."""
    return Depends(PermissionCheck(None, authenticate=authenticate))


def declared_permission(route: APIRoute) -> PermissionCheck | None:
    """The permission check a route declares, found among its dependencies (however deep)."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, PermissionCheck):
            return dependant.call
        pending.extend(dependant.dependencies)
    return None
