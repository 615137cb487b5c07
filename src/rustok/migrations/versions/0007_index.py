"""Index: the search read models (content and products per locale), rebuild checkpoints, and the
full-text search structures of each backend (SQLite FTS5 tables with triggers; PostgreSQL tsvector columns
filled by triggers, with GIN indexes).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 00:48:38.065365
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "index_content",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("tags_text", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_index_content_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_content")),
        sa.UniqueConstraint("node_id", "locale", name=op.f("uq_index_content_node_id_locale")),
    )
    with op.batch_alter_table("index_content", schema=None) as batch_op:
        batch_op.create_index(
            "ix_index_content_filter", ["tenant_id", "status", "kind", "locale"], unique=False
        )

    op.create_table(
        "index_products",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=False),
        sa.Column("subtitle", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("prices", sa.JSON(), nullable=False),
        sa.Column("in_stock", sa.Boolean(), nullable=False),
        sa.Column("variant_count", sa.Integer(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_index_products_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_products")),
        sa.UniqueConstraint("product_id", "locale", name=op.f("uq_index_products_product_id_locale")),
    )
    with op.batch_alter_table("index_products", schema=None) as batch_op:
        batch_op.create_index("ix_index_products_filter", ["tenant_id", "status", "locale"], unique=False)

    op.create_table(
        "index_rebuilds",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("after_id", sa.Uuid(), nullable=True),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_index_rebuilds_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_rebuilds")),
    )
    with op.batch_alter_table("index_rebuilds", schema=None) as batch_op:
        batch_op.create_index("ix_index_rebuilds_lookup", ["tenant_id", "target", "status"], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_fts()
    elif dialect == "postgresql":
        _postgresql_fts()


def downgrade() -> None:
    _drop_fts()
    with op.batch_alter_table("index_rebuilds", schema=None) as batch_op:
        batch_op.drop_index("ix_index_rebuilds_lookup")

    op.drop_table("index_rebuilds")
    with op.batch_alter_table("index_products", schema=None) as batch_op:
        batch_op.drop_index("ix_index_products_filter")

    op.drop_table("index_products")
    with op.batch_alter_table("index_content", schema=None) as batch_op:
        batch_op.drop_index("ix_index_content_filter")

    op.drop_table("index_content")


# ------------------------------------------------------------------------------- full-text search structures
# Not ORM columns or tables: made here per backend, and left out of the drift check
# (`rustok.migrations.include_object`).

# The PostgreSQL text-search configuration of a locale's language (its first subtag); others: 'simple'.
LANGUAGES = {
    "ar": "arabic", "ca": "catalan", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "nb": "norwegian", "ne": "nepali", "nl": "dutch", "nn": "norwegian", "no": "norwegian",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian", "sv": "swedish",
    "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip

# (table, FTS columns with their PostgreSQL weights)
DOCUMENTS = {
    "index_content": (("title", "A"), ("tags_text", "B"), ("excerpt", "B"), ("body_text", "C")),
    "index_products": (("title", "A"), ("subtitle", "B"), ("handle", "B"), ("description", "C")),
}


def _sqlite_fts() -> None:
    for table, columns in DOCUMENTS.items():
        names = [name for name, _ in columns]
        listed = ", ".join(names)
        new = ", ".join(f"new.{name}" for name in names)
        old = ", ".join(f"old.{name}" for name in names)
        op.execute(
            f"CREATE VIRTUAL TABLE {table}_fts USING fts5({listed}, content='{table}', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            f"CREATE TRIGGER {table}_fts_insert AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {table}_fts(rowid, {listed}) VALUES (new.id, {new}); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_fts_delete AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {table}_fts({table}_fts, rowid, {listed}) VALUES ('delete', old.id, {old}); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_fts_update AFTER UPDATE ON {table} BEGIN "
            f"INSERT INTO {table}_fts({table}_fts, rowid, {listed}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {table}_fts(rowid, {listed}) VALUES (new.id, {new}); END"
        )


def _postgresql_fts() -> None:
    cases = " ".join(f"WHEN '{code}' THEN '{name}'" for code, name in sorted(LANGUAGES.items()))
    op.execute(
        "CREATE FUNCTION rustok_ts_config(locale text) RETURNS regconfig LANGUAGE sql STABLE AS $$ "
        "SELECT coalesce((SELECT c.oid::regconfig FROM pg_ts_config c WHERE c.cfgname = "
        f"(CASE split_part(lower(locale), '-', 1) {cases} ELSE 'simple' END)), 'simple'::regconfig) $$"
    )
    for table, columns in DOCUMENTS.items():
        vector = " || ".join(
            f"setweight(to_tsvector(config, coalesce(NEW.{name}, '')), '{weight}')"
            for name, weight in columns
        )
        op.execute(f"ALTER TABLE {table} ADD COLUMN search_vector tsvector")
        op.execute(
            f"CREATE FUNCTION {table}_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"DECLARE config regconfig := rustok_ts_config(NEW.locale); "
            f"BEGIN NEW.search_vector := {vector}; RETURN NEW; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_search_vector BEFORE INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_search_vector()"
        )
        op.execute(f"CREATE INDEX ix_{table}_search ON {table} USING gin (search_vector)")


def _drop_fts() -> None:
    dialect = op.get_bind().dialect.name
    for table in DOCUMENTS:
        if dialect == "sqlite":
            for suffix in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_search_vector ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_search_vector()")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS rustok_ts_config(text)")
