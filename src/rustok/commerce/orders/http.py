"""The order routes (``/api/commerce/orders``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from rustok.commerce.models import OrderStatus
from rustok.commerce.orders import service
from rustok.commerce.orders.schemas import CancelIn, OrderCreate, OrderLineOut, OrderOut, TransitionIn
from rustok.core.deps import ContextDep, PageDep
from rustok.core.errors import problem_responses
from rustok.core.pagination import Page
from rustok.core.routing import make_router
from rustok.core.security import Principal, requires

router = make_router(prefix="/api/commerce/orders", tags=["orders"])


def _out(view: service.OrderView) -> OrderOut:
    order = view.order
    return OrderOut(
        id=order.id,
        number=order.number,
        status=OrderStatus(order.status),
        customer_id=order.customer_id,
        email=order.email,
        currency=order.currency,
        items=[OrderLineOut.model_validate(line) for line in view.lines],
        subtotal=order.subtotal,
        total=order.total,
        shipping_address=order.shipping_address,
        created_at=order.created_at,
        updated_at=order.updated_at,
        paid_at=order.paid_at,
        shipped_at=order.shipped_at,
        completed_at=order.completed_at,
        cancelled_at=order.cancelled_at,
        cancel_reason=order.cancel_reason,
    )


@router.post(
    "",
    status_code=201,
    response_model=OrderOut,
    summary="Place an order; its stock is reserved at once (409 insufficient_stock)",
    responses=problem_responses(401, 403, 409, 422),
)
async def place_order(
    body: OrderCreate,
    ctx: ContextDep,
    _: Annotated[Principal, requires("orders:create")],
) -> OrderOut:
    return _out(await service.place_order(ctx, body))


@router.get(
    "",
    response_model=Page[OrderOut],
    summary="Orders, newest first (customers: their own)",
    responses=problem_responses(400, 401, 403, 422),
)
async def list_orders(
    ctx: ContextDep,
    _: Annotated[Principal, requires("orders:list")],
    page: PageDep,
    status: Annotated[OrderStatus | None, Query()] = None,
) -> Page[OrderOut]:
    found = await service.list_orders(ctx, page, status=status)
    return Page(items=[_out(v) for v in found.items], next_cursor=found.next_cursor)


@router.get(
    "/{order_id}",
    response_model=OrderOut,
    summary="An order (customers: their own)",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_order(
    order_id: uuid.UUID, ctx: ContextDep, _: Annotated[Principal, requires("orders:read")]
) -> OrderOut:
    return _out(await service.get_order(ctx, order_id))


@router.post(
    "/{order_id}/transition",
    response_model=OrderOut,
    summary="Move an order along pending → paid → shipped → completed (staff)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def transition(
    order_id: uuid.UUID,
    body: TransitionIn,
    ctx: ContextDep,
    _: Annotated[Principal, requires("orders:update")],
) -> OrderOut:
    return _out(await service.transition(ctx, order_id, body))


@router.post(
    "/{order_id}/cancel",
    response_model=OrderOut,
    summary="Cancel an order and release its stock (the owner while pending, staff until completed)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def cancel_order(
    order_id: uuid.UUID,
    ctx: ContextDep,
    _: Annotated[Principal, requires("orders:update")],
    body: CancelIn | None = None,
) -> OrderOut:
    return _out(await service.cancel(ctx, order_id, body or CancelIn()))
