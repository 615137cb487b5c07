"""The catalog routes (``/api/commerce/products``, ``/api/commerce/variants``): products, their variants and
prices (part of the product: ``products:*``), and the variants' stock (``inventory:*``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Path, Query, Response

from rustok.commerce.catalog.products import service as products
from rustok.commerce.catalog.schemas import (
    MAX_AMOUNT,
    Currency,
    InventoryAdjust,
    InventoryOut,
    InventorySet,
    OptionOut,
    PriceOut,
    PricesPut,
    ProductCreate,
    ProductImageOut,
    ProductOut,
    ProductSort,
    ProductTranslationOut,
    ProductUpdate,
    ProductVariantOut,
    VariantCreate,
    VariantOut,
    VariantUpdate,
)
from rustok.commerce.catalog.variants import service as variants
from rustok.commerce.inventory import Stock
from rustok.commerce.models import Price, ProductStatus, Variant
from rustok.core.deps import ContextDep, PageDep
from rustok.core.errors import problem_responses
from rustok.core.event_fields import Locale
from rustok.core.pagination import Page
from rustok.core.routing import make_router
from rustok.core.security import Principal, requires

router = make_router(prefix="/api/commerce", tags=["commerce"])

LocaleQuery = Annotated[Locale | None, Query(description="Serve this locale (else the tenant's default).")]
CurrencyQuery = Annotated[
    Currency | None,
    Query(
        description="Serve only the prices in this currency (422 `currency_not_sold` when none of the "
        "shop's prices is in it)."
    ),
]
PriceQuery = Annotated[
    int | None, Query(ge=0, le=MAX_AMOUNT, description="In minor units; needs `currency`.")
]


def _variant_fields(variant: Variant, prices: Sequence[Price]) -> dict[str, Any]:
    return {
        "id": variant.id,
        "product_id": variant.product_id,
        "sku": variant.sku,
        "title": variant.title,
        "options": variant.options,
        "prices": [PriceOut.model_validate(p) for p in prices],
        "manage_inventory": variant.manage_inventory,
        "allow_backorder": variant.allow_backorder,
        "low_stock_threshold": variant.low_stock_threshold,
        "barcode": variant.barcode,
        "weight_grams": variant.weight_grams,
        "rank": variant.rank,
        "created_at": variant.created_at,
        "updated_at": variant.updated_at,
    }


def _product_out(view: products.ProductView) -> ProductOut:
    product = view.product
    return ProductOut(
        id=product.id,
        status=ProductStatus(product.status),
        metadata=product.meta,
        published_at=product.published_at,
        created_at=product.created_at,
        updated_at=product.updated_at,
        translations=[ProductTranslationOut.model_validate(t) for t in view.translations],
        options=[OptionOut.model_validate(o) for o in view.options],
        images=[
            ProductImageOut(
                media_id=i.media_id, position=i.position, alt=i.alt, url=i.url, width=i.width, height=i.height
            )
            for i in view.images
        ],
        variants=[
            ProductVariantOut(
                **_variant_fields(v.variant, v.prices), in_stock=v.in_stock, available=v.available
            )
            for v in view.variants
        ],
    )


def _variant_out(view: variants.VariantView) -> VariantOut:
    return VariantOut(**_variant_fields(view.variant, view.prices))


def _inventory_out(stock: Stock) -> InventoryOut:
    return InventoryOut(
        variant_id=stock.variant_id,
        quantity=stock.quantity,
        reserved=stock.reserved,
        available=stock.available,
        low_stock_threshold=stock.low_stock_threshold,
    )


# ---------------------------------------------------------------------------------------------- products


@router.post(
    "/products",
    status_code=201,
    response_model=ProductOut,
    summary="Create a product with its translations, options and images",
    responses=problem_responses(401, 403, 409, 422),
)
async def create_product(
    body: ProductCreate, ctx: ContextDep, _: Annotated[Principal, requires("products:create")]
) -> ProductOut:
    return _product_out(await products.create_product(ctx, body))


@router.get(
    "/products",
    response_model=Page[ProductOut],
    summary="Products the caller can see (anonymous callers and customers: active ones), newest first or "
    "by price, with their variants, prices and availability",
    responses=problem_responses(400, 422),
)
async def list_products(
    ctx: ContextDep,
    _: Annotated[Principal, requires("products:list")],
    page: PageDep,
    status: Annotated[ProductStatus | None, Query()] = None,
    locale: Annotated[
        Locale | None, Query(description="Only products translated into this locale, served in it.")
    ] = None,
    currency: Annotated[
        Currency | None,
        Query(
            description="Only products with a price in this currency, served with those prices only "
            "(422 `currency_not_sold` when none of the shop's prices is in it)."
        ),
    ] = None,
    min_price: PriceQuery = None,
    max_price: PriceQuery = None,
    in_stock: Annotated[
        bool | None, Query(description="Only products that can (false: cannot) be ordered now.")
    ] = None,
    sort: Annotated[
        ProductSort,
        Query(description="`newest`, or by price (a product's cheapest variant's): `price`, `-price`."),
    ] = ProductSort.NEWEST,
) -> Page[ProductOut]:
    query = products.ProductQuery(
        status=status,
        locale=locale,
        currency=currency,
        min_price=min_price,
        max_price=max_price,
        in_stock=in_stock,
        sort=sort,
    )
    found = await products.list_products(ctx, page, query)
    return Page(items=[_product_out(v) for v in found.items], next_cursor=found.next_cursor)


@router.get(
    "/products/by-handle/{handle}",
    response_model=ProductOut,
    summary="A product by its handle (in the asked locale, else the default, else any), with its variants, "
    "prices, availability and images",
    responses=problem_responses(404, 422),
)
async def get_product_by_handle(
    handle: Annotated[str, Path(max_length=200)],
    ctx: ContextDep,
    _: Annotated[Principal, requires("products:read")],
    locale: LocaleQuery = None,
    currency: CurrencyQuery = None,
) -> ProductOut:
    return _product_out(await products.get_product_by_handle(ctx, handle, locale=locale, currency=currency))


@router.get(
    "/products/{product_id}",
    response_model=ProductOut,
    summary="A product with its translations, options, images and variants (prices, availability)",
    responses=problem_responses(404, 422),
)
async def get_product(
    product_id: uuid.UUID,
    ctx: ContextDep,
    _: Annotated[Principal, requires("products:read")],
    locale: LocaleQuery = None,
    currency: CurrencyQuery = None,
) -> ProductOut:
    return _product_out(await products.get_product(ctx, product_id, locale=locale, currency=currency))


@router.patch(
    "/products/{product_id}",
    response_model=ProductOut,
    summary="Change a product; translations are upserted per locale, options and images replaced when given",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_product(
    product_id: uuid.UUID,
    body: ProductUpdate,
    ctx: ContextDep,
    _: Annotated[Principal, requires("products:update")],
) -> ProductOut:
    return _product_out(await products.update_product(ctx, product_id, body))


@router.delete(
    "/products/{product_id}",
    status_code=204,
    summary="Delete a product with its variants, prices and stock",
    responses=problem_responses(401, 403, 404),
)
async def delete_product(
    product_id: uuid.UUID, ctx: ContextDep, _: Annotated[Principal, requires("products:delete")]
) -> Response:
    await products.delete_product(ctx, product_id)
    return Response(status_code=204)


@router.post(
    "/products/{product_id}/publish",
    response_model=ProductOut,
    summary="Publish a product: it becomes active (409 invalid_transition when it is active)",
    responses=problem_responses(401, 403, 404, 409),
)
async def publish_product(
    product_id: uuid.UUID,
    ctx: ContextDep,
    _: Annotated[Principal, requires("products:publish")],
) -> ProductOut:
    return _product_out(await products.publish_product(ctx, product_id))


@router.post(
    "/products/{product_id}/unpublish",
    response_model=ProductOut,
    summary="Take an active product back to draft (409 invalid_transition when it is not active)",
    responses=problem_responses(401, 403, 404, 409),
)
async def unpublish_product(
    product_id: uuid.UUID,
    ctx: ContextDep,
    _: Annotated[Principal, requires("products:publish")],
) -> ProductOut:
    return _product_out(await products.unpublish_product(ctx, product_id))


# ---------------------------------------------------------------------------------------------- variants


@router.get(
    "/products/{product_id}/variants",
    response_model=Page[VariantOut],
    summary="A product's variants with their prices, by rank",
    responses=problem_responses(400, 404, 422),
)
async def list_variants(
    product_id: uuid.UUID,
    ctx: ContextDep,
    _: Annotated[Principal, requires("products:list")],
    page: PageDep,
) -> Page[VariantOut]:
    found = await variants.list_variants(ctx, product_id, page)
    return Page(items=[_variant_out(v) for v in found.items], next_cursor=found.next_cursor)


@router.post(
    "/products/{product_id}/variants",
    status_code=201,
    response_model=VariantOut,
    summary="Add a variant with its prices (and starting stock)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_variant(
    product_id: uuid.UUID,
    body: VariantCreate,
    ctx: ContextDep,
    _: Annotated[Principal, requires("products:update")],
) -> VariantOut:
    return _variant_out(await variants.create_variant(ctx, product_id, body))


@router.get(
    "/variants/{variant_id}",
    response_model=VariantOut,
    summary="A variant with its prices",
    responses=problem_responses(404, 422),
)
async def get_variant(
    variant_id: uuid.UUID,
    ctx: ContextDep,
    _: Annotated[Principal, requires("products:read")],
) -> VariantOut:
    return _variant_out(await variants.get_variant(ctx, variant_id))


@router.patch(
    "/variants/{variant_id}",
    response_model=VariantOut,
    summary="Change a variant (prices: PUT .../prices; stock: the inventory routes)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_variant(
    variant_id: uuid.UUID,
    body: VariantUpdate,
    ctx: ContextDep,
    _: Annotated[Principal, requires("products:update")],
) -> VariantOut:
    return _variant_out(await variants.update_variant(ctx, variant_id, body))


@router.delete(
    "/variants/{variant_id}",
    status_code=204,
    summary="Delete a variant with its prices and stock",
    responses=problem_responses(401, 403, 404),
)
async def delete_variant(
    variant_id: uuid.UUID, ctx: ContextDep, _: Annotated[Principal, requires("products:update")]
) -> Response:
    await variants.delete_variant(ctx, variant_id)
    return Response(status_code=204)


@router.put(
    "/variants/{variant_id}/prices",
    response_model=VariantOut,
    summary="Replace a variant's price list (one price per currency)",
    responses=problem_responses(401, 403, 404, 422),
)
async def replace_prices(
    variant_id: uuid.UUID,
    body: PricesPut,
    ctx: ContextDep,
    _: Annotated[Principal, requires("products:update")],
) -> VariantOut:
    return _variant_out(await variants.replace_prices(ctx, variant_id, body.prices))


# --------------------------------------------------------------------------------------------- inventory


@router.get(
    "/variants/{variant_id}/inventory",
    response_model=InventoryOut,
    summary="A variant's stock: on hand, reserved by open orders, available",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_inventory(
    variant_id: uuid.UUID,
    ctx: ContextDep,
    _: Annotated[Principal, requires("inventory:read")],
) -> InventoryOut:
    return _inventory_out(await variants.stock(ctx, variant_id))


@router.post(
    "/variants/{variant_id}/inventory/adjust",
    response_model=InventoryOut,
    summary="Add to (or, negative, remove from) the stock on hand (409 insufficient_stock)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def adjust_inventory(
    variant_id: uuid.UUID,
    body: InventoryAdjust,
    ctx: ContextDep,
    _: Annotated[Principal, requires("inventory:update")],
) -> InventoryOut:
    return _inventory_out(await variants.adjust_stock(ctx, variant_id, body.delta, body.reason))


@router.post(
    "/variants/{variant_id}/inventory/set",
    response_model=InventoryOut,
    summary="Set the stock on hand (a stock count; 409 insufficient_stock below what is reserved)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def set_inventory(
    variant_id: uuid.UUID,
    body: InventorySet,
    ctx: ContextDep,
    _: Annotated[Principal, requires("inventory:update")],
) -> InventoryOut:
    return _inventory_out(await variants.set_stock(ctx, variant_id, body.quantity))
