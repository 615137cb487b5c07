"""The catalog routes (``/api/commerce/products``, ``/api/commerce/variants``): products, their variants and
prices (part of the product: ``products:*``), and the variants' stock (``inventory:*``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response

from rustok.commerce.catalog import service
from rustok.commerce.catalog.schemas import (
    InventoryAdjust,
    InventoryOut,
    InventorySet,
    OptionOut,
    PriceOut,
    PricesPut,
    ProductCreate,
    ProductOut,
    ProductTranslationOut,
    ProductUpdate,
    VariantCreate,
    VariantOut,
    VariantUpdate,
)
from rustok.commerce.inventory import Stock
from rustok.commerce.models import ProductStatus
from rustok.core.deps import ContextDep, PageDep, RequestContext, UoWDep
from rustok.core.errors import problem_responses
from rustok.core.event_fields import Locale
from rustok.core.pagination import Page
from rustok.core.routing import make_router
from rustok.core.security import Principal, requires
from rustok.tenants.service import tenant_locales

router = make_router(prefix="/api/commerce", tags=["commerce"])

LocaleQuery = Annotated[Locale | None, Query(description="Serve this locale (else the tenant's default).")]


def _reader(ctx: RequestContext, principal: Principal, locale: str | None) -> service.Reader:
    return service.reader_for(principal, locale, ctx.default_locale)


def _product_out(view: service.ProductView) -> ProductOut:
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
    )


def _variant_out(view: service.VariantView) -> VariantOut:
    variant = view.variant
    return VariantOut(
        id=variant.id,
        product_id=variant.product_id,
        sku=variant.sku,
        title=variant.title,
        options=variant.options,
        prices=[PriceOut.model_validate(p) for p in view.prices],
        manage_inventory=variant.manage_inventory,
        allow_backorder=variant.allow_backorder,
        low_stock_threshold=variant.low_stock_threshold,
        barcode=variant.barcode,
        weight_grams=variant.weight_grams,
        rank=variant.rank,
        created_at=variant.created_at,
        updated_at=variant.updated_at,
    )


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
    summary="Create a product with its translations and options",
    responses=problem_responses(401, 403, 409, 422),
)
async def create_product(
    body: ProductCreate, principal: Annotated[Principal, requires("products:create")], uow: UoWDep
) -> ProductOut:
    locales = await tenant_locales(uow)
    return _product_out(await service.create_product(uow, principal, body, locales=locales))


@router.get(
    "/products",
    response_model=Page[ProductOut],
    summary="Products the caller can see, newest first (anonymous callers and customers: active ones)",
    responses=problem_responses(400, 422),
)
async def list_products(
    ctx: ContextDep,
    principal: Annotated[Principal, requires("products:list")],
    uow: UoWDep,
    page: PageDep,
    status: Annotated[ProductStatus | None, Query()] = None,
    locale: Annotated[
        Locale | None, Query(description="Only products translated into this locale, served in it.")
    ] = None,
) -> Page[ProductOut]:
    found = await service.list_products(uow, page, _reader(ctx, principal, locale), status=status)
    return Page(items=[_product_out(v) for v in found.items], next_cursor=found.next_cursor)


@router.get(
    "/products/{product_id}",
    response_model=ProductOut,
    summary="A product with its translations and options",
    responses=problem_responses(404, 422),
)
async def get_product(
    product_id: uuid.UUID,
    ctx: ContextDep,
    principal: Annotated[Principal, requires("products:read")],
    uow: UoWDep,
    locale: LocaleQuery = None,
) -> ProductOut:
    return _product_out(await service.get_product(uow, product_id, _reader(ctx, principal, locale)))


@router.patch(
    "/products/{product_id}",
    response_model=ProductOut,
    summary="Change a product; translations are upserted per locale, options replaced when given",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_product(
    product_id: uuid.UUID,
    body: ProductUpdate,
    principal: Annotated[Principal, requires("products:update")],
    uow: UoWDep,
) -> ProductOut:
    locales = await tenant_locales(uow)
    return _product_out(await service.update_product(uow, principal, product_id, body, locales=locales))


@router.delete(
    "/products/{product_id}",
    status_code=204,
    summary="Delete a product with its variants, prices and stock",
    responses=problem_responses(401, 403, 404),
)
async def delete_product(
    product_id: uuid.UUID, _: Annotated[Principal, requires("products:delete")], uow: UoWDep
) -> Response:
    await service.delete_product(uow, product_id)
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
    principal: Annotated[Principal, requires("products:publish")],
    uow: UoWDep,
) -> ProductOut:
    reader = _reader(ctx, principal, None)
    return _product_out(await service.publish_product(uow, principal, product_id, reader))


@router.post(
    "/products/{product_id}/unpublish",
    response_model=ProductOut,
    summary="Take an active product back to draft (409 invalid_transition when it is not active)",
    responses=problem_responses(401, 403, 404, 409),
)
async def unpublish_product(
    product_id: uuid.UUID,
    ctx: ContextDep,
    principal: Annotated[Principal, requires("products:publish")],
    uow: UoWDep,
) -> ProductOut:
    reader = _reader(ctx, principal, None)
    return _product_out(await service.unpublish_product(uow, principal, product_id, reader))


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
    principal: Annotated[Principal, requires("products:list")],
    uow: UoWDep,
    page: PageDep,
) -> Page[VariantOut]:
    found = await service.list_variants(uow, product_id, page, _reader(ctx, principal, None))
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
    _: Annotated[Principal, requires("products:update")],
    uow: UoWDep,
) -> VariantOut:
    return _variant_out(await service.create_variant(uow, product_id, body))


@router.get(
    "/variants/{variant_id}",
    response_model=VariantOut,
    summary="A variant with its prices",
    responses=problem_responses(404, 422),
)
async def get_variant(
    variant_id: uuid.UUID,
    ctx: ContextDep,
    principal: Annotated[Principal, requires("products:read")],
    uow: UoWDep,
) -> VariantOut:
    return _variant_out(await service.get_variant(uow, variant_id, _reader(ctx, principal, None)))


@router.patch(
    "/variants/{variant_id}",
    response_model=VariantOut,
    summary="Change a variant (prices: PUT .../prices; stock: the inventory routes)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_variant(
    variant_id: uuid.UUID,
    body: VariantUpdate,
    _: Annotated[Principal, requires("products:update")],
    uow: UoWDep,
) -> VariantOut:
    return _variant_out(await service.update_variant(uow, variant_id, body))


@router.delete(
    "/variants/{variant_id}",
    status_code=204,
    summary="Delete a variant with its prices and stock",
    responses=problem_responses(401, 403, 404),
)
async def delete_variant(
    variant_id: uuid.UUID, _: Annotated[Principal, requires("products:update")], uow: UoWDep
) -> Response:
    await service.delete_variant(uow, variant_id)
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
    _: Annotated[Principal, requires("products:update")],
    uow: UoWDep,
) -> VariantOut:
    return _variant_out(await service.replace_prices(uow, variant_id, body.prices))


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
    principal: Annotated[Principal, requires("inventory:read")],
    uow: UoWDep,
) -> InventoryOut:
    return _inventory_out(await service.stock(uow, variant_id, _reader(ctx, principal, None)))


@router.post(
    "/variants/{variant_id}/inventory/adjust",
    response_model=InventoryOut,
    summary="Add to (or, negative, remove from) the stock on hand (409 insufficient_stock)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def adjust_inventory(
    variant_id: uuid.UUID,
    body: InventoryAdjust,
    _: Annotated[Principal, requires("inventory:update")],
    uow: UoWDep,
) -> InventoryOut:
    return _inventory_out(await service.adjust_stock(uow, variant_id, body.delta, body.reason))


@router.post(
    "/variants/{variant_id}/inventory/set",
    response_model=InventoryOut,
    summary="Set the stock on hand (a stock count; 409 insufficient_stock below what is reserved)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def set_inventory(
    variant_id: uuid.UUID,
    body: InventorySet,
    _: Annotated[Principal, requires("inventory:update")],
    uow: UoWDep,
) -> InventoryOut:
    return _inventory_out(await service.set_stock(uow, variant_id, body.quantity))
