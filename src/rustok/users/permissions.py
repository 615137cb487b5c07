"""The users module's permissions (``shared/spec/rbac.md``): managers see the tenant's users; admins
manage them. Signing up, in and out is public (no permission of the matrix)."""

from __future__ import annotations

from rustok.core.permissions import MATRIX, READ_LIST, Role

USERS = MATRIX.resource("users")

MATRIX.grant(Role.MANAGER, [USERS], READ_LIST)
