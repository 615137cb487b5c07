"""The route class every router of the app uses (``make_router``): request bodies parsed as strict JSON,
and query parameters the route does not declare refused.

Starlette's ``json.loads`` lets through text no database can store and no response can encode (a lone
UTF-16 surrogate such as ``"\\ud800"``), and answers bytes that are not UTF-8, or nesting deep enough to
exhaust the stack, with a generic error. Parsing with pydantic-core's parser instead turns every one of
those into the same 400 ``invalid_json`` as any other malformed body, before a handler sees it.

A query parameter that no part of the route declares (its own parameters, its dependencies', the fields of a
query model) is a 422 ``validation_error`` naming it, on every route: ``?q=hello`` on a list that has no ``q``
would otherwise answer everything, as if the filter had matched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any

import pydantic_core
from fastapi import APIRouter, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import AliasChoices, BaseModel
from starlette.routing import BaseRoute, Mount


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = pydantic_core.from_json(body, allow_inf_nan=False)
            except ValueError as exc:
                raise json.JSONDecodeError(str(exc), body.decode("utf-8", "replace"), 0) from exc
        return self._json


class StrictJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        known = declared_query_names(self.dependant)

        async def strict_handler(request: Request) -> Response:
            unknown = [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": "Unknown query parameter",
                    "input": request.query_params.get(name),
                }
                for name in dict.fromkeys(request.query_params.keys())
                if name not in known
            ]
            if unknown:
                raise RequestValidationError(unknown)
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler


def declared_query_names(dependant: Dependant) -> frozenset[str]:
    """Every query parameter name a route accepts: its own, its dependencies', and each field of a query
    model (``Annotated[Model, Query()]``), by the names a client sends (aliases included)."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        pending.extend(current.dependencies)
        for field in current.query_params:
            model = field.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                for name, info in model.model_fields.items():
                    names.update(_names(name, info.alias, info.validation_alias))
            else:
                names.update(_names(field.name, field.alias, field.field_info.validation_alias))
    return frozenset(names)


def _names(name: str, alias: str | None, validation_alias: object) -> set[str]:
    if isinstance(validation_alias, AliasChoices):
        return {choice for choice in validation_alias.choices if isinstance(choice, str)}
    if isinstance(validation_alias, str):
        return {validation_alias}
    return {alias or name}


def make_router(**options: Any) -> APIRouter:
    """An ``APIRouter`` whose routes parse bodies as strict JSON; every router of the app is made here."""
    return APIRouter(route_class=StrictJSONRoute, **options)


def walk_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every endpoint route under `routes`, including those of included routers and mounts.

    FastAPI keeps an included router's routes inside a wrapper that exposes ``original_router``; this
    looks through it, so checks over "every route of the app" really see every route.
    """
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from walk_routes(included.routes)
        elif isinstance(route, Mount):
            yield from walk_routes(route.routes)
