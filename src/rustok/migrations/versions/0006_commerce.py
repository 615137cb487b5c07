"""Commerce: products with translations and options, variants, prices, stock locations, inventory levels,
orders with their lines, and the per-tenant order counter (all tenant data).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 00:19:57.705621
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commerce_order_counters",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_order_counters_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_commerce_order_counters")),
    )
    op.create_table(
        "commerce_products",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'archived')", name=op.f("ck_commerce_products_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_products_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_products")),
    )
    with op.batch_alter_table("commerce_products", schema=None) as batch_op:
        batch_op.create_index("ix_commerce_products_listing", ["tenant_id", "status", "id"], unique=False)

    op.create_table(
        "commerce_stock_locations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_stock_locations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_stock_locations")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_commerce_stock_locations_tenant_id_name")),
    )
    op.create_table(
        "commerce_orders",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("shipping_address", sa.JSON(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'shipped', 'completed', 'cancelled')",
            name=op.f("ck_commerce_orders_status"),
        ),
        sa.CheckConstraint("subtotal >= 0 AND total >= 0", name=op.f("ck_commerce_orders_amounts")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["users.id"],
            name=op.f("fk_commerce_orders_customer_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_orders_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_orders")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_commerce_orders_tenant_id_number")),
    )
    with op.batch_alter_table("commerce_orders", schema=None) as batch_op:
        batch_op.create_index("ix_commerce_orders_customer", ["tenant_id", "customer_id", "id"], unique=False)
        batch_op.create_index("ix_commerce_orders_listing", ["tenant_id", "status", "id"], unique=False)

    op.create_table(
        "commerce_product_options",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_product_options_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_product_options_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_product_options")),
        sa.UniqueConstraint("product_id", "name", name=op.f("uq_commerce_product_options_product_id_name")),
    )
    with op.batch_alter_table("commerce_product_options", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_product_options_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_product_translations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=False),
        sa.Column("subtitle", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_product_translations_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_product_translations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_product_translations")),
        sa.UniqueConstraint(
            "product_id", "locale", name=op.f("uq_commerce_product_translations_product_id_locale")
        ),
        sa.UniqueConstraint(
            "tenant_id",
            "locale",
            "handle",
            name=op.f("uq_commerce_product_translations_tenant_id_locale_handle"),
        ),
    )
    op.create_table(
        "commerce_variants",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=True),
        sa.Column("weight_grams", sa.Integer(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("manage_inventory", sa.Boolean(), nullable=False),
        sa.Column("allow_backorder", sa.Boolean(), nullable=False),
        sa.Column("low_stock_threshold", sa.Integer(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "low_stock_threshold IS NULL OR low_stock_threshold >= 0",
            name=op.f("ck_commerce_variants_threshold"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_variants_product_id_commerce_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_variants_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_variants")),
        sa.UniqueConstraint("tenant_id", "sku", name=op.f("uq_commerce_variants_tenant_id_sku")),
    )
    with op.batch_alter_table("commerce_variants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commerce_variants_product", ["tenant_id", "product_id", "rank", "id"], unique=False
        )

    op.create_table(
        "commerce_inventory_levels",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_commerce_inventory_levels_reserved")),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["commerce_stock_locations.id"],
            name="fk_commerce_inventory_levels_location",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_inventory_levels_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["commerce_variants.id"],
            name=op.f("fk_commerce_inventory_levels_variant_id_commerce_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_inventory_levels")),
        sa.UniqueConstraint(
            "variant_id", "location_id", name=op.f("uq_commerce_inventory_levels_variant_id_location_id")
        ),
    )
    with op.batch_alter_table("commerce_inventory_levels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commerce_inventory_levels_location_id"), ["location_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commerce_inventory_levels_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "commerce_order_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_commerce_order_lines_quantity")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_commerce_order_lines_unit_price")),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["commerce_stock_locations.id"],
            name=op.f("fk_commerce_order_lines_location_id_commerce_stock_locations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["commerce_orders.id"],
            name=op.f("fk_commerce_order_lines_order_id_commerce_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["commerce_products.id"],
            name=op.f("fk_commerce_order_lines_product_id_commerce_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_order_lines_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["commerce_variants.id"],
            name=op.f("fk_commerce_order_lines_variant_id_commerce_variants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_order_lines")),
    )
    with op.batch_alter_table("commerce_order_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commerce_order_lines_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_commerce_order_lines_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "commerce_prices",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("compare_at_amount", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_commerce_prices_amount")),
        sa.CheckConstraint(
            "compare_at_amount IS NULL OR compare_at_amount >= 0",
            name=op.f("ck_commerce_prices_compare_at_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_commerce_prices_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["commerce_variants.id"],
            name=op.f("fk_commerce_prices_variant_id_commerce_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_prices")),
        sa.UniqueConstraint("variant_id", "currency", name=op.f("uq_commerce_prices_variant_id_currency")),
    )
    with op.batch_alter_table("commerce_prices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commerce_prices_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("commerce_prices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_prices_tenant_id"))

    op.drop_table("commerce_prices")
    with op.batch_alter_table("commerce_order_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_order_lines_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_commerce_order_lines_order_id"))

    op.drop_table("commerce_order_lines")
    with op.batch_alter_table("commerce_inventory_levels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_inventory_levels_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_commerce_inventory_levels_location_id"))

    op.drop_table("commerce_inventory_levels")
    with op.batch_alter_table("commerce_variants", schema=None) as batch_op:
        batch_op.drop_index("ix_commerce_variants_product")

    op.drop_table("commerce_variants")
    op.drop_table("commerce_product_translations")
    with op.batch_alter_table("commerce_product_options", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commerce_product_options_tenant_id"))

    op.drop_table("commerce_product_options")
    with op.batch_alter_table("commerce_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_commerce_orders_listing")
        batch_op.drop_index("ix_commerce_orders_customer")

    op.drop_table("commerce_orders")
    op.drop_table("commerce_stock_locations")
    with op.batch_alter_table("commerce_products", schema=None) as batch_op:
        batch_op.drop_index("ix_commerce_products_listing")

    op.drop_table("commerce_products")
    op.drop_table("commerce_order_counters")
