"""The index module's permission (``shared/spec/rbac.md``): anyone searches; what a search finds is the
caller's to see (published things, or drafts too for those who may edit them)."""

from __future__ import annotations

from rustok.core.permissions import EVERYONE, MATRIX, Action

SEARCH = MATRIX.resource("search")

MATRIX.grant(EVERYONE, [SEARCH], [Action.READ])
