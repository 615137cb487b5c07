"""What the current request or job is about: its request id and tenant, kept in context variables.

The logging setup reads these, so every log line of a request names both.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("rustok_request_id", default=None)
tenant_id_var: ContextVar[uuid.UUID | None] = ContextVar("rustok_tenant_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


def current_tenant_id() -> uuid.UUID | None:
    return tenant_id_var.get()
