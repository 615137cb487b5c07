"""Every error the API answers is an RFC 9457 problem (``application/problem+json``) with a stable ``code``,
and bad input from a client is never answered with a 5xx.

The real app is built by the test kit; this module adds a few probe routes to it, so that each kind of
failure (a bad body, a bad query, a service's `ProblemError`, a bug) can be provoked on purpose.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

from rustok.core.deps import PageDep
from rustok.core.errors import PROBLEM_MEDIA_TYPE, Conflict, TooManyRequests, problem_type
from rustok.core.routing import make_router

pytestmark = pytest.mark.usefixtures("probe_routes")

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code"}


class ProbeBody(BaseModel):
    name: str = Field(min_length=1, max_length=20)
    quantity: int = Field(ge=1)


class ProbeNote(BaseModel):
    text: str


@pytest.fixture
def probe_routes(app: FastAPI) -> None:
    """Routes that fail in each of the ways the error handling must cover, added to the test's app."""

    @app.post("/_probe/echo")
    async def echo(body: ProbeBody) -> ProbeBody:
        return body

    @app.post("/_probe/note")
    async def note(body: ProbeNote) -> ProbeNote:
        return body

    # A module's router, included the way the app includes every module's.
    module_router = make_router(prefix="/_probe/module")

    @module_router.post("/note")
    async def module_note(body: ProbeNote) -> ProbeNote:
        return body

    app.include_router(module_router)

    @app.get("/_probe/page")
    async def page(page: PageDep) -> dict[str, Any]:
        return {"limit": page.limit, "cursor": page.cursor}

    @app.get("/_probe/since")
    async def since(since: int = Query(default=0, ge=0)) -> dict[str, Any]:
        return {"since": since}

    @app.get("/_probe/filtered-page")
    async def filtered_page(page: PageDep, status: str | None = None) -> dict[str, Any]:
        return {"limit": page.limit, "status": status}

    @app.post("/_probe/conflict")
    async def conflict() -> None:
        raise Conflict("A node with this slug already exists.", code="slug_conflict", slug="hello")

    @app.get("/_probe/throttled")
    async def throttled() -> None:
        raise TooManyRequests("Slow down.", headers={"Retry-After": "30"})

    @app.get("/_probe/bug")
    async def bug() -> None:
        raise RuntimeError("a bug: this escaped every handler")


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is a problem with this status and code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_MEMBERS
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == problem_type(code)
    assert isinstance(body["title"], str)
    assert body["title"]
    return body


def assert_field_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = body["errors"]
    assert errors
    for error in errors:
        assert set(error) == {"loc", "msg", "type"}
        assert isinstance(error["loc"], list)
        assert isinstance(error["msg"], str)
        assert isinstance(error["type"], str)
    return errors


# ------------------------------------------------------------------------------------------- request bodies


async def test_a_valid_body_passes_through_the_probe(client: httpx.AsyncClient) -> None:
    """Given the probe route, when it gets a valid body, then it answers 200 (so the failures below are
    caused by the input, not the probe)."""
    response = await client.post("/_probe/echo", json={"name": "widget", "quantity": 2})

    assert response.status_code == 200
    assert response.json() == {"name": "widget", "quantity": 2}


async def test_a_body_that_is_not_json_is_a_400_invalid_json(client: httpx.AsyncClient) -> None:
    """Given a body that does not parse as JSON, then the answer is 400 ``invalid_json`` with `errors`."""
    response = await client.post(
        "/_probe/echo",
        content=b'{"name": "widget", "quantity": ',
        headers={"content-type": "application/json"},
    )

    body = assert_problem(response, 400, "invalid_json")
    errors = assert_field_errors(body)
    assert any(error["type"] == "json_invalid" for error in errors)
    assert body["instance"] == "/_probe/echo"


async def test_a_body_that_is_not_utf8_is_a_400_invalid_json(client: httpx.AsyncClient) -> None:
    """Given bytes that cannot even be decoded as text, then the answer is the same 400 ``invalid_json``
    as for any other body that is not JSON."""
    response = await client.post(
        "/_probe/echo",
        content=b'{"name": "\xff", "quantity": 1}',
        headers={"content-type": "application/json"},
    )

    assert_problem(response, 400, "invalid_json")


