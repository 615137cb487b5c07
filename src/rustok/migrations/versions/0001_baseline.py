"""Baseline: the root of the one linear history. Each module's tables arrive in revisions after it.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to create: the baseline only marks a database as managed by these migrations."""


def downgrade() -> None:
    """Nothing to drop."""
