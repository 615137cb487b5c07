"""The OpenAPI document (``/openapi.json``) states what every operation needs and answers, derived from
the routes' own declarations (`rustok.api.openapi`): the tenant header on every tenant-resolved operation,
the bearer scheme with each operation's security, and the problem answers each can give. The walk over
every route checks each rule on each operation; the calls after it use the document as Swagger UI's "Try
it out" does, with nothing but what it states. Whether the answers match the document over generated
cases is tests/e2e/test_openapi_conformance.py."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from rustok.api.openapi import BEARER, TENANT_HEADER, TENANT_PARAMETER, access_of, operations
from rustok.content.schemas import NodeCreate, NodeOut
from rustok.core.errors import PROBLEM_MEDIA_TYPE
from rustok.core.permissions import scope_for
from rustok.core.routing import walk_routes
from rustok.core.security import declared_permission
from rustok.core.uow import UnitOfWorkFactory
from rustok.index.schemas import SearchPageOut
from rustok.testing import login_as, new_tenant
from rustok.users.schemas import AuthOut, LoginIn, RefreshIn, RegisterIn, UserOut

TENANT_REF = {"$ref": f"#/components/parameters/{TENANT_PARAMETER}"}
PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method]
    return found


# ------------------------------------------------------------------------------------- every operation


def test_every_route_of_the_app_is_an_operation_of_the_document(
    app: FastAPI, document: dict[str, Any]
) -> None:
    expected = {
        (route.path_format, method.lower())
        for route in walk_routes(app.routes)
        if route.include_in_schema
        for method in route.methods or ()
    }
    assert {(path, method) for path, method, _ in operations(document)} == expected
    assert len(expected) > 70


def test_every_tenant_resolved_operation_takes_the_optional_tenant_header(document: dict[str, Any]) -> None:
    parameter = document["components"]["parameters"][TENANT_PARAMETER]
    assert parameter["name"] == TENANT_HEADER
    assert parameter["in"] == "header"
    assert parameter["required"] is False  # the host or the default tenant may resolve it instead
    for path, method, operation in operations(document):
        has_header = TENANT_REF in operation.get("parameters", [])
        assert has_header == path.startswith("/api/"), f"{method.upper()} {path}"


def test_the_bearer_scheme_is_declared(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"][BEARER] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"][BEARER]["description"],
    }


def test_each_operation_states_the_security_its_route_declares(
    app: FastAPI, document: dict[str, Any]
) -> None:
    checked = {"required": 0, "optional": 0, "none": 0}
    for route in walk_routes(app.routes):
        if not route.include_in_schema:
            continue
        declared = declared_permission(route)
        assert declared is not None
        for method in route.methods or ():
            security = _operation(document, method.lower(), route.path_format).get("security")
            if not declared.authenticate:
                assert security is None, route.path
                checked["none"] += 1
            elif access_of(route).signed_in_only:
                assert security == [{BEARER: []}], route.path
                checked["required"] += 1
            else:
                assert security == [{}, {BEARER: []}], route.path
                checked["optional"] += 1
            # Optional security only where anonymous callers really get past the route's check.
            if declared.permissions and security == [{}, {BEARER: []}]:
                assert any(scope_for(None, p) is not None for p in declared.permissions), route.path
    assert min(checked.values()) > 0, checked


@pytest.mark.parametrize(
    ("method", "path", "security"),
    [
        ("get", "/api/auth/me", [{BEARER: []}]),  # public in the matrix, signed-in only
        ("post", "/api/auth/login", [{}, {BEARER: []}]),
        ("get", "/api/content/nodes", [{}, {BEARER: []}]),  # anonymous callers list published nodes
        ("post", "/api/content/nodes", [{BEARER: []}]),
        ("get", "/api/admin/tenants", [{BEARER: []}]),
        ("get", "/api/search", [{}, {BEARER: []}]),
        ("get", "/health/live", None),
        ("get", "/", None),
    ],
)
def test_security_of_known_operations(
    document: dict[str, Any], method: str, path: str, security: list[dict[str, list[str]]] | None
) -> None:
    assert _operation(document, method, path).get("security") == security


def test_every_error_answer_is_a_problem_and_each_generic_one_is_documented(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        name = f"{method.upper()} {path}"
        responses = operation["responses"]
        for status, response in responses.items():
            assert response["headers"]["X-Request-ID"] == {"$ref": "#/components/headers/RequestId"}, name
            if int(status) >= 400:
                assert response["content"] == PROBLEM_CONTENT, name
                assert response["description"], name
        parameters = operation.get("parameters", [])
        where = {p.get("in") for p in parameters}
        assert "422" in responses, name  # validation, unknown query parameters included
        if path.startswith("/api/"):
            assert "tenant_not_found" in responses["404"]["description"], name
            assert "tenant_disabled" in responses["403"]["description"], name
        if "path" in where:
            assert "404" in responses, name
        if operation.get("security") is not None:
            assert "invalid_token" in responses["401"]["description"], name  # a bad token, even when public
        if "requestBody" in operation:
            assert "413" in responses, name
            if "application/json" in operation["requestBody"]["content"]:
                assert "invalid_json" in responses["400"]["description"], name
        if any(p.get("name") == "cursor" for p in parameters):
            assert "invalid_cursor" in responses["400"]["description"], name
        assert not any(int(s) >= 500 and s != "503" for s in responses), name  # a 5xx is a bug


def test_route_specific_problems_stay_documented(document: dict[str, Any]) -> None:
    assert "409" in _operation(document, "post", "/api/content/nodes/{node_id}/publish")["responses"]
    assert "409" in _operation(document, "post", "/api/commerce/orders")["responses"]
    assert "503" in _operation(document, "get", "/health/ready")["responses"]


def test_the_validation_error_schemas_of_fastapi_are_replaced_by_the_problem(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    assert "Problem" in schemas
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas


def test_every_operation_has_a_summary(document: dict[str, Any]) -> None:
    missing = [f"{m.upper()} {p}" for p, m, op in operations(document) if not op.get("summary")]
    assert missing == []


def test_the_document_explains_the_tenant_and_the_token(document: dict[str, Any]) -> None:
    description = document["info"]["description"]
    assert TENANT_HEADER in description
    assert "Bearer" in description
    assert {tag["name"] for tag in document["tags"]} >= {
        tag for _, _, op in operations(document) for tag in op.get("tags", [])
    }


# ----------------------------------------------------------------------- calling it as the document says


def _tenant_header_name(document: dict[str, Any]) -> str:
    name: str = document["components"]["parameters"][TENANT_PARAMETER]["name"]
    return name


async def test_try_it_out_with_the_tenant_header_and_the_bearer_token(
    client: httpx.AsyncClient, app: FastAPI, make_uow: UnitOfWorkFactory, document: dict[str, Any]
) -> None:
    # given a tenant and its admin, and only the document's names for the header and the scheme
    slug = f"docs-{uuid.uuid4().hex[:8]}"
    tenant_id = await new_tenant(make_uow, slug)
    header = _tenant_header_name(document)
    scheme = document["components"]["securitySchemes"][BEARER]
    assert scheme["scheme"] == "bearer"
    signed_in = await login_as(client, app, tenant_id, "admin")
    token = signed_in["Authorization"].removeprefix("Bearer ")

    # when a public operation is called with the tenant header alone (by slug), it answers
    tenant = await client.get("/api/tenant", headers={header: slug})
    assert tenant.status_code == 200, tenant.text
    assert tenant.json()["slug"] == slug

    # and an operation that requires the scheme answers with the token, and 401 without it
    me = await client.get(
        "/api/auth/me", headers={header: str(tenant_id), "Authorization": f"Bearer {token}"}
    )
    assert me.status_code == 200, me.text
    anonymous = await client.get("/api/auth/me", headers={header: slug})
    assert anonymous.status_code == 401
    assert "401" in _operation(document, "get", "/api/auth/me")["responses"]

    # and without the header (no host or default tenant names one) it is the documented 404
    missing = await client.get("/api/tenant")
    assert missing.status_code == 404
    assert missing.json()["code"] == "tenant_not_found"


async def test_a_bad_token_on_a_public_operation_is_the_documented_401(
    client: httpx.AsyncClient, make_uow: UnitOfWorkFactory, document: dict[str, Any]
) -> None:
    slug = f"docs-{uuid.uuid4().hex[:8]}"
    await new_tenant(make_uow, slug)
    response = await client.get(
        "/api/content/nodes",
        headers={_tenant_header_name(document): slug, "Authorization": "Bearer nonsense"},
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert (
        response.json()["code"]
        in _operation(document, "get", "/api/content/nodes")["responses"]["401"]["description"]
    )


def _resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return found


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/auth/register"),
        ("post", "/api/auth/login"),
        ("post", "/api/auth/refresh"),
        ("post", "/api/content/nodes"),
        ("get", "/api/content/nodes/{node_id}"),
        ("get", "/api/search"),
        ("get", "/"),
    ],
)
def test_the_main_operations_are_described_with_examples(
    document: dict[str, Any], method: str, path: str
) -> None:
    operation = _operation(document, method, path)
    assert operation.get("description") or path == "/", "a description (the route's docstring)"
    if "requestBody" in operation:
        body = _resolved(document, operation["requestBody"]["content"]["application/json"]["schema"])
        assert body.get("examples"), f"an example request body for {method.upper()} {path}"
    success = next(r for s, r in operation["responses"].items() if s.startswith("2"))
    answer = _resolved(document, success["content"]["application/json"]["schema"])
    assert answer.get("examples"), f"an example answer for {method.upper()} {path}"


def test_the_examples_are_valid_instances_of_their_schemas() -> None:
    """Every example a model gives is one that model accepts (Swagger UI sends it as it is)."""
    for model in (RegisterIn, LoginIn, RefreshIn, AuthOut, UserOut, NodeCreate, NodeOut, SearchPageOut):
        examples = model.model_json_schema()["examples"]
        assert examples, model
        for example in examples:
            model.model_validate(example)
