"""Errors as RFC 9457 problem details (``application/problem+json``), each with a stable ``code``.

Services raise a `ProblemError` (or one of its subclasses); the handlers installed by
`install_error_handlers` turn it, and every framework error (validation, unknown path, wrong method),
into the same shape. Anything else that escapes is a bug: the request middleware logs it and answers
a problem+json 500 with code ``internal_error``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

PROBLEM_MEDIA_TYPE = "application/problem+json"

# The code a bare HTTP status gets when nothing more specific was said.
DEFAULT_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


def problem_type(code: str) -> str:
    """The problem ``type`` URI for a code: stable, and the same for every instance of that code."""
    return f"urn:rustok:problem:{code}"


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """The body of every error answer (RFC 9457), as it appears in the OpenAPI document."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:rustok:problem:not_found"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["No node with this id."])
    code: str = Field(examples=["not_found"])
    instance: str | None = Field(default=None, examples=["/api/content/nodes/0190..."])
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """An error the API answers as a problem. Subclasses fix the status; their default code is the
    status's entry in `DEFAULT_CODES` unless they name another."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = DEFAULT_CODES[500]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = DEFAULT_CODES[cls.status]

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or code or self.code)
        self.detail = detail
        self.problem_code = code or self.code
        self.title = title or HTTPStatus(self.status).phrase
        self.headers = dict(headers or {})
        self.extra = extra


class BadRequest(ProblemError):
    status = 400


class Unauthorized(ProblemError):
    status = 401


class Forbidden(ProblemError):
    status = 403


class NotFound(ProblemError):
    status = 404


class Conflict(ProblemError):
    status = 409


class PayloadTooLarge(ProblemError):
    status = 413


class Unprocessable(ProblemError):
    status = 422


class TooManyRequests(ProblemError):
    status = 429


class ServiceUnavailable(ProblemError):
    status = 503


def problem_response(
    status: int,
    *,
    code: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    resolved_code = code or DEFAULT_CODES.get(status) or f"http_{status}"
    body: dict[str, Any] = {
        "type": problem_type(resolved_code),
        "title": title or _phrase(status),
        "status": status,
        "detail": detail,
        "code": resolved_code,
    }
    if instance is not None:
        body["instance"] = instance
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return JSONResponse(body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_MEDIA_TYPE)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's error list reduced to what a client needs and JSON can carry."""
    return [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            "msg": e.get("msg", ""),
            "type": e.get("type", "value_error"),
        }
        for e in errors
    ]


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        code=exc.problem_code,
        title=exc.title,
        detail=exc.detail,
        instance=request.url.path,
        headers=exc.headers,
        extra=exc.extra,
    )


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = field_errors(exc.errors())
    invalid_json = [e for e in exc.errors() if e.get("type") == "json_invalid"]
    if invalid_json:
        # A body that is not JSON at all is a malformed request, not a value that failed a rule.
        reason = (invalid_json[0].get("ctx") or {}).get("error")
        return problem_response(
            400,
            code="invalid_json",
            detail=f"The request body is not valid JSON: {reason}"
            if reason
            else "The request body is not valid JSON.",
            instance=request.url.path,
            extra={"errors": errors},
        )
    return problem_response(
        422,
        code="validation_error",
        detail="The request did not pass validation; see `errors`.",
        instance=request.url.path,
        extra={"errors": errors},
    )


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != _phrase(status) else None
    if status == 404 and detail is None:
        detail = f"Nothing at {request.method} {request.url.path}."
    if status == 405 and detail is None:
        detail = f"{request.method} is not allowed on {request.url.path}."
    return problem_response(status, detail=detail, instance=request.url.path, headers=dict(exc.headers or {}))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting problem answers for the given statuses."""
    return {
        status: {"model": Problem, "description": _phrase(status), "content": {PROBLEM_MEDIA_TYPE: {}}}
        for status in statuses
    }
