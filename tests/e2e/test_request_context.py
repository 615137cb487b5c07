"""Every response carries ``X-Request-ID``: the client's own when it sent a plain one, a fresh UUID otherwise;
and the access log line of the request names the same id, so a client's report can be found in the logs."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI

from rustok.core.logging import configure_logging

HEADER = "X-Request-ID"


@pytest.fixture
def failing_route(app: FastAPI) -> None:
    @app.get("/_probe/bug")
    async def bug() -> None:
        raise RuntimeError("a bug: this escaped every handler")


@contextmanager
def production_logging(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Logging configured as outside development (one JSON object per line on stdout), the way
    `rustok serve` does it, for the body of the ``with`` only; the set-up found is put back afterwards,
    so other tests are unaffected. Entered in the test body, so the handler writes to the test's
    captured stdout; whatever was captured before is dropped."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_structlog = structlog.get_config()
    saved_uvicorn = {
        name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    }
    configure_logging("json", "INFO")
    capsys.readouterr()
    try:
        yield
    finally:
        structlog.configure(**saved_structlog)
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        for name, (handlers, propagate) in saved_uvicorn.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.propagate = propagate


def json_lines(output: str) -> list[dict[str, Any]]:
    """The log lines of `output` (every line must be a JSON object: that is what the format promises)."""
    lines: list[dict[str, Any]] = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert all(isinstance(line, dict) for line in lines)
    return lines


def access_lines(output: str) -> list[dict[str, Any]]:
    return [line for line in json_lines(output) if line.get("event") == "request"]


# ------------------------------------------------------------------------------------------------ the header


async def test_a_request_without_an_id_is_given_a_fresh_uuid(client: httpx.AsyncClient) -> None:
    first = await client.get("/health/live")
    second = await client.get("/health/live")

    ids = [first.headers[HEADER], second.headers[HEADER]]
    assert all(uuid.UUID(value) for value in ids)
    assert ids[0] != ids[1]


@pytest.mark.parametrize(
    "sent",
    [
        "req-42",
        "0190a9b6-6c2f-7a51-b2e4-6bd9a1b2c3d4",
        "lb.edge:7f3a_2024-01-01",
        "a" * 128,
    ],
)
async def test_a_plain_request_id_is_echoed(client: httpx.AsyncClient, sent: str) -> None:
    response = await client.get("/health/live", headers={HEADER: sent})

    assert response.headers[HEADER] == sent


@pytest.mark.parametrize(
    "sent",
    [
        "has spaces in it",
        "a" * 129,
        "x" * 200,
        "semi;colon",
        'quote"d',
        "<script>",
        "new\\nline",
        "",
    ],
)
async def test_an_unsafe_request_id_is_replaced_by_a_fresh_uuid(client: httpx.AsyncClient, sent: str) -> None:
    """Given an id that is too long or holds characters that could forge log lines or headers, then the
    app does not repeat it: the response carries an id of its own."""
    response = await client.get("/health/live", headers={HEADER: sent})

    echoed = response.headers[HEADER]
    assert echoed != sent
    assert uuid.UUID(echoed)


async def test_the_request_id_header_is_matched_whatever_its_case(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live", headers={"x-request-id": "lower-case-header"})

    assert response.headers[HEADER] == "lower-case-header"


async def test_a_404_carries_the_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/no/such/thing")
    echoed = await client.get("/no/such/thing", headers={HEADER: "trace-404"})

    assert generated.status_code == 404
    assert uuid.UUID(generated.headers[HEADER])
    assert echoed.status_code == 404
    assert echoed.headers[HEADER] == "trace-404"


@pytest.mark.usefixtures("failing_route")
async def test_a_500_carries_the_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/_probe/bug")
    echoed = await client.get("/_probe/bug", headers={HEADER: "trace-500"})

    assert generated.status_code == 500
    assert uuid.UUID(generated.headers[HEADER])
    assert echoed.status_code == 500
    assert echoed.headers[HEADER] == "trace-500"


# ------------------------------------------------------------------------------------------------- the logs


async def test_the_access_line_names_the_request_id_of_the_response(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given JSON logs, when a request is served, then exactly one access line (``"event": "request"``) is
    logged for it, with the id the client got back, the method, the path and the status."""
    with production_logging(capsys):
        response = await client.get("/health/live")
        output = capsys.readouterr().out

    [line] = access_lines(output)
    assert line["request_id"] == response.headers[HEADER]
    assert line["method"] == "GET"
    assert line["path"] == "/health/live"
    assert line["status"] == 200
    assert line["level"] == "info"
    assert line["logger"] == "rustok.http"
    assert isinstance(line["duration_ms"], int | float)
    assert "timestamp" in line


async def test_the_access_line_carries_the_id_the_client_sent(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    with production_logging(capsys):
        await client.post("/no/such/thing", headers={HEADER: "from-the-client"})
        output = capsys.readouterr().out

    [line] = access_lines(output)
    assert line["request_id"] == "from-the-client"
    assert line["method"] == "POST"
    assert line["path"] == "/no/such/thing"
    assert line["status"] == 404


@pytest.mark.usefixtures("failing_route")
async def test_a_bug_is_logged_with_its_traceback_under_the_request_id(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a route with a bug, then the log has the exception (with its traceback) and the access line
    with status 500, both under the id the client got back."""
    with production_logging(capsys):
        response = await client.get("/_probe/bug")
        output = capsys.readouterr().out

    lines = json_lines(output)
    request_id = response.headers[HEADER]
    [error] = [line for line in lines if line.get("event") == "unhandled_error"]
    [access] = [line for line in lines if line.get("event") == "request"]
    assert error["request_id"] == request_id
    assert error["level"] == "error"
    assert error["path"] == "/_probe/bug"
    assert "Traceback" in error["exception"]
    assert "RuntimeError: a bug" in error["exception"]
    assert access["request_id"] == request_id
    assert access["status"] == 500


async def test_log_lines_outside_a_request_name_no_request(capsys: pytest.CaptureFixture[str]) -> None:
    with production_logging(capsys):
        structlog.stdlib.get_logger("rustok.test").info("outside")
        output = capsys.readouterr().out

    [line] = json_lines(output)
    assert line["event"] == "outside"
    assert "request_id" not in line