async def test_a_body_nested_beyond_reason_is_a_400_problem_not_a_crash(client: httpx.AsyncClient) -> None:
    depth = 100_000
    response = await client.post(
        "/_probe/echo", content=b"[" * depth + b"]" * depth, headers={"content-type": "application/json"}
    )

    assert_problem(response, 400, "invalid_json")


async def test_a_plain_string_with_a_lone_surrogate_is_a_client_error(client: httpx.AsyncClient) -> None:
    """Given a JSON string that is not valid Unicode text (an unpaired surrogate escape), which no
    database could store nor any answer encode, then the body is refused as malformed: 400."""
    response = await client.post(
        "/_probe/note", content=b'{"text": "\\ud800"}', headers={"content-type": "application/json"}
    )

    assert_problem(response, 400, "invalid_json")


async def test_a_module_router_parses_bodies_as_strictly_as_the_app(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/_probe/module/note", content=b'{"text": "\\ud800"}', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "invalid_json")
    assert (await client.post("/_probe/module/note", json={"text": "fine"})).json() == {"text": "fine"}


async def test_a_constrained_string_with_a_lone_surrogate_is_refused_the_same_way(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/_probe/echo",
        content=b'{"name": "\\ud800", "quantity": 1}',
        headers={"content-type": "application/json"},
    )

    assert_problem(response, 400, "invalid_json")


async def test_a_body_that_fails_validation_is_a_422_naming_each_field(client: httpx.AsyncClient) -> None:
    """Given well-formed JSON whose values break the model's rules, then the answer is 422
    ``validation_error`` with one entry per failing field, each naming where it is."""
    response = await client.post("/_probe/echo", json={"name": "", "quantity": 0})

    body = assert_problem(response, 422, "validation_error")
    errors = assert_field_errors(body)
    assert sorted(tuple(error["loc"]) for error in errors) == [("body", "name"), ("body", "quantity")]
    assert {error["type"] for error in errors} == {"string_too_short", "greater_than_equal"}


async def test_a_missing_body_is_a_422_not_a_crash(client: httpx.AsyncClient) -> None:
    response = await client.post("/_probe/echo")

    body = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in assert_field_errors(body)] == [["body"]]


async def test_a_body_of_the_wrong_json_type_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/_probe/echo", json=["not", "an", "object"])

    body = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in assert_field_errors(body)] == [["body"]]


async def test_a_body_sent_as_a_form_is_a_422_not_a_crash(client: httpx.AsyncClient) -> None:
    response = await client.post("/_probe/echo", data={"name": "widget", "quantity": "2"})

    assert_problem(response, 422, "validation_error")


# ---------------------------------------------------------------------------------------- query parameters


@pytest.mark.parametrize(
    ("url", "loc"),
    [
        ("/_probe/page?limit=1000", ["query", "limit"]),
        ("/_probe/page?limit=0", ["query", "limit"]),
        ("/_probe/page?limit=many", ["query", "limit"]),
        ("/_probe/page?cursor=" + "x" * 513, ["query", "cursor"]),
        ("/_probe/since?since=-1", ["query", "since"]),
        ("/_probe/since?since=yesterday", ["query", "since"]),
    ],
)
async def test_a_query_parameter_that_fails_validation_is_a_422(
    client: httpx.AsyncClient, url: str, loc: list[str]
) -> None:
    """Given a query parameter out of range or of the wrong type, then the answer is 422 naming it."""
    response = await client.get(url)

    body = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in assert_field_errors(body)] == [loc]


async def test_valid_query_parameters_pass(client: httpx.AsyncClient) -> None:
    page = await client.get("/_probe/page?limit=100&cursor=abc")
    since = await client.get("/_probe/since?since=5")

    assert page.status_code == 200
    assert page.json() == {"limit": 100, "cursor": "abc"}
    assert since.status_code == 200
    assert since.json() == {"since": 5}


async def test_a_paginated_route_accepts_its_own_filters_too(client: httpx.AsyncClient) -> None:
    """Given a list route taking the shared page parameters and a filter of its own (like
    ``GET /api/admin/events?status=pending``), then a request using both is served."""
    response = await client.get("/_probe/filtered-page?limit=5&status=pending")

    assert response.status_code == 200, response.text
    assert response.json() == {"limit": 5, "status": "pending"}


