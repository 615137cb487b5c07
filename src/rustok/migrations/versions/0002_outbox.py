"""Outbox: sys_events, sys_event_deliveries, sys_processed_events; on PostgreSQL the trigger that orders
a tenant's events by commit and notifies the relay (see rustok.outbox.writer).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Namespace 7201: the writers' per-tenant lock (the relay's is 7202). The position is drawn only once the
# lock is held, so within a tenant positions follow commit order; the default drawn before the trigger ran
# is discarded (a gap, which is harmless).
PG_STATEMENTS = (
    """CREATE FUNCTION rustok_sys_events_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7201, hashtext(NEW.tenant_id::text));
    NEW.position := nextval('sys_events_position_seq');
    RETURN NEW;
END
$$""",
    """CREATE FUNCTION rustok_sys_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rustok_events', '');
    RETURN NULL;
END
$$""",
    """CREATE TRIGGER sys_events_order BEFORE INSERT ON sys_events
    FOR EACH ROW EXECUTE FUNCTION rustok_sys_events_order()""",
    """CREATE TRIGGER sys_events_notify AFTER INSERT ON sys_events
    FOR EACH STATEMENT EXECUTE FUNCTION rustok_sys_events_notify()""",
)


def upgrade() -> None:
    op.create_table(
        "sys_events",
        sa.Column("position", Position, autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("causation_id", sa.Uuid(), nullable=True),
        sa.Column("trace_id", sa.String(length=64), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'dispatched', 'failed')", name=op.f("ck_sys_events_status")
        ),
        sa.CheckConstraint("schema_version >= 1", name=op.f("ck_sys_events_schema_version")),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_sys_events")),
        sa.UniqueConstraint("id", name=op.f("uq_sys_events_id")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sys_events_type_version", "sys_events", ["event_type", "schema_version"])
    op.create_index("ix_sys_events_tenant_position", "sys_events", ["tenant_id", "position"])
    op.create_index(
        "ix_sys_events_pending",
        "sys_events",
        ["position"],
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "sys_event_deliveries",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("position", Position, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed')", name=op.f("ck_sys_event_deliveries_status")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["sys_events.id"],
            name=op.f("fk_sys_event_deliveries_event_id_sys_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "consumer", name=op.f("pk_sys_event_deliveries")),
    )
    op.create_index(
        "ix_sys_event_deliveries_open",
        "sys_event_deliveries",
        ["tenant_id", "consumer", "position"],
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "sys_processed_events",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_sys_processed_events")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_STATEMENTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS sys_events_notify ON sys_events")
        op.execute("DROP TRIGGER IF EXISTS sys_events_order ON sys_events")
        op.execute("DROP FUNCTION IF EXISTS rustok_sys_events_notify()")
        op.execute("DROP FUNCTION IF EXISTS rustok_sys_events_order()")
    op.drop_table("sys_processed_events")
    op.drop_index("ix_sys_event_deliveries_open", table_name="sys_event_deliveries")
    op.drop_table("sys_event_deliveries")
    op.drop_index("ix_sys_events_pending", table_name="sys_events")
    op.drop_index("ix_sys_events_tenant_position", table_name="sys_events")
    op.drop_index("ix_sys_events_type_version", table_name="sys_events")
    op.drop_table("sys_events")
