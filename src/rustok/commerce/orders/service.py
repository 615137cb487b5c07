"""Orders: placing one, reading them, moving them through their statuses, cancelling them.

- **Placing** is one transaction: the variants are read (only those of active products can be ordered,
  each with a price in the order's currency), their stock is reserved line by line in variant-id order (one
  conditional UPDATE each, see `rustok.commerce.inventory`: concurrent orders never take more than is
  available unless backorders are allowed; the fixed order keeps two multi-line orders from deadlocking),
  the tenant's next order number is drawn last (its counter row stays locked until the commit, so it is
  locked briefly), then the order and its lines, with prices, SKUs and titles copied in, and
  ``order.placed``. Any line short of stock is a 409 ``insufficient_stock`` and nothing is kept.
- **Statuses**: pending → paid → shipped → completed, by staff (``orders:update`` on all orders); completing
  turns the reservations into decrements of stock on hand. Cancelling releases the reservations: the owner
  may cancel while the order is pending, staff until it is shipped. Anything else is a 409
  ``invalid_transition``. A status change locks the order's row first, so two changes cannot both apply.
- **Own scope**: customers hold ``orders:read/list/update`` on their own orders only; another's order is a
  404.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rustok.commerce import inventory
from rustok.commerce.events import OrderCancelled, OrderCompleted, OrderPlaced, OrderStatusChanged
from rustok.commerce.models import Order, OrderLine, OrderStatus, ProductStatus
from rustok.commerce.orders.repository import OrderCatalogRepository, OrderRepository
from rustok.commerce.orders.schemas import CancelIn, OrderCreate, TransitionIn
from rustok.commerce.permissions import ORDERS
from rustok.core import clock
from rustok.core.deps import RequestContext
from rustok.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from rustok.core.pagination import PageParams, Slice
from rustok.core.permissions import Action, Permission, Scope
from rustok.core.tenancy import TenantScopeError
from rustok.core.uow import UnitOfWork

# The statuses each staff transition leads from.
_NEXT: dict[OrderStatus, OrderStatus] = {
    OrderStatus.PENDING: OrderStatus.PAID,
    OrderStatus.PAID: OrderStatus.SHIPPED,
    OrderStatus.SHIPPED: OrderStatus.COMPLETED,
}
# What the BIGINT amount columns hold.
MAX_AMOUNT = 2**63 - 1
_CANCELLABLE_BY_STAFF = frozenset({OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.SHIPPED})


@dataclass(frozen=True, slots=True)
class OrderView:
    order: Order
    lines: list[OrderLine]


def _tenant_of(uow: UnitOfWork) -> uuid.UUID:
    scope = uow.scope
    if scope is None or scope.tenant_id is None:
        raise TenantScopeError("orders are placed in a tenant's unit of work")
    return scope.tenant_id


def _invalid_item(index: int, detail: str, code: str) -> Unprocessable:
    return Unprocessable(
        detail,
        code=code,
        errors=[{"loc": ["body", "items", index, "variant_id"], "msg": detail, "type": code}],
    )


def _is_staff(ctx: RequestContext) -> bool:
    return ctx.grant(Permission(ORDERS, Action.UPDATE)) is Scope.ALL


async def _views(uow: UnitOfWork, orders: Sequence[Order]) -> list[OrderView]:
    if not orders:
        return []
    lines: dict[uuid.UUID, list[OrderLine]] = defaultdict(list)
    for line in await OrderRepository(uow.session).lines([o.id for o in orders]):
        lines[line.order_id].append(line)
    return [OrderView(order, lines[order.id]) for order in orders]


async def place_order(ctx: RequestContext, data: OrderCreate) -> OrderView:
    ctx.authorize(Permission(ORDERS, Action.CREATE))
    uow, principal, default_locale = ctx.uow, ctx.principal, ctx.default_locale
    tenant_id = _tenant_of(uow)
    catalog = OrderCatalogRepository(uow.session)
    wanted = [item.variant_id for item in data.items]
    found = {variant.id: (variant, product) for variant, product in await catalog.variants(wanted)}
    prices = await catalog.prices(wanted, data.currency)
    for index, item in enumerate(data.items):
        pair = found.get(item.variant_id)
        if pair is None or pair[1].status != ProductStatus.ACTIVE.value:
            raise _invalid_item(index, f"No variant {item.variant_id} can be ordered.", "variant_unavailable")
        if item.variant_id not in prices:
            raise _invalid_item(
                index, f"The variant {item.variant_id} has no price in {data.currency}.", "price_missing"
            )
    subtotal = sum(prices[item.variant_id] * item.quantity for item in data.items)
    if subtotal > MAX_AMOUNT:
        raise Unprocessable(
            f"The order's total is beyond {MAX_AMOUNT} minor units; split it.",
            code="amount_out_of_range",
            errors=[{"loc": ["body", "items"], "msg": "total too large", "type": "amount_out_of_range"}],
        )
    titles = await catalog.titles([product.id for _, product in found.values()])

    reserved_at: dict[uuid.UUID, uuid.UUID | None] = {}
    for item in sorted(data.items, key=lambda i: i.variant_id):
        variant = found[item.variant_id][0]
        reserved_at[variant.id] = (
            await inventory.reserve(uow, variant, item.quantity) if variant.manage_inventory else None
        )

    lines = []
    for item in data.items:
        variant, product = found[item.variant_id]
        names = titles.get(product.id, {})
        product_title = names.get(default_locale) or next(iter(names.values()), variant.sku)
        unit_price = prices[variant.id]
        lines.append(
            OrderLine(
                variant_id=variant.id,
                product_id=product.id,
                location_id=reserved_at[variant.id],
                sku=variant.sku,
                title=f"{product_title} — {variant.title}" if variant.title else product_title,
                quantity=item.quantity,
                unit_price=unit_price,
                total=unit_price * item.quantity,
            )
        )
    orders = OrderRepository(uow.session)
    order = Order(
        number=await orders.next_number(tenant_id),
        customer_id=principal.user_id,
        email=data.email,
        status=OrderStatus.PENDING.value,
        currency=data.currency,
        subtotal=subtotal,
        total=subtotal,
        shipping_address=data.shipping_address.model_dump() if data.shipping_address else None,
    )
    await orders.add(order)
    for line in lines:
        line.order_id = order.id
        uow.session.add(line)
    await uow.session.flush()
    uow.record(
        OrderPlaced(
            order_id=order.id, customer_id=order.customer_id, total=order.total, currency=order.currency
        )
    )
    return OrderView(order, lines)


async def _visible(ctx: RequestContext, order_id: uuid.UUID, action: Action, *, lock: bool) -> Order:
    """The order, if the caller may ``action`` it (own scope: its own only; another's is a 404)."""
    orders = OrderRepository(ctx.uow.session)
    order = await orders.locked(order_id) if lock else await orders.get(order_id)
    hidden = NotFound(f"No order with id {order_id}.")
    if order is None:
        raise hidden
    ctx.authorize(Permission(ORDERS, action), owner_id=order.customer_id, hidden=hidden)
    return order


async def get_order(ctx: RequestContext, order_id: uuid.UUID) -> OrderView:
    return (await _views(ctx.uow, [await _visible(ctx, order_id, Action.READ, lock=False)]))[0]


async def list_orders(
    ctx: RequestContext, params: PageParams, *, status: OrderStatus | None
) -> Slice[OrderView]:
    """Newest first; customers see their own orders only."""
    where = []
    if ctx.authorize(Permission(ORDERS, Action.LIST)) is Scope.OWN:
        where.append(Order.customer_id == ctx.principal.user_id)
    if status is not None:
        where.append(Order.status == status.value)
    found = await OrderRepository(ctx.uow.session).page(params, *where, descending=True)
    return Slice(await _views(ctx.uow, found.items), found.next_cursor)


def _invalid_transition(order: Order, to: str) -> Conflict:
    return Conflict(f"A {order.status} order cannot become {to}.", code="invalid_transition")


async def transition(ctx: RequestContext, order_id: uuid.UUID, data: TransitionIn) -> OrderView:
    """Staff move an order one step along pending → paid → shipped → completed."""
    uow = ctx.uow
    order = await _visible(ctx, order_id, Action.UPDATE, lock=True)
    if not _is_staff(ctx):
        raise Forbidden("Only staff move orders along; a customer may cancel a pending order.")
    old, new = OrderStatus(order.status), OrderStatus(data.status)
    if _NEXT.get(old) is not new:
        raise _invalid_transition(order, new.value)
    now = clock.now()
    order.status = new.value
    if new is OrderStatus.PAID:
        order.paid_at = now
    elif new is OrderStatus.SHIPPED:
        order.shipped_at = now
    view = (await _views(uow, [order]))[0]
    if new is OrderStatus.COMPLETED:
        order.completed_at = now
        await _each_reservation(uow, view.lines, inventory.fulfil)
    uow.record(OrderStatusChanged(order_id=order.id, old_status=old.value, new_status=new.value))
    if new is OrderStatus.COMPLETED:
        uow.record(OrderCompleted(order_id=order.id))
    return view


async def cancel(ctx: RequestContext, order_id: uuid.UUID, data: CancelIn) -> OrderView:
    """The owner cancels a pending order; staff cancel one until it is completed. Its stock is released."""
    uow = ctx.uow
    order = await _visible(ctx, order_id, Action.UPDATE, lock=True)
    old = OrderStatus(order.status)
    allowed = _CANCELLABLE_BY_STAFF if _is_staff(ctx) else {OrderStatus.PENDING}
    if old not in allowed:
        raise _invalid_transition(order, OrderStatus.CANCELLED.value)
    order.status = OrderStatus.CANCELLED.value
    order.cancelled_at = clock.now()
    order.cancel_reason = data.reason
    view = (await _views(uow, [order]))[0]
    await _each_reservation(uow, view.lines, inventory.release)
    uow.record(
        OrderStatusChanged(order_id=order.id, old_status=old.value, new_status=OrderStatus.CANCELLED.value)
    )
    uow.record(OrderCancelled(order_id=order.id, reason=data.reason))
    return view


async def _each_reservation(
    uow: UnitOfWork, lines: Sequence[OrderLine], apply: inventory.StockChange
) -> None:
    """Apply ``apply`` (release, fulfil) to each line's reservation, in variant-id order (as placing took
    them). A line whose variant has since been deleted has no stock left to touch."""
    catalog = OrderCatalogRepository(uow.session)
    for line in sorted(lines, key=lambda line: str(line.variant_id)):
        if line.variant_id is None or line.location_id is None:
            continue
        variant = await catalog.variant(line.variant_id)
        if variant is not None:
            await apply(uow, variant, line.location_id, line.quantity)
