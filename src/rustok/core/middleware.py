"""The outermost piece of our request handling: request id, log context, access log, last-resort errors."""

from __future__ import annotations

import re
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rustok.core.context import request_id_var, tenant_id_var
from rustok.core.errors import PayloadTooLarge, problem_response
from rustok.core.events import event_origin
from rustok.core.ids import new_id
from rustok.core.logging import get_logger

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is echoed only when it is short and plain, so it cannot inject into logs or headers.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

log = get_logger("rustok.http")


class RequestContextMiddleware:
    """Gives every HTTP request an id (echoed from ``X-Request-ID`` when it sent a plain one), binds it and
    the tenant into the log context, logs one access line, and turns an escaped exception into a
    problem+json 500 that still carries the request id. Pure ASGI, so streaming is not buffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _incoming_request_id(scope) or str(new_id())
        rid_token = request_id_var.set(request_id)
        tenant_token = tenant_id_var.set(None)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            # A clean event origin per request: the actor the authenticator names ends with the request.
            with event_origin(actor_id=None, correlation_id=None, causation_id=None, trace_id=None):
                await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled_error", method=scope["method"], path=scope["path"])
            if response_started:
                raise
            response = problem_response(
                500,
                code="internal_error",
                detail="An unexpected error occurred; it has been logged with this request's id.",
                instance=scope["path"],
            )
            await response(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            tenant_id_var.reset(tenant_token)
            request_id_var.reset(rid_token)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1").strip()
            return text if _VALID_REQUEST_ID.match(text) else None
    return None


class BodyLimitMiddleware:
    """Refuses request bodies larger than ``limit`` bytes with a 413, before the app parses them: at once
    when ``Content-Length`` says so, and, for a body sent without one (chunked), by reading it ahead up to
    the limit. ``streamed`` names the routes (method, path) that read their body as a stream and count it
    themselves (uploads): they get ``streamed_limit`` on a declared length and are not read ahead."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        streamed: frozenset[tuple[str, str]] = frozenset(),
        streamed_limit: int = 0,
    ) -> None:
        self.app = app
        self.limit = limit
        self.streamed = streamed
        self.streamed_limit = streamed_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_streamed = (scope["method"], scope["path"].rstrip("/")) in self.streamed
        limit = self.streamed_limit if is_streamed else self.limit
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._too_large(scope, receive, send, limit)
            return
        if declared is not None or is_streamed or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        # No declared length: read ahead (at most `limit` bytes) and replay.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._too_large(scope, receive, send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        error = PayloadTooLarge(f"The request body is larger than the {limit} bytes this endpoint accepts.")
        response = problem_response(
            error.status, code=error.problem_code, detail=error.detail, instance=scope["path"]
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
