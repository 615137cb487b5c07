"""Index: a rebuild driven by ``index.reindex_requested`` events keeps the id of the continuation request
it recorded last.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 02:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("index_rebuilds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("continuation_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("index_rebuilds", schema=None) as batch_op:
        batch_op.drop_column("continuation_id")