# ------------------------------------------------------------------------------------------------- routing


async def test_an_unknown_path_is_a_404_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/thing")

    body = assert_problem(response, 404, "not_found")
    assert body["instance"] == "/no/such/thing"
    assert "/no/such/thing" in body["detail"]


async def test_an_unknown_path_is_a_404_whatever_the_method(client: httpx.AsyncClient) -> None:
    response = await client.delete("/no/such/thing")

    assert_problem(response, 404, "not_found")


async def test_a_wrong_method_is_a_405_with_an_allow_header(client: httpx.AsyncClient) -> None:
    """Given a path that exists for POST only, when it is sent a GET, then the answer is 405
    ``method_not_allowed`` and ``Allow`` lists the methods that would work."""
    response = await client.get("/_probe/echo")

    body = assert_problem(response, 405, "method_not_allowed")
    assert "GET" in body["detail"]
    allowed = {method.strip() for method in response.headers["allow"].split(",")}
    assert allowed == {"POST"}


async def test_a_wrong_method_on_a_framework_route_is_a_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/health/live")

    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


# -------------------------------------------------------------------------------------- the services' errors


async def test_a_problem_error_answers_its_status_code_and_extra_members(client: httpx.AsyncClient) -> None:
    """Given a service that raises `Conflict(code="slug_conflict", slug=...)`, then the answer is a 409 with
    that code, the service's detail, and the extra member."""
    response = await client.post("/_probe/conflict")

    body = assert_problem(response, 409, "slug_conflict")
    assert body["title"] == "Conflict"
    assert body["detail"] == "A node with this slug already exists."
    assert body["slug"] == "hello"
    assert body["instance"] == "/_probe/conflict"


async def test_a_problem_error_keeps_the_headers_it_was_given(client: httpx.AsyncClient) -> None:
    response = await client.get("/_probe/throttled")

    body = assert_problem(response, 429, "rate_limited")
    assert body["detail"] == "Slow down."
    assert response.headers["retry-after"] == "30"


# ---------------------------------------------------------------------------------------------------- bugs


async def test_an_unhandled_exception_is_a_500_problem_that_carries_the_request_id(
    client: httpx.AsyncClient,
) -> None:
    """Given a route with a bug, then the client gets a problem+json 500 ``internal_error`` (not a bare
    text page, not a dropped connection) with a request id to quote, and nothing of the exception."""
    response = await client.get("/_probe/bug")

    body = assert_problem(response, 500, "internal_error")
    assert response.headers["x-request-id"]
    assert body["instance"] == "/_probe/bug"
    assert "a bug" not in response.text
    assert "RuntimeError" not in response.text


async def test_the_app_keeps_serving_after_a_bug(client: httpx.AsyncClient) -> None:
    await client.get("/_probe/bug")

    response = await client.get("/health/live")

    assert response.status_code == 200


async def test_a_body_larger_than_the_limit_is_a_413_before_the_app_reads_it(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Given the app's request size limit, when a client declares a larger body, then the answer is a 413
    problem ``payload_too_large``."""
    limit = app.state.settings.max_request_bytes
    big = b'{"name": "' + b"x" * limit + b'", "quantity": 1}'

    response = await client.post("/_probe/note", content=big, headers={"content-type": "application/json"})

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["code"] == "payload_too_large"


async def test_a_chunked_body_larger_than_the_limit_is_a_413_too(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Given a body sent without Content-Length (chunked), when it runs past the limit, then it is refused
    the same way, and a chunked body within the limit still reaches the route whole."""
    limit = app.state.settings.max_request_bytes

    async def chunks(total: int) -> Any:
        yield b'{"text": "'
        sent = 0
        while sent < total:
            piece = min(64 * 1024, total - sent)
            yield b"y" * piece
            sent += piece
        yield b'"}'

    too_big = await client.post(
        "/_probe/note", content=chunks(limit + 1), headers={"content-type": "application/json"}
    )
    fits = await client.post(
        "/_probe/note", content=chunks(200_000), headers={"content-type": "application/json"}
    )

    assert too_big.status_code == 413
    assert too_big.json()["code"] == "payload_too_large"
    assert fits.status_code == 200
    assert len(fits.json()["text"]) == 200_000
