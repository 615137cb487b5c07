"""The OpenAPI document (``/openapi.json``), completed from what every route already declares, so that
Swagger UI's "Try it out", a generated client and a fuzzer can call each operation as it really answers.

FastAPI writes the paths, parameters, bodies and success responses. `complete_document` adds, for every
operation and never by hand per route:

- the tenant header ``X-Tenant-ID`` (optional: the host or ``RUSTOK_DEFAULT_TENANT`` may resolve the
  tenant instead) on every tenant-resolved path (`rustok.tenants.resolution.is_resolved_path`);
- the bearer security scheme, and each operation's ``security`` from its declared access
  (`rustok.core.security.declared_permission`): required where no anonymous caller gets in (a permission
  no anonymous caller holds, or a signed-in-only route), optional (``[{}, {"bearer": []}]``) on the others,
  none where the route never reads credentials (health, metrics, the index);
- the problem answers every operation can give whatever its handler does: 401 where credentials are read
  (a bad token is a 401 even on a public route), 403 and 404 from tenant resolution (``tenant_disabled``,
  ``tenant_not_found``), 403 where a permission is checked, 404 for a path id, 400 for a JSON body that is
  not JSON and a cursor the API did not issue, 413 for a body over the limit, 422 for validation (unknown
  query parameters included). A route's own ``responses=problem_responses(...)`` adds its domain answers
  (409 and the like); each problem answer is ``application/problem+json`` with the `Problem` schema, and
  its description names the codes it carries;
- the ``X-Request-ID`` header on every answer (`rustok.core.middleware.RequestContextMiddleware`).
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from rustok.core.errors import PROBLEM_MEDIA_TYPE, Problem
from rustok.core.permissions import scope_for
from rustok.core.routing import walk_routes
from rustok.core.security import DeclaredAccess, declared_permission
from rustok.tenants.resolution import is_resolved_path
from rustok.users.auth import Authenticated

TENANT_HEADER = "X-Tenant-ID"
TENANT_PARAMETER = "TenantHeader"
REQUEST_ID_HEADER = "RequestId"
BEARER = "bearer"
PROBLEM_REF = "#/components/schemas/Problem"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# The dependency of `rustok.users.auth.Authenticated`: routes about the caller's own account, public in the
# matrix but refusing anonymous callers with a 401.
_SIGNED_IN = typing.get_args(Authenticated)[1].dependency

DESCRIPTION = f"""\
The HTTP API of RusToK, a multi-tenant headless CMS and commerce platform.

**Tenant.** Every `/api/*` operation works on one tenant, named by the `{TENANT_HEADER}` header (its id or
its slug). Without the header the request's host, then the server's default tenant
(`RUSTOK_DEFAULT_TENANT`), decide; no match is a 404 `tenant_not_found`, a disabled tenant a 403
`tenant_disabled`.

**Authentication.** `POST /api/auth/login` (or `/api/auth/register`) answers an `access_token`; send it as
`Authorization: Bearer <token>` (the Authorize button). A token belongs to one tenant: sent with another, it
is a 401. Operations marked with a lock need it; the others serve anonymous callers too and serve more to a
caller whose role allows it.

**Errors** are `application/problem+json` (RFC 9457) with a stable `code` to switch on; a validation error
(422) lists what failed in `errors`. Lists take `?limit=&cursor=` and answer `{{items, next_cursor}}`.
"""

TAGS = [
    {"name": "users", "description": "Sign-up, sign-in, sessions, and the staff's management of users."},
    {"name": "tenants", "description": "The current tenant, its locales, and the platform's tenants."},
    {"name": "content", "description": "Nodes (pages, posts, comments...), categories and tags."},
    {"name": "media", "description": "Uploaded files and images."},
    {"name": "commerce", "description": "Products, their variants, prices and inventory."},
    {"name": "orders", "description": "Orders: placing, reading, moving through their states."},
    {"name": "search", "description": "Full-text search over content and products."},
    {"name": "events", "description": "The event outbox, for operators."},
    {"name": "ops", "description": "The index, health probes and metrics; not tenant-resolved."},
]


@dataclass(frozen=True, slots=True)
class Access:
    """What an operation's route declares about its callers, as the document states it."""

    reads_credentials: bool  # a token, when sent, is checked (so a bad one is a 401)
    checks_permission: bool  # a permission of the matrix is checked (403 for a role without it)
    signed_in_only: bool  # anonymous callers are refused

    @property
    def security(self) -> list[dict[str, list[str]]] | None:
        if not self.reads_credentials:
            return None
        if self.signed_in_only:
            return [{BEARER: []}]
        return [{}, {BEARER: []}]


