"""Content: nodes with translations and bodies, categories, tags and media (all tenant data).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 23:27:53.492853
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "content_categories",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["content_categories.id"],
            name=op.f("fk_content_categories_parent_id_content_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_content_categories_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_categories")),
    )
    with op.batch_alter_table("content_categories", schema=None) as batch_op:
        batch_op.create_index("ix_content_categories_parent", ["tenant_id", "parent_id"], unique=False)

    op.create_table(
        "content_tags",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_content_tags_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_tags")),
    )
    with op.batch_alter_table("content_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_content_tags_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "content_category_translations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["content_categories.id"],
            name=op.f("fk_content_category_translations_category_id_content_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_content_category_translations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_category_translations")),
        sa.UniqueConstraint(
            "category_id", "locale", name=op.f("uq_content_category_translations_category_id_locale")
        ),
        sa.UniqueConstraint(
            "tenant_id", "locale", "slug", name=op.f("uq_content_category_translations_tenant_id_locale_slug")
        ),
    )
    op.create_table(
        "content_nodes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'archived')", name=op.f("ck_content_nodes_status")
        ),
        sa.CheckConstraint("reply_count >= 0", name=op.f("ck_content_nodes_reply_count")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_content_nodes_author_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["content_categories.id"],
            name=op.f("fk_content_nodes_category_id_content_categories"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["content_nodes.id"],
            name=op.f("fk_content_nodes_parent_id_content_nodes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_content_nodes_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_nodes")),
    )
    with op.batch_alter_table("content_nodes", schema=None) as batch_op:
        batch_op.create_index("ix_content_nodes_author", ["tenant_id", "author_id"], unique=False)
        batch_op.create_index("ix_content_nodes_category", ["tenant_id", "category_id"], unique=False)
        batch_op.create_index("ix_content_nodes_listing", ["tenant_id", "kind", "status", "id"], unique=False)
        batch_op.create_index(
            "ix_content_nodes_thread", ["tenant_id", "parent_id", "position", "id"], unique=False
        )

    op.create_table(
        "content_tag_translations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("tag_id", sa.Uuid(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_id"],
            ["content_tags.id"],
            name=op.f("fk_content_tag_translations_tag_id_content_tags"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_content_tag_translations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_tag_translations")),
        sa.UniqueConstraint("tag_id", "locale", name=op.f("uq_content_tag_translations_tag_id_locale")),
        sa.UniqueConstraint(
            "tenant_id", "locale", "slug", name=op.f("uq_content_tag_translations_tenant_id_locale_slug")
        ),
    )
    op.create_table(
        "media",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_media_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_media_uploaded_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_media_storage_key")),
    )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "content_node_bodies",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "format IN ('markdown', 'html', 'plain')", name=op.f("ck_content_node_bodies_format")
        ),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["content_nodes.id"],
            name=op.f("fk_content_node_bodies_node_id_content_nodes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_content_node_bodies_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_node_bodies")),
        sa.UniqueConstraint("node_id", "locale", name=op.f("uq_content_node_bodies_node_id_locale")),
    )
    with op.batch_alter_table("content_node_bodies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_content_node_bodies_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "content_node_tags",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("tag_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["content_nodes.id"],
            name=op.f("fk_content_node_tags_node_id_content_nodes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"],
            ["content_tags.id"],
            name=op.f("fk_content_node_tags_tag_id_content_tags"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_content_node_tags_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_node_tags")),
        sa.UniqueConstraint("node_id", "tag_id", name=op.f("uq_content_node_tags_node_id_tag_id")),
    )
    with op.batch_alter_table("content_node_tags", schema=None) as batch_op:
        batch_op.create_index("ix_content_node_tags_tag", ["tenant_id", "tag_id"], unique=False)

    op.create_table(
        "content_node_translations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["content_nodes.id"],
            name=op.f("fk_content_node_translations_node_id_content_nodes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_content_node_translations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_node_translations")),
        sa.UniqueConstraint("node_id", "locale", name=op.f("uq_content_node_translations_node_id_locale")),
        sa.UniqueConstraint(
            "tenant_id",
            "kind",
            "locale",
            "slug",
            name=op.f("uq_content_node_translations_tenant_id_kind_locale_slug"),
        ),
    )
    op.create_table(
        "media_translations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("media_id", sa.Uuid(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("alt", sa.String(length=1000), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"], ["media.id"], name=op.f("fk_media_translations_media_id_media"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_media_translations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_translations")),
        sa.UniqueConstraint("media_id", "locale", name=op.f("uq_media_translations_media_id_locale")),
    )
    with op.batch_alter_table("media_translations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_translations_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("media_translations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_translations_tenant_id"))

    op.drop_table("media_translations")
    op.drop_table("content_node_translations")
    with op.batch_alter_table("content_node_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_content_node_tags_tag")

    op.drop_table("content_node_tags")
    with op.batch_alter_table("content_node_bodies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_node_bodies_tenant_id"))

    op.drop_table("content_node_bodies")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_tenant_id"))

    op.drop_table("media")
    op.drop_table("content_tag_translations")
    with op.batch_alter_table("content_nodes", schema=None) as batch_op:
        batch_op.drop_index("ix_content_nodes_thread")
        batch_op.drop_index("ix_content_nodes_listing")
        batch_op.drop_index("ix_content_nodes_category")
        batch_op.drop_index("ix_content_nodes_author")

    op.drop_table("content_nodes")
    op.drop_table("content_category_translations")
    with op.batch_alter_table("content_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_tags_tenant_id"))

    op.drop_table("content_tags")
    with op.batch_alter_table("content_categories", schema=None) as batch_op:
        batch_op.drop_index("ix_content_categories_parent")

    op.drop_table("content_categories")
