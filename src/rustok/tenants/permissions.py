"""The tenants module's permissions (``shared/spec/rbac.md``): the platform's tenants, which only a
super_admin manages, and a tenant's own settings (and locales), which its admins manage."""

from __future__ import annotations

from rustok.core.permissions import MATRIX

TENANTS = MATRIX.resource("tenants", platform=True)
SETTINGS = MATRIX.resource("settings")