def install(app: FastAPI) -> None:
    """Serve the completed document as the app's ``/openapi.json`` (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=DESCRIPTION,
                routes=app.routes,
                tags=TAGS,
                separate_input_output_schemas=app.separate_input_output_schemas,
            )
            app.openapi_schema = complete_document(document, routes_access(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document


def routes_access(app: FastAPI) -> dict[tuple[str, str], Access]:
    """The declared access of every operation of the app, by (path, lower-case method)."""
    found: dict[tuple[str, str], Access] = {}
    for route in walk_routes(app.routes):
        access = access_of(route)
        for method in route.methods or ():
            found[(route.path_format, method.lower())] = access
    return found


def access_of(route: APIRoute) -> Access:
    declared = declared_permission(route)
    if declared is None:  # every route declares one (a test checks it); none would read no credentials
        return Access(reads_credentials=False, checks_permission=False, signed_in_only=False)
    return Access(
        reads_credentials=declared.authenticate,
        checks_permission=bool(declared.permissions),
        signed_in_only=_refuses_anonymous(declared) or _depends_on_sign_in(route.dependant),
    )


def _refuses_anonymous(declared: DeclaredAccess) -> bool:
    """A permission route no anonymous caller gets into (the matrix grants none of its permissions to
    anonymous callers)."""
    return bool(declared.permissions) and all(scope_for(None, p) is None for p in declared.permissions)


def _depends_on_sign_in(dependant: Dependant) -> bool:
    pending = list(dependant.dependencies)
    while pending:
        current = pending.pop()
        if current.call is _SIGNED_IN:
            return True
        pending.extend(current.dependencies)
    return False


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every operation of the document: (path, method, operation)."""
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def complete_document(document: dict[str, Any], access: dict[tuple[str, str], Access]) -> dict[str, Any]:
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The `access_token` of `POST /api/auth/login`, `/api/auth/register` or "
        "`/api/auth/refresh`; it is valid for the tenant it was issued by.",
    }
    components.setdefault("parameters", {})[TENANT_PARAMETER] = {
        "name": TENANT_HEADER,
        "in": "header",
        "required": False,
        "description": "The tenant: its id or its slug. It may be left out when the request's host or the "
        "server's default tenant (`RUSTOK_DEFAULT_TENANT`) names it.",
        "schema": {"type": "string", "examples": ["acme", "0190f6a8-7c1e-7d2a-9b3c-4d5e6f708192"]},
    }
    components.setdefault("headers", {})[REQUEST_ID_HEADER] = {
        "description": "The request's id: the one the request sent in `X-Request-ID` when it is plain "
        "(letters, digits and `._:-`, at most 128 characters), else a new UUIDv7. The server's log lines "
        "for the request carry it.",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 128},
    }
    _ensure_problem_schema(components.setdefault("schemas", {}))
    for path, method, operation in operations(document):
        route_access = access.get((path, method))
        if route_access is None:
            raise LookupError(f"no route for the operation {method.upper()} {path}")
        _complete_operation(path, operation, route_access)
    _drop_unreferenced(components["schemas"], document, ("HTTPValidationError", "ValidationError"))
    return document


def _complete_operation(path: str, operation: dict[str, Any], access: Access) -> None:
    tenant_resolved = is_resolved_path(path)
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    if tenant_resolved:
        parameters.insert(0, {"$ref": f"#/components/parameters/{TENANT_PARAMETER}"})
    if not parameters:
        del operation["parameters"]
    security = access.security
    if security is not None:
        operation["security"] = security

    names = {(p.get("in"), p.get("name")) for p in parameters}
    body = operation.get("requestBody")
    json_body = body is not None and "application/json" in body.get("content", {})
    reasons: dict[int, list[str]] = {}

    def add(status: int, reason: str) -> None:
        reasons.setdefault(status, []).append(reason)

    if json_body:
        add(400, "`invalid_json`: the body is not JSON (or not UTF-8, or nested too deep)")
    if ("query", "cursor") in names:
        add(400, "`invalid_cursor`: a cursor this list did not issue")
    if access.reads_credentials:
        add(401, "`invalid_token`: the bearer token is not valid (for this tenant)")
        if access.signed_in_only:
            add(401, "`unauthorized`: this operation needs a signed-in caller")
    if tenant_resolved:
        add(403, "`tenant_disabled`: the tenant is disabled")
    if access.checks_permission:
        add(403, "`forbidden`: the caller's role does not allow this")
    if tenant_resolved:
        add(404, "`tenant_not_found`: no tenant matches the header, the host or the default tenant")
    if any(where == "path" for where, _ in names):
        add(404, "`not_found`: nothing with this id, or nothing the caller may see")
    if body is not None:
        add(413, "`payload_too_large`: the body is over the server's limit")
    add(422, "`validation_error`: a parameter or the body is not valid, or a query parameter is unknown")

    responses: dict[str, Any] = operation.setdefault("responses", {})
    for code, listed in reasons.items():
        entry = responses.setdefault(str(code), {})
        entry["description"] = _described(code, listed, entry)
    for key, response in responses.items():
        response.setdefault("headers", {})["X-Request-ID"] = {
            "$ref": f"#/components/headers/{REQUEST_ID_HEADER}"
        }
        if key.isdigit() and int(key) >= 400:
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
            response.setdefault("description", _phrase(int(key)))
    operation["responses"] = dict(sorted(responses.items()))


def _described(status: int, reasons: list[str], response: dict[str, Any]) -> str:
    """The description of a problem answer: its phrase, what the route said of it, and the generic
    codes."""
    phrase = _phrase(status)
    own = response.get("description")
    lead = phrase if own in (None, "", phrase, "Validation Error") else own
    return "\n\n".join([lead, "\n".join(f"- {reason}" for reason in reasons)])


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _ensure_problem_schema(schemas: dict[str, Any]) -> None:
    if "Problem" in schemas:
        return
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas["Problem"] = schema


def _drop_unreferenced(schemas: dict[str, Any], document: dict[str, Any], names: tuple[str, ...]) -> None:
    """Remove FastAPI's own validation-error schemas once nothing refers to them (the problem schema
    replaced them)."""
    for name in names:
        if name not in schemas:
            continue
        kept = {key: value for key, value in schemas.items() if key != name}
        rest = {**document, "components": {**document["components"], "schemas": kept}}
        if f'"#/components/schemas/{name}"' not in json.dumps(rest):
            del schemas[name]
