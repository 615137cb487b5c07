"""Commerce, storefront reads: product descriptions rendered (``description_html``, existing rows
backfilled), product images (``commerce_product_images``), each product's cheapest price per currency
(``commerce_product_prices``, filled from the prices there are) for lists by price, and the index of
lookups by handle.

The backfill renders with the renderer as it is at this revision (markdown-it-py's CommonMark with tables
and strikethrough, sanitized by nh3 with the same allow-list as `rustok.content.render`), spelled out here
so that the revision never changes with the application's code.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 22:00:00.000000
"""

from collections.abc import Sequence

import nh3
import sqlalchemy as sa
from alembic import op
from markdown_it import MarkdownIt

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def _render(markdown: str) -> str:
    html = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(markdown)
    return nh3.clean(html, url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")


def _backfill() -> None:
    """Render every description there is, in batches by id (across tenants: this is the platform's work)."""
    translations = sa.table(
        "commerce_product_translations",
        sa.column("id", sa.Uuid()),
        sa.column("description", sa.Text()),
        sa.column("description_html", sa.Text()),
    )
    bind = op.get_bind()
    after = None
    while True:
        query = (
            sa.select(translations.c.id, translations.c.description)
            .where(translations.c.description.is_not(None))
            .order_by(translations.c.id)
            .limit(BATCH)
        )
        if after is not None:
            query = query.where(translations.c.id > after)
        rows = bind.execute(query).all()
        if not rows:
            return
        bind.execute(
            translations.update()
            .where(translations.c.id == sa.bindparam("row_id"))
            .values(description_html=sa.bindparam("html")),
            [{"row_id": row.id, "html": _render(row.description)} for row in rows],
        )
        after = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("commerce_product_translations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description_html", sa.Text(), nullable=True))
        batch_op.create_index(
            "ix_commerce_product_translations_handle", ["tenant_id", "handle"], unique=False
        )
    _backfill()

    op.create_table(
        "commerce_product_prices",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_commerce_product_prices_amount")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_product_prices_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_product_prices_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "currency", name=op.f("pk_commerce_product_prices")),
    )
    with op.batch_alter_table("commerce_product_prices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commerce_product_prices_listing",
            ["tenant_id", "currency", "amount", "product_id"],
            unique=False,
        )
    # Every product's cheapest price per currency, from the prices there are.
    op.execute(
        "INSERT INTO commerce_product_prices (tenant_id, product_id, currency, amount) "
        "SELECT v.tenant_id, v.product_id, p.currency, MIN(p.amount) "
        "FROM commerce_variants v JOIN commerce_prices p ON p.variant_id = v.id "
        "GROUP BY v.tenant_id, v.product_id, p.currency"
    )

    op.create_table(
        "commerce_product_images",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("media_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("alt", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_commerce_product_images_media_id_media"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_product_images_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_product_images_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_product_images")),
        sa.UniqueConstraint(
            "product_id", "media_id", name=op.f("uq_commerce_product_images_product_id_media_id")
        ),
        sa.UniqueConstraint(
            "product_id", "position", name=op.f("uq_commerce_product_images_product_id_position")
        ),
    )
    with op.batch_alter_table("commerce_product_images", schema=None) as batch_op:
        batch_op.create_index("ix_commerce_product_images_media", ["media_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_commerce_product_images_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("commerce_product_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_product_images_tenant_id"))
        batch_op.drop_index("ix_commerce_product_images_media")
    op.drop_table("commerce_product_images")

    with op.batch_alter_table("commerce_product_prices", schema=None) as batch_op:
        batch_op.drop_index("ix_commerce_product_prices_listing")
    op.drop_table("commerce_product_prices")

    with op.batch_alter_table("commerce_product_translations", schema=None) as batch_op:
        batch_op.drop_index("ix_commerce_product_translations_handle")
        batch_op.drop_column("description_html")
