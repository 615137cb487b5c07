"""The outbox's permissions (``shared/spec/rbac.md``): managers see their tenant's events; admins retry
them; a super_admin sees every tenant's."""

from __future__ import annotations

from rustok.core.permissions import MATRIX, READ_LIST, Role

EVENTS = MATRIX.resource("events")

MATRIX.grant(Role.MANAGER, [EVENTS], READ_LIST)
