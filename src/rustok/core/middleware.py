"""The outermost piece of our request handling: request id, log context, access log, last-resort errors."""

from __future__ import annotations

import re
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rustok.core.context import request_id_var, tenant_id_var
from rustok.core.errors import problem_response
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
