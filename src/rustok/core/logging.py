"""Structured logging: structlog for our code, the standard library's loggers routed through the same chain.

Console output in development, one JSON object per line otherwise. Every line logged while a request is
being served carries its ``request_id`` and, once resolved, its ``tenant_id``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog
from structlog.typing import EventDict, Processor

from rustok.core.context import request_id_var, tenant_id_var


def add_request_context(_: Any, __: str, event: EventDict) -> EventDict:
    """Name the request and tenant the line was logged for (when there is one)."""
    request_id = request_id_var.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
        tenant_id = tenant_id_var.get()
        event.setdefault("tenant_id", str(tenant_id) if tenant_id is not None else None)
    return event


def _drop_color_message(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # uvicorn logs every message twice over, once with ANSI colours in `color_message`.
    event.pop("color_message", None)
    return event


def configure_logging(fmt: Literal["json", "console"], level: str = "INFO") -> None:
    """Set up structlog and the standard library's root logger; safe to call more than once."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        add_request_context,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_color_message,
    ]
    renderer: Processor
    if fmt == "json":
        shared.append(structlog.processors.format_exc_info)
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())

    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's own handlers would print a second, unstructured copy; our middleware logs each request.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").handlers.clear()
    logging.getLogger("uvicorn.access").propagate = False


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
