"""Which tenant a request is for, resolved before anything else touches tenant data.

For every ``/api/*`` request, in this order (``shared/spec/api.md``):

1. the ``X-Tenant-ID`` header: a tenant id or slug. Given, it is the answer: no match is a 404;
2. otherwise the host (``X-Forwarded-Host`` only when ``RUSTOK_TRUST_PROXY_HEADERS`` is on): in subdomain
   mode (``RUSTOK_TENANT_SUBDOMAIN_BASE=example.com``) the first label of ``acme.example.com`` as a slug,
   otherwise the whole host as a tenant's ``domain``;
3. otherwise the default tenant (``RUSTOK_DEFAULT_TENANT``, a slug).

A public media URL names its tenant in its path instead (`tenant_named_in_path`: ``/media/{tenant}/...``, a
slug or an id, for ``<img src>``, which sends no header): that path segment is the answer, and headers and
host play no part. No match: 404 ``tenant_not_found``. A disabled tenant: 403 ``tenant_disabled``. The
resolved tenant goes into ``request.state.tenant`` (which `rustok.core.request` reads: the request's unit
of work is in its scope), and its id into the log context. ``/health/*``, ``/metrics`` and the docs are not
resolved. Lookups go through the `TenantCache`.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from rustok.core.context import tenant_id_var
from rustok.core.errors import problem_response
from rustok.core.ids import parse_id
from rustok.core.settings import Settings
from rustok.tenants.cache import ResolvedTenant, TenantCache, TenantKey

TENANT_HEADER = b"x-tenant-id"
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
HOST = re.compile(r"^[a-z0-9.-]{1,253}$")


# Paths outside /api/* that carry their tenant as their first segment after the prefix.
TENANT_IN_PATH_PREFIXES = ("/media/",)


def is_resolved_path(path: str) -> bool:
    """Whether a path's tenant is resolved from the request (header, host, default tenant): ``/api/*``.
    Paths that name their tenant themselves are `tenant_named_in_path`'s."""
    return path == "/api" or path.startswith("/api/")


def tenant_named_in_path(path: str) -> str | None:
    """The tenant a path names itself (``/media/acme/...`` names ``acme``), or None for a path that does
    not: such URLs work from a plain ``<img src>``, with no header and on any host."""
    for prefix in TENANT_IN_PATH_PREFIXES:
        if path.startswith(prefix):
            named, slash, _ = path[len(prefix) :].partition("/")
            return named if slash and named else None
    return None


class TenantResolutionMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        named = tenant_named_in_path(scope["path"]) if scope["type"] == "http" else None
        if scope["type"] != "http" or (named is None and not is_resolved_path(scope["path"])):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        settings: Settings = state.settings
        cache: TenantCache = state.runtime.tenant_cache
        if named is not None:
            key = _header_key(named)
            tenant = None if key is None else await cache.get(key)
        else:
            tenant = await resolve(cache, settings, dict(scope.get("headers", ())))
        if tenant is None:
            response = problem_response(
                404,
                code="tenant_not_found",
                detail="No tenant matches this request (X-Tenant-ID, host or default tenant).",
                instance=scope["path"],
            )
            await response(scope, receive, send)
            return
        if not tenant.is_active:
            response = problem_response(
                403, code="tenant_disabled", detail="This tenant is disabled.", instance=scope["path"]
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["tenant"] = tenant
        token = tenant_id_var.set(tenant.id)
        try:
            await self.app(scope, receive, send)
        finally:
            tenant_id_var.reset(token)


async def resolve(
    cache: TenantCache, settings: Settings, headers: dict[bytes, bytes]
) -> ResolvedTenant | None:
    """The tenant of a request with these headers (lower-case names), or None."""
    given = headers.get(TENANT_HEADER)
    if given is not None:
        key = _header_key(given.decode("latin-1").strip())
        return None if key is None else await cache.get(key)
    host_key = _host_key(headers, settings)
    if host_key is not None:
        tenant = await cache.get(host_key)
        if tenant is not None:
            return tenant
    if settings.default_tenant:
        return await cache.get(("slug", settings.default_tenant.lower()))
    return None


def _header_key(value: str) -> TenantKey | None:
    tenant_id = parse_id(value)
    if tenant_id is not None:
        return ("id", str(tenant_id))
    slug = value.lower()
    return ("slug", slug) if SLUG.match(slug) else None


def _host_key(headers: dict[bytes, bytes], settings: Settings) -> TenantKey | None:
    raw = headers.get(b"x-forwarded-host") if settings.trust_proxy_headers else None
    raw = raw or headers.get(b"host")
    if not raw:
        return None
    host = raw.decode("latin-1").split(",")[0].strip().lower()
    host = host.rsplit(":", 1)[0] if not host.startswith("[") else host  # drop a port; leave IPv6 alone
    host = host.rstrip(".")
    if not HOST.match(host):
        return None
    base = settings.tenant_subdomain_base
    if base:
        base = base.lower().strip(".")
        if host.endswith("." + base):
            label = host[: -len(base) - 1]
            return ("slug", label) if SLUG.match(label) else None
    return ("domain", host)
