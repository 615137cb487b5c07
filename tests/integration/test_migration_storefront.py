"""Revision 0011 (storefront reads): it renders the descriptions products already have, and it goes down
and up again cleanly, on both backends."""

from __future__ import annotations

import uuid

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from rustok.bootstrap import open_runtime
from rustok.commerce.catalog.products import service as products
from rustok.commerce.catalog.schemas import ProductCreate, VariantCreate
from rustok.commerce.catalog.variants import service as variants
from rustok.content.models import BodyFormat
from rustok.content.render import render
from rustok.core.deps import RequestContext
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.migrations import alembic_config, schema_drift, upgrade_async
from rustok.tenants.cache import ResolvedTenant
from rustok.tenants.schemas import TenantCreate
from rustok.tenants.service import create_tenant

MARKDOWN = "A **bold** claim.\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | ~~2~~ |"


async def _downgrade(engine: AsyncEngine, revision: str) -> None:
    def run(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def _columns(engine: AsyncEngine, table: str) -> set[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: {column["name"] for column in inspect(sync).get_columns(table)}
        )


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_the_upgrade_renders_existing_descriptions_and_the_downgrade_undoes_it(
    isolated_settings: Settings,
) -> None:
    """Given a product translation with a markdown description written before revision 0011 (and one with
    none, whose product has two variants priced in EUR and USD), when the database is upgraded, then
    ``description_html`` holds the description rendered and sanitized exactly as the application renders
    it (and stays null where there is none), and each product's cheapest price per currency is listed;
    downgrading takes the columns and tables away, and upgrading again brings them back with no drift."""
    async with open_runtime(isolated_settings, redis=False) as runtime:
        engine = runtime.engine
        async with runtime.uow(TenantScope.all_tenants()) as uow:
            tenant = await create_tenant(uow, TenantCreate(name="Acme", slug="acme"))
        async with runtime.uow(TenantScope.of(tenant.id)) as uow:
            info = ResolvedTenant(
                id=tenant.id,
                name="Acme",
                slug="acme",
                domain=None,
                default_locale="en",
                is_active=True,
                locales=("en",),
            )
            ctx = RequestContext.system(uow, info, isolated_settings)
            for title in ("Described", "Plain"):
                created = await products.create_product(
                    ctx, ProductCreate.model_validate({"translations": [{"locale": "en", "title": title}]})
                )
            for sku, amount in (("A", 700), ("B", 400)):
                prices = [{"currency": "EUR", "amount": amount}, {"currency": "USD", "amount": amount + 1}]
                await variants.create_variant(
                    ctx, created.product.id, VariantCreate.model_validate({"sku": sku, "prices": prices})
                )
        plain_id = created.product.id

        await _downgrade(engine, "0010")
        assert "description_html" not in await _columns(engine, "commerce_product_translations")
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE commerce_product_translations SET description = :markdown WHERE title = :title"),
                {"markdown": MARKDOWN, "title": "Described"},
            )

        await upgrade_async(engine)

        async with engine.connect() as connection:
            rows: dict[str, str | None] = dict(
                (
                    await connection.execute(
                        text("SELECT title, description_html FROM commerce_product_translations")
                    )
                ).all()
            )
        assert rows == {"Described": render(MARKDOWN, BodyFormat.MARKDOWN), "Plain": None}
        described = rows["Described"] or ""
        assert "<strong>bold</strong>" in described
        assert "<script" not in described
        async with engine.connect() as connection:
            listed = (
                await connection.execute(
                    text("SELECT product_id, currency, amount FROM commerce_product_prices ORDER BY currency")
                )
            ).all()
        # SQLite hands the raw text of a uuid back, PostgreSQL a uuid.
        assert [(uuid.UUID(str(p)), c, a) for p, c, a in listed] == [
            (plain_id, "EUR", 400),
            (plain_id, "USD", 401),
        ]

        await _downgrade(engine, "0010")
        assert "commerce_product_images" not in await _tables(engine)
        await upgrade_async(engine)
        assert "commerce_product_images" in await _tables(engine)
        assert await schema_drift(engine) == []
