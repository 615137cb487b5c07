"""The request's own unit of work and its tenant: the two things every other request dependency builds on.

This is the one module that reads ``request.state`` (where tenant resolution leaves the tenant); endpoints
and services receive what it found through `rustok.core.deps.ContextDep`, never the request's state (a
test enforces it).

A request has exactly one transaction. The unit of work opens when the first dependency asks for it — the
permission check, which authenticates the caller in it — and commits when the endpoint returns, before the
response is sent (``scope="function"``), so a client never sees success for a change that failed to commit.
It writes for unsafe methods (on SQLite it takes the write lock at BEGIN) and only reads for GET, HEAD and
OPTIONS. A route that streams a large request body to storage before it writes (`streams_body`) gets a
reading unit of work for the request, so that the upload does not hold the write lock, and does its write in
a transaction of its own afterwards (`RequestContext.separate_uow`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Request

from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork, UnitOfWorkFactory

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_STREAMS_BODY = "__rustok_streams_body__"
F = TypeVar("F", bound=Callable[..., Any])


class RequestTenant(Protocol):
    """What a request knows of its tenant (resolved and cached by the tenants module)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def name(self) -> str: ...

    @property
    def slug(self) -> str: ...

    @property
    def default_locale(self) -> str: ...

    @property
    def locales(self) -> tuple[str, ...]: ...  # the enabled ones, the default first

    @property
    def settings(self) -> Mapping[str, Any]: ...


def streams_body(endpoint: F) -> F:
    """Mark an endpoint that reads its (large) body as a stream before it writes: its request unit of work
    only reads, and its write goes into `RequestContext.separate_uow`."""
    setattr(endpoint, _STREAMS_BODY, True)
    return endpoint


def unit_of_work_factory(request: Request) -> UnitOfWorkFactory:
    """The app's units of work (`rustok.bootstrap.Runtime.uow`)."""
    factory: UnitOfWorkFactory = request.app.state.runtime.uow
    return factory


def request_tenant(request: Request) -> RequestTenant | None:
    """The tenant the request resolved to; None outside ``/api/*`` (health, metrics, docs)."""
    tenant: RequestTenant | None = getattr(request.state, "tenant", None)
    return tenant


def _writes(request: Request) -> bool:
    if request.method in SAFE_METHODS:
        return False
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    return not getattr(endpoint, _STREAMS_BODY, False)


async def request_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """The request's unit of work, in its tenant's scope (no scope outside ``/api/*``)."""
    tenant = request_tenant(request)
    scope = TenantScope.of(tenant.id) if tenant is not None else None
    async with unit_of_work_factory(request)(scope, write=_writes(request)) as uow:
        yield uow


# Always this alias (the same dependency and scope), so FastAPI gives every user the request's one instance.
RequestUoW = Annotated[UnitOfWork, Depends(request_uow, scope="function")]
