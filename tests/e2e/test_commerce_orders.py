"""Orders through the HTTP API (api.md "Commerce", rbac.md: customers create orders and read, list and
cancel their own; events.md): placing an order (validation, unavailable variants, missing prices, stock
reserved atomically, backorders, variants that do not manage inventory, prices snapshotted, numbers per
tenant), reading and listing them (own scope for customers, everything for staff, cursors), the status
machine (pending → paid → shipped → completed, cancelling by the owner or staff) with the stock each step
moves, tenant isolation, and the events each change records in its request. Concurrency is in
test_commerce_concurrency.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from rustok.core.uow import UnitOfWork
from rustok.testing import EventRecorder, SignedInUser, login_as, new_tenant, sign_in_as
from rustok.testing.commerce import make_order, make_product, make_variant

MakeUoW = Callable[..., UnitOfWork]
ORDERS = "/api/commerce/orders"
STATUSES = ("pending", "paid", "shipped", "completed", "cancelled")
TARGETS = ("paid", "shipped", "completed")
ALLOWED = {("pending", "paid"), ("paid", "shipped"), ("shipped", "completed")}
# The steps of the happy path, to bring an order to a status.
PATH_TO = {
    "pending": [],
    "paid": ["paid"],
    "shipped": ["paid", "shipped"],
    "completed": ["paid", "shipped", "completed"],
}
ADDRESS = {"name": "Ada Lovelace", "line1": "1 Main Street", "city": "London", "country": "GB"}


# ---------------------------------------------------------------------------------------------- helpers


def anonymous(tenant_id: uuid.UUID) -> dict[str, str]:
    return {"X-Tenant-ID": str(tenant_id)}


@dataclass(frozen=True, slots=True)
class Shop:
    """A tenant with a manager (staff) and a signed-in customer."""

    client: httpx.AsyncClient
    app: FastAPI
    tenant_id: uuid.UUID
    manager: dict[str, str]
    customer: SignedInUser

    async def customer_headers(self) -> dict[str, str]:
        """The headers of another, new customer of the tenant."""
        return await login_as(self.client, self.app, self.tenant_id, "customer")

    async def variant(self, *, title: str = "Shirt", status: str | None = "active", **fields: Any) -> Any:
        """A variant of a new product (active unless asked), priced in EUR (``amount``, default 1000),
        with stock ``quantity`` when given."""
        product = await make_product(self.client, self.manager, title=title, status=status)
        return await make_variant(self.client, self.manager, product["id"], **fields)

    async def stock(self, variant_id: str) -> Any:
        response = await self.client.get(
            f"/api/commerce/variants/{variant_id}/inventory", headers=self.manager
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def place(
        self, headers: dict[str, str], *lines: tuple[str, int], currency: str = "EUR", **fields: Any
    ) -> httpx.Response:
        items = [{"variant_id": variant_id, "quantity": quantity} for variant_id, quantity in lines]
        return await self.client.post(
            ORDERS, json={"currency": currency, "items": items, **fields}, headers=headers
        )

    async def order(self, headers: dict[str, str], *lines: tuple[str, int], **fields: Any) -> Any:
        """An order placed by ``headers`` (asserting the 201)."""
        response = await self.place(headers, *lines, **fields)
        assert response.status_code == 201, response.text
        return response.json()

    async def get(self, headers: dict[str, str], order_id: str) -> httpx.Response:
        return await self.client.get(f"{ORDERS}/{order_id}", headers=headers)

    async def transition(self, headers: dict[str, str], order_id: str, status: str) -> httpx.Response:
        return await self.client.post(
            f"{ORDERS}/{order_id}/transition", json={"status": status}, headers=headers
        )

    async def cancel(
        self, headers: dict[str, str], order_id: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.client.post(f"{ORDERS}/{order_id}/cancel", json=body, headers=headers)

    async def bring_to(self, order_id: str, status: str) -> None:
        """Move the order to ``status`` along the happy path (``cancelled``: cancelled by staff)."""
        if status == "cancelled":
            response = await self.cancel(self.manager, order_id)
            assert response.status_code == 200, response.text
            return
        for step in PATH_TO[status]:
            response = await self.transition(self.manager, order_id, step)
            assert response.status_code == 200, response.text

    async def listed(self, headers: dict[str, str], **params: Any) -> list[Any]:
        response = await self.client.get(ORDERS, params={"limit": 100, **params}, headers=headers)
        assert response.status_code == 200, response.text
        items: list[Any] = response.json()["items"]
        return items


async def open_shop(client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, slug: str = "acme") -> Shop:
    tenant_id = await new_tenant(make_uow, slug)
    manager = await login_as(client, app, tenant_id, "manager")
    customer = await sign_in_as(client, app, tenant_id, "customer")
    return Shop(client, app, tenant_id, manager, customer)


def problem(response: httpx.Response, status: int, code: str) -> Any:
    """The problem body of ``response``, asserting its status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body


def stock_of(inventory: Any) -> tuple[int, int, int]:
    return inventory["quantity"], inventory["reserved"], inventory["available"]


# ------------------------------------------------------------------------------------------------- place


async def test_a_customer_places_an_order_its_stock_is_reserved_and_it_is_announced(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given an active product's variant at 15.00 EUR with 10 in stock, when a customer orders 3 with an
    email and a shipping address, then it is 201: order number 1, pending, one line with the price, SKU and
    title copied in, totals 45.00; the stock is reserved (quantity 10, reserved 3, available 7); and the
    request recorded ``inventory.updated`` (available 10 → 7) and ``order.placed``."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(title="Shirt", sku="SHIRT-M", amount=1500, quantity=10)
    request_id = uuid.uuid4()

    async with event_recorder.watch() as events:
        response = await shop.place(
            {**shop.customer.headers, "X-Request-ID": str(request_id)},
            (variant["id"], 3),
            email="ada@example.test",
            shipping_address=ADDRESS,
        )

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["number"] == 1
    assert order["status"] == "pending"
    assert order["currency"] == "EUR"
    assert (order["subtotal"], order["total"]) == (4500, 4500)
    assert order["customer_id"] == str(shop.customer.user_id)
    assert order["email"] == "ada@example.test"
    assert order["shipping_address"]["country"] == "GB"
    assert order["shipping_address"]["city"] == "London"
    for stamp in ("paid_at", "shipped_at", "completed_at", "cancelled_at", "cancel_reason"):
        assert order[stamp] is None
    [line] = order["items"]
    assert line["variant_id"] == variant["id"]
    assert line["product_id"] == variant["product_id"]
    assert (line["sku"], line["title"]) == ("SHIRT-M", "Shirt")
    assert (line["quantity"], line["unit_price"], line["total"]) == (3, 1500, 4500)
    assert stock_of(await shop.stock(variant["id"])) == (10, 3, 7)
    assert (await shop.get(shop.customer.headers, order["id"])).json() == order

    assert events.types == ["inventory.updated", "order.placed"]
    placed = events.one("order.placed").payload
    assert placed.order_id == uuid.UUID(order["id"])
    assert placed.customer_id == shop.customer.user_id
    assert (placed.total, placed.currency) == (4500, "EUR")
    updated = events.one("inventory.updated").payload
    assert updated.variant_id == uuid.UUID(variant["id"])
    assert updated.product_id == uuid.UUID(variant["product_id"])
    assert updated.location_id is not None
    assert (updated.old_quantity, updated.new_quantity) == (10, 7)
    assert {e.correlation_id for e in events} == {request_id}  # recorded by that request
    assert {e.tenant_id for e in events} == {shop.tenant_id}


async def test_an_order_of_several_variants_reserves_each_and_sums_the_lines(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given two variants (one titled "Red"), when a customer orders 2 of one and 1 of the other, then
    each line has its price and title (``Product — Variant`` for a titled variant), the totals add up, each
    variant's stock is reserved, and one ``inventory.updated`` per variant was recorded."""
    shop = await open_shop(client, app, make_uow)
    mug = await shop.variant(title="Mug", amount=800, quantity=5)
    cap = await shop.variant(title="Cap", amount=1250, quantity=4)
    red = await make_variant(client, shop.manager, cap["product_id"], amount=1300, quantity=2, title="Red")

    async with event_recorder.watch() as events:
        order = await shop.order(shop.customer.headers, (red["id"], 1), (mug["id"], 2))

    lines = {line["variant_id"]: line for line in order["items"]}
    assert set(lines) == {red["id"], mug["id"]}
    assert (lines[mug["id"]]["unit_price"], lines[mug["id"]]["total"], lines[mug["id"]]["title"]) == (
        800,
        1600,
        "Mug",
    )
    assert (lines[red["id"]]["unit_price"], lines[red["id"]]["title"]) == (1300, "Cap — Red")
    assert (order["subtotal"], order["total"]) == (2900, 2900)
    assert stock_of(await shop.stock(mug["id"])) == (5, 2, 3)
    assert stock_of(await shop.stock(red["id"])) == (2, 1, 1)
    assert stock_of(await shop.stock(cap["id"])) == (4, 0, 4)
    assert (await shop.get(shop.customer.headers, order["id"])).json() == order
    assert sorted(events.types) == ["inventory.updated", "inventory.updated", "order.placed"]
    moved = {
        e.payload.variant_id: (e.payload.old_quantity, e.payload.new_quantity)
        for e in events.of_type("inventory.updated")
    }
    assert moved == {uuid.UUID(mug["id"]): (5, 3), uuid.UUID(red["id"]): (2, 1)}


@pytest.mark.parametrize(
    ("items", "fields"),
    [
        pytest.param("duplicate", {}, id="a variant twice"),
        pytest.param([0], {}, id="quantity 0"),
        pytest.param([-1], {}, id="negative quantity"),
        pytest.param([10_001], {}, id="quantity too big"),
        pytest.param([], {}, id="no items"),
        pytest.param([1], {"currency": "eur"}, id="lower-case currency"),
        pytest.param([1], {"currency": None}, id="no currency"),
        pytest.param([1], {"customer_id": str(uuid.UUID(int=1))}, id="unknown field"),
        pytest.param([1], {"status": "paid"}, id="status given"),
        pytest.param([1], {"shipping_address": {**ADDRESS, "country": "Britain"}}, id="bad country"),
        pytest.param([1], {"shipping_address": {"name": "Ada"}}, id="incomplete address"),
        pytest.param("not-a-uuid", {}, id="variant id not a UUID"),
    ],
)
async def test_an_invalid_order_is_a_422_and_reserves_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    event_recorder: EventRecorder,
    items: Any,
    fields: dict[str, Any],
) -> None:
    """Given a variant with 10 in stock, when a customer sends an order that breaks a rule of the body,
    then it is a 422 ``validation_error``, nothing is reserved and nothing is recorded."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(quantity=10)
    if items == "duplicate":
        body_items = [{"variant_id": variant["id"], "quantity": 1}] * 2
    elif items == "not-a-uuid":
        body_items = [{"variant_id": "shirt", "quantity": 1}]
    else:
        body_items = [{"variant_id": variant["id"], "quantity": q} for q in items]
    body: dict[str, Any] = {"currency": "EUR", "items": body_items, **fields}
    body = {key: value for key, value in body.items() if value is not None}

    async with event_recorder.watch() as events:
        response = await client.post(ORDERS, json=body, headers=shop.customer.headers)

    problem(response, 422, "validation_error")
    assert stock_of(await shop.stock(variant["id"])) == (10, 0, 10)
    assert events.types == []
    assert await shop.listed(shop.manager) == []


async def test_an_unknown_variant_or_one_of_an_inactive_product_is_unavailable(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given an active variant with stock, a variant of a draft product and an id that names no variant,
    when a customer orders the active one with one of the others, then it is a 422 ``variant_unavailable``
    pointing at the offending item, and nothing is reserved or recorded."""
    shop = await open_shop(client, app, make_uow)
    good = await shop.variant(quantity=10)
    draft = await shop.variant(title="Draft", status=None, quantity=10)
    archived = await shop.variant(title="Old", status="archived", quantity=10)

    async with event_recorder.watch() as events:
        for other in (str(uuid.uuid4()), draft["id"], archived["id"]):
            body = problem(
                await shop.place(shop.customer.headers, (good["id"], 1), (other, 1)),
                422,
                "variant_unavailable",
            )
            assert body["errors"][0]["loc"] == ["body", "items", 1, "variant_id"]

    assert events.types == []
    assert stock_of(await shop.stock(good["id"])) == (10, 0, 10)
    assert stock_of(await shop.stock(draft["id"])) == (10, 0, 10)


async def test_a_product_published_later_can_be_ordered(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a draft product's variant (unavailable), when the product is published, then it can be
    ordered."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(status=None, quantity=3)
    problem(await shop.place(shop.customer.headers, (variant["id"], 1)), 422, "variant_unavailable")

    published = await client.post(
        f"/api/commerce/products/{variant['product_id']}/publish", headers=shop.manager
    )
    assert published.status_code == 200, published.text

    assert (await shop.order(shop.customer.headers, (variant["id"], 1)))["status"] == "pending"


async def test_a_variant_without_a_price_in_the_currency_is_a_422_price_missing(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a variant priced in EUR only, when a customer orders it in USD, then it is a 422
    ``price_missing``; in EUR it is placed."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(amount=1000, currency="EUR", quantity=5)

    async with event_recorder.watch() as events:
        body = problem(
            await shop.place(shop.customer.headers, (variant["id"], 1), currency="USD"), 422, "price_missing"
        )

    assert body["errors"][0]["loc"] == ["body", "items", 0, "variant_id"]
    assert events.types == []
    assert stock_of(await shop.stock(variant["id"])) == (5, 0, 5)
    assert (await shop.order(shop.customer.headers, (variant["id"], 1)))["total"] == 1000


async def test_ordering_more_than_is_available_is_a_409_and_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given 10 in stock of which another order holds 4, when a customer orders 7, then it is a 409
    ``insufficient_stock`` naming the variant; stock and outbox are untouched; 6 can still be ordered, and
    then nothing more."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(sku="LAST-ONES", quantity=10)
    await shop.order(shop.customer.headers, (variant["id"], 4))

    async with event_recorder.watch() as events:
        body = problem(await shop.place(shop.customer.headers, (variant["id"], 7)), 409, "insufficient_stock")

    assert body.get("variant_id") == variant["id"]
    assert body.get("sku") == "LAST-ONES"
    assert events.types == []
    assert stock_of(await shop.stock(variant["id"])) == (10, 4, 6)
    await shop.order(shop.customer.headers, (variant["id"], 6))
    assert stock_of(await shop.stock(variant["id"])) == (10, 10, 0)
    problem(await shop.place(shop.customer.headers, (variant["id"], 1)), 409, "insufficient_stock")
    assert [o["number"] for o in await shop.listed(shop.manager)] == [2, 1]


@pytest.mark.parametrize("short_first", [True, False], ids=["short line first", "short line last"])
async def test_an_order_with_one_line_short_of_stock_keeps_no_reservation_and_records_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    event_recorder: EventRecorder,
    short_first: bool,
) -> None:
    """Given two variants with 10 in stock and one with 1 (made before or after them, so reserved first or
    last), when a customer orders 2 of each, then it is a 409 ``insufficient_stock``, no variant keeps a
    reservation, no order exists and no event (not even the reservations that had succeeded) was
    recorded."""
    shop = await open_shop(client, app, make_uow)
    short = await shop.variant(title="Rare", quantity=1) if short_first else None
    plenty = [await shop.variant(title=f"Common {n}", quantity=10) for n in range(2)]
    if short is None:
        short = await shop.variant(title="Rare", quantity=1)
    variants = [plenty[0], short, plenty[1]]

    async with event_recorder.watch() as events:
        response = await shop.place(shop.customer.headers, *((v["id"], 2) for v in variants))

    problem(response, 409, "insufficient_stock")
    assert events.types == []
    for variant, quantity in ((plenty[0], 10), (plenty[1], 10), (short, 1)):
        assert stock_of(await shop.stock(variant["id"])) == (quantity, 0, quantity)
    assert await shop.listed(shop.manager) == []
    # The number was not drawn either: the next order is number 1.
    assert (await shop.order(shop.customer.headers, (plenty[0]["id"], 2)))["number"] == 1


async def test_a_variant_that_allows_backorders_can_be_sold_below_zero(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a variant with 1 in stock that allows backorders, when a customer orders 3, then it is placed
    and available goes to -2 (quantity 1, reserved 3), announced as such; cancelling gives it back."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(quantity=1, allow_backorder=True)

    async with event_recorder.watch() as events:
        order = await shop.order(shop.customer.headers, (variant["id"], 3))

    assert stock_of(await shop.stock(variant["id"])) == (1, 3, -2)
    updated = events.one("inventory.updated").payload
    assert (updated.old_quantity, updated.new_quantity) == (1, -2)
    assert (await shop.cancel(shop.customer.headers, order["id"])).status_code == 200
    assert stock_of(await shop.stock(variant["id"])) == (1, 0, 1)


async def test_a_variant_that_does_not_manage_inventory_never_reserves(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a variant with ``manage_inventory: false`` and no stock, when a customer orders 5, then it is
    placed without touching stock (no ``inventory.updated``), and completing or cancelling orders of it
    touches no stock either."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(manage_inventory=False)
    before = stock_of(await shop.stock(variant["id"]))
    assert before[1] == 0

    async with event_recorder.watch() as events:
        order = await shop.order(shop.customer.headers, (variant["id"], 5))
        other = await shop.order(shop.customer.headers, (variant["id"], 2))
        await shop.bring_to(order["id"], "completed")
        await shop.bring_to(other["id"], "cancelled")

    assert "inventory.updated" not in events.types
    assert events.types.count("order.placed") == 2
    assert stock_of(await shop.stock(variant["id"])) == before


async def test_crossing_the_low_stock_threshold_is_announced_once(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given 10 in stock and a low-stock threshold of 5, when orders take 4 (available 6), then 2
    (available 4: crosses 5), then 1 (available 3: still below), then only the second records
    ``inventory.low`` (remaining 4, threshold 5)."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(quantity=10, low_stock_threshold=5)

    recorded = []
    for quantity in (4, 2, 1):
        async with event_recorder.watch() as events:
            await shop.order(shop.customer.headers, (variant["id"], quantity))
        recorded.append(events)

    assert [e.types.count("inventory.low") for e in recorded] == [0, 1, 0]
    low = recorded[1].one("inventory.low").payload
    assert (low.variant_id, low.remaining, low.threshold) == (uuid.UUID(variant["id"]), 4, 5)
    assert (await shop.stock(variant["id"]))["low_stock_threshold"] == 5


async def test_prices_are_snapshotted_when_the_order_is_placed(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given an order of a variant at 10.00, when the variant's price becomes 25.00 (``PUT .../prices``),
    then the order still says 10.00, and a new order pays 25.00."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(amount=1000, quantity=10)
    order = await shop.order(shop.customer.headers, (variant["id"], 2))

    repriced = await client.put(
        f"/api/commerce/variants/{variant['id']}/prices",
        json={"prices": [{"currency": "EUR", "amount": 2500}]},
        headers=shop.manager,
    )
    assert repriced.status_code == 200, repriced.text

    again = (await shop.get(shop.customer.headers, order["id"])).json()
    assert (again["items"][0]["unit_price"], again["total"]) == (1000, 2000)
    assert (await shop.order(shop.customer.headers, (variant["id"], 2)))["total"] == 5000


async def test_order_numbers_count_per_tenant(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given two tenants, when acme gets three orders and globex one, then acme's are numbered 1, 2, 3
    and globex's starts at 1 again."""
    acme = await open_shop(client, app, make_uow, "acme")
    globex = await open_shop(client, app, make_uow, "globex")
    acme_variant = await acme.variant(quantity=10)
    globex_variant = await globex.variant(quantity=10)

    numbers = [(await acme.order(acme.customer.headers, (acme_variant["id"], 1)))["number"] for _ in range(2)]
    numbers.append((await acme.order(await acme.customer_headers(), (acme_variant["id"], 1)))["number"])

    assert numbers == [1, 2, 3]
    assert (await globex.order(globex.customer.headers, (globex_variant["id"], 1)))["number"] == 1
    assert (await acme.order(acme.customer.headers, (acme_variant["id"], 1)))["number"] == 4


async def test_only_a_signed_in_customer_or_an_admin_places_an_order(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Anonymous callers get a 401 on every order route; a manager (orders: read/list/update only) may not
    place one (403); an admin (manage) may."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(quantity=10)
    order = await shop.order(shop.customer.headers, (variant["id"], 1))
    nobody = anonymous(shop.tenant_id)

    problem(await shop.place(nobody, (variant["id"], 1)), 401, "unauthorized")
    problem(await client.get(ORDERS, headers=nobody), 401, "unauthorized")
    problem(await shop.get(nobody, order["id"]), 401, "unauthorized")
    problem(await shop.transition(nobody, order["id"], "paid"), 401, "unauthorized")
    problem(await shop.cancel(nobody, order["id"]), 401, "unauthorized")
    problem(await shop.place(shop.manager, (variant["id"], 1)), 403, "forbidden")
    admin = await login_as(client, app, shop.tenant_id, "admin")
    assert (await shop.order(admin, (variant["id"], 1)))["number"] == 2
    assert stock_of(await shop.stock(variant["id"])) == (10, 2, 8)
    assert (await shop.get(shop.customer.headers, order["id"])).json()["status"] == "pending"


# ------------------------------------------------------------------------------------------ read and list


async def test_customers_see_their_own_orders_and_staff_see_all(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given two orders by Ada and one by Bob, then Ada lists her two (newest first) and Bob his one; each
    gets a 404 for the other's order (read and cancel); a manager and an admin list and read all three."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(quantity=10)
    ada, bob = shop.customer.headers, await shop.customer_headers()
    first = await shop.order(ada, (variant["id"], 1))
    bobs = await shop.order(bob, (variant["id"], 1))
    second = await shop.order(ada, (variant["id"], 1))

    assert [o["id"] for o in await shop.listed(ada)] == [second["id"], first["id"]]
    assert [o["id"] for o in await shop.listed(bob)] == [bobs["id"]]
    problem(await shop.get(bob, first["id"]), 404, "not_found")
    problem(await shop.get(ada, bobs["id"]), 404, "not_found")
    problem(await shop.cancel(bob, first["id"]), 404, "not_found")
    problem(await shop.transition(bob, first["id"], "paid"), 404, "not_found")
    assert (await shop.get(ada, first["id"])).json()["status"] == "pending"  # Bob's cancel did nothing
    admin = await login_as(client, app, shop.tenant_id, "admin")
    for staff in (shop.manager, admin):
        assert [o["number"] for o in await shop.listed(staff)] == [3, 2, 1]
        for order in (first, bobs, second):
            assert (await shop.get(staff, order["id"])).json() == order
    problem(await shop.get(ada, str(uuid.uuid4())), 404, "not_found")
    problem(await shop.get(shop.manager, str(uuid.uuid4())), 404, "not_found")
    problem(await shop.get(shop.manager, "not-an-id"), 422, "validation_error")


async def test_the_order_list_filters_by_status_and_pages_with_a_cursor(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given five orders, two of them paid and one cancelled, then ``?status=`` lists those of the status
    (newest first, for staff and for the owner), an unknown status is a 422, and pages of two follow one
    another by cursor to the end, newest first, each order once."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(quantity=10)
    orders = [await shop.order(shop.customer.headers, (variant["id"], 1)) for _ in range(5)]
    for order in (orders[0], orders[3]):
        await shop.bring_to(order["id"], "paid")
    await shop.bring_to(orders[1]["id"], "cancelled")

    for headers in (shop.manager, shop.customer.headers):
        assert [o["number"] for o in await shop.listed(headers, status="paid")] == [4, 1]
        assert [o["number"] for o in await shop.listed(headers, status="cancelled")] == [2]
        assert [o["number"] for o in await shop.listed(headers, status="pending")] == [5, 3]
        assert await shop.listed(headers, status="shipped") == []
    problem(
        await client.get(ORDERS, params={"status": "lost"}, headers=shop.manager), 422, "validation_error"
    )

    numbers, cursor, pages = [], None, 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await client.get(ORDERS, params=params, headers=shop.customer.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        numbers += [o["number"] for o in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert numbers == [5, 4, 3, 2, 1]
    assert pages == 3
    listed = await shop.listed(shop.manager, limit=2, status="pending")
    assert [o["number"] for o in listed] == [5, 3]


# ------------------------------------------------------------------------------------------ status machine


async def test_an_order_goes_from_pending_to_completed_and_completion_takes_the_stock(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given an order of 3 from a stock of 10, when staff mark it paid, shipped and completed, then each
    step answers the order with its status and timestamp and records ``order.status_changed``; the stock
    stays reserved until completion, which turns the reservation into a decrement (quantity 7, reserved 0,
    available 7; ``inventory.updated`` 7 → 7) and records ``order.completed``."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(quantity=10)
    order = await shop.order(shop.customer.headers, (variant["id"], 3))

    for old, new, stamp in (("pending", "paid", "paid_at"), ("paid", "shipped", "shipped_at")):
        async with event_recorder.watch() as events:
            response = await shop.transition(shop.manager, order["id"], new)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == new
        assert response.json()[stamp] is not None
        assert response.json()["items"] == order["items"]
        assert (await shop.get(shop.customer.headers, order["id"])).json() == response.json()
        assert events.types == ["order.status_changed"]
        changed = events.one("order.status_changed").payload
        assert (changed.order_id, changed.old_status, changed.new_status) == (
            uuid.UUID(order["id"]),
            old,
            new,
        )
        assert stock_of(await shop.stock(variant["id"])) == (10, 3, 7)

    request_id = uuid.uuid4()
    async with event_recorder.watch() as events:
        response = await shop.transition(
            {**shop.manager, "X-Request-ID": str(request_id)}, order["id"], "completed"
        )

    assert response.status_code == 200, response.text
    done = response.json()
    assert done["status"] == "completed"
    assert None not in (done["paid_at"], done["shipped_at"], done["completed_at"])
    assert done["cancelled_at"] is None
    assert stock_of(await shop.stock(variant["id"])) == (7, 0, 7)
    assert sorted(events.types) == ["inventory.updated", "order.completed", "order.status_changed"]
    updated = events.one("inventory.updated").payload
    assert (updated.old_quantity, updated.new_quantity) == (7, 7)
    changed = events.one("order.status_changed").payload
    assert (changed.old_status, changed.new_status) == ("shipped", "completed")
    assert events.one("order.completed").payload.order_id == uuid.UUID(order["id"])
    assert {e.correlation_id for e in events} == {request_id}
    assert (await shop.get(shop.customer.headers, order["id"])).json() == done


@pytest.mark.parametrize("start", STATUSES)
async def test_every_transition_off_the_path_is_a_409_invalid_transition(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder, start: str
) -> None:
    """Given an order in ``start``, when staff ask each target status, then only the next step on
    pending → paid → shipped → completed is a 200; every other (skips, steps back, repeats, anything from
    completed or cancelled) is a 409 ``invalid_transition`` that changes and records nothing."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(quantity=10)
    refused = [target for target in TARGETS if (start, target) not in ALLOWED]
    order = await shop.order(shop.customer.headers, (variant["id"], 2))
    await shop.bring_to(order["id"], start)
    stock = await shop.stock(variant["id"])

    async with event_recorder.watch() as events:
        for target in refused:
            problem(await shop.transition(shop.manager, order["id"], target), 409, "invalid_transition")

    assert events.types == []
    assert (await shop.get(shop.manager, order["id"])).json()["status"] == start
    assert await shop.stock(variant["id"]) == stock
    for target in TARGETS:
        if (start, target) in ALLOWED:
            assert (await shop.transition(shop.manager, order["id"], target)).status_code == 200


async def test_a_transition_body_names_a_forward_status(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """``pending`` and ``cancelled`` (cancelling has its own route), unknown statuses and extra fields are
    a 422, not a transition."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(quantity=10)
    order = await shop.order(shop.customer.headers, (variant["id"], 1))
    path = f"{ORDERS}/{order['id']}/transition"

    for body in (
        {"status": "pending"},
        {"status": "cancelled"},
        {"status": "lost"},
        {},
        {"status": "paid", "x": 1},
    ):
        problem(await client.post(path, json=body, headers=shop.manager), 422, "validation_error")

    assert (await shop.get(shop.manager, order["id"])).json()["status"] == "pending"
    problem(await shop.transition(shop.manager, str(uuid.uuid4()), "paid"), 404, "not_found")


async def test_a_customer_may_not_move_its_own_order_along(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a customer's pending order, when the customer asks to mark it paid (or any step), then it is
    a 403 and nothing changes."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(quantity=10)
    order = await shop.order(shop.customer.headers, (variant["id"], 1))

    async with event_recorder.watch() as events:
        for target in TARGETS:
            problem(await shop.transition(shop.customer.headers, order["id"], target), 403, "forbidden")

    assert events.types == []
    assert (await shop.get(shop.customer.headers, order["id"])).json()["status"] == "pending"


# ---------------------------------------------------------------------------------------------- cancel


async def test_the_owner_cancels_a_pending_order_and_its_stock_is_released(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a customer's order of 3 from 10, when the customer cancels it with a reason, then it is
    cancelled (timestamp, reason), the reservation is released (available 10 again) and the request
    recorded ``inventory.updated`` (7 → 10), ``order.status_changed`` (pending → cancelled) and
    ``order.cancelled`` with the reason."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(quantity=10)
    order = await shop.order(shop.customer.headers, (variant["id"], 3))
    request_id = uuid.uuid4()

    async with event_recorder.watch() as events:
        response = await shop.cancel(
            {**shop.customer.headers, "X-Request-ID": str(request_id)},
            order["id"],
            {"reason": "Changed my mind"},
        )

    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "Changed my mind"
    assert cancelled["cancelled_at"] is not None
    assert stock_of(await shop.stock(variant["id"])) == (10, 0, 10)
    assert sorted(events.types) == ["inventory.updated", "order.cancelled", "order.status_changed"]
    updated = events.one("inventory.updated").payload
    assert (updated.old_quantity, updated.new_quantity) == (7, 10)
    changed = events.one("order.status_changed").payload
    assert (changed.old_status, changed.new_status) == ("pending", "cancelled")
    gone = events.one("order.cancelled").payload
    assert (gone.order_id, gone.reason) == (uuid.UUID(order["id"]), "Changed my mind")
    assert {e.correlation_id for e in events} == {request_id}
    assert (await shop.get(shop.manager, order["id"])).json() == cancelled


async def test_cancelling_needs_no_body(client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW) -> None:
    """The cancel body is optional: none at all, ``{}`` and ``{"reason": null}`` all cancel, without a
    reason; an unknown field is a 422."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(quantity=10)

    bodies: list[dict[str, Any]] = [{}, {"json": {}}, {"json": {"reason": None}}]
    for kwargs in bodies:
        order = await shop.order(shop.customer.headers, (variant["id"], 1))
        response = await client.post(
            f"{ORDERS}/{order['id']}/cancel", headers=shop.customer.headers, **kwargs
        )
        assert response.status_code == 200, (kwargs, response.text)
        assert (response.json()["status"], response.json()["cancel_reason"]) == ("cancelled", None)
    order = await shop.order(shop.customer.headers, (variant["id"], 1))
    problem(await shop.cancel(shop.customer.headers, order["id"], {"why": "x"}), 422, "validation_error")
    assert stock_of(await shop.stock(variant["id"])) == (10, 1, 9)


@pytest.mark.parametrize("start", STATUSES)
async def test_who_may_cancel_an_order_in_each_status(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder, start: str
) -> None:
    """Given an order of 4 from 10 in ``start``: the owner may cancel it only while pending; staff while
    pending, paid or shipped (releasing its 4); completed and cancelled orders are final. A refusal is a 409
    ``invalid_transition`` that changes and records nothing."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(quantity=10)
    order = await shop.order(shop.customer.headers, (variant["id"], 4))
    await shop.bring_to(order["id"], start)
    stock = await shop.stock(variant["id"])

    if start != "pending":
        async with event_recorder.watch() as events:
            problem(await shop.cancel(shop.customer.headers, order["id"]), 409, "invalid_transition")
        assert events.types == []
        assert await shop.stock(variant["id"]) == stock
    if start in ("completed", "cancelled"):
        async with event_recorder.watch() as events:
            problem(await shop.cancel(shop.manager, order["id"]), 409, "invalid_transition")
        assert events.types == []
        assert await shop.stock(variant["id"]) == stock
        assert (await shop.get(shop.manager, order["id"])).json()["status"] == start
        return

    canceller = shop.customer.headers if start == "pending" else shop.manager
    async with event_recorder.watch() as events:
        response = await shop.cancel(canceller, order["id"], {"reason": "out of business"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert stock_of(await shop.stock(variant["id"])) == (10, 0, 10)
    assert events.one("order.status_changed").payload.old_status == start
    assert events.one("order.cancelled").payload.reason == "out of business"
    # Cancelled is final: neither a second cancel nor a transition.
    problem(await shop.cancel(shop.manager, order["id"]), 409, "invalid_transition")
    problem(await shop.transition(shop.manager, order["id"], "paid"), 409, "invalid_transition")
    assert stock_of(await shop.stock(variant["id"])) == (10, 0, 10)


async def test_staff_cancel_a_paid_order_of_another_customer(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """An admin (manage) cancels a shipped order, as a manager may: staff act on every customer's order."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(quantity=5)
    order = await shop.order(shop.customer.headers, (variant["id"], 5))
    await shop.bring_to(order["id"], "shipped")
    admin = await login_as(client, app, shop.tenant_id, "admin")

    assert (await shop.cancel(admin, order["id"])).json()["status"] == "cancelled"
    assert stock_of(await shop.stock(variant["id"])) == (5, 0, 5)


# ---------------------------------------------------------------------------------------------- tenants


async def test_another_tenants_staff_cannot_see_move_or_cancel_an_order(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given an order in acme, then globex's manager and admin get a 404 reading, moving and cancelling it,
    list none of it, and a globex customer cannot order acme's variant (422 ``variant_unavailable``);
    acme's order and stock are untouched."""
    acme = await open_shop(client, app, make_uow, "acme")
    globex = await open_shop(client, app, make_uow, "globex")
    variant = await acme.variant(quantity=10)
    order = await acme.order(acme.customer.headers, (variant["id"], 2))
    globex_admin = await login_as(client, app, globex.tenant_id, "admin")

    async with event_recorder.watch() as events:
        for staff in (globex.manager, globex_admin):
            problem(await acme.get(staff, order["id"]), 404, "not_found")
            problem(await acme.transition(staff, order["id"], "paid"), 404, "not_found")
            problem(await acme.cancel(staff, order["id"]), 404, "not_found")
            assert await globex.listed(staff) == []
        problem(await globex.place(globex.customer.headers, (variant["id"], 1)), 422, "variant_unavailable")

    assert events.types == []
    assert (await acme.get(acme.manager, order["id"])).json()["status"] == "pending"
    assert stock_of(await acme.stock(variant["id"])) == (10, 2, 8)
    # A token of acme sent to globex's tenant is not honoured as globex's user.
    crossed = {**acme.manager, "X-Tenant-ID": str(globex.tenant_id)}
    assert (await client.get(f"{ORDERS}/{order['id']}", headers=crossed)).status_code in (401, 403, 404)


# -------------------------------------------------------------------------------- the catalog changes after


async def test_an_order_keeps_the_sku_and_title_it_was_placed_with(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given an order of "Shirt" (SKU SHIRT-1), when the product is renamed "Tee" and the SKU changed, then
    the order still reads "Shirt" and SHIRT-1 (lines are copies), and a new order has the new ones."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(title="Shirt", sku="SHIRT-1", quantity=10)
    order = await shop.order(shop.customer.headers, (variant["id"], 1))

    renamed = await client.patch(
        f"/api/commerce/products/{variant['product_id']}",
        json={"translations": [{"locale": "en", "title": "Tee"}]},
        headers=shop.manager,
    )
    assert renamed.status_code == 200, renamed.text
    resku = await client.patch(
        f"/api/commerce/variants/{variant['id']}", json={"sku": "TEE-1"}, headers=shop.manager
    )
    assert resku.status_code == 200, resku.text

    [line] = (await shop.get(shop.customer.headers, order["id"])).json()["items"]
    assert (line["sku"], line["title"]) == ("SHIRT-1", "Shirt")
    [line] = (await shop.order(shop.customer.headers, (variant["id"], 1)))["items"]
    assert (line["sku"], line["title"]) == ("TEE-1", "Tee")


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
async def test_an_order_of_a_deleted_variant_stays_readable_and_can_still_be_cancelled(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a pending order, when its variant is deleted (with its stock), then the order still reads
    with its copied line (no variant id any more), and cancelling it is a 200 that has no stock left to
    release (no ``inventory.updated``)."""
    shop = await open_shop(client, app, make_uow)
    keep = await shop.variant(title="Kept", quantity=10)
    doomed = await shop.variant(title="Doomed", sku="DOOMED", quantity=10)
    order = await shop.order(shop.customer.headers, (doomed["id"], 2), (keep["id"], 1))

    deleted = await client.delete(f"/api/commerce/variants/{doomed['id']}", headers=shop.manager)
    assert deleted.status_code == 204, deleted.text

    lines = {
        line["sku"]: line for line in (await shop.get(shop.customer.headers, order["id"])).json()["items"]
    }
    assert lines["DOOMED"]["variant_id"] is None
    assert (lines["DOOMED"]["title"], lines["DOOMED"]["quantity"], lines["DOOMED"]["total"]) == (
        "Doomed",
        2,
        2000,
    )
    async with event_recorder.watch() as events:
        response = await shop.cancel(shop.customer.headers, order["id"])
    assert response.status_code == 200, response.text
    assert [e.payload.variant_id for e in events.of_type("inventory.updated")] == [uuid.UUID(keep["id"])]
    assert stock_of(await shop.stock(keep["id"])) == (10, 0, 10)


async def test_a_variant_with_no_stock_recorded_cannot_be_ordered(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a variant that manages inventory but was made without a quantity, when a customer orders
    one, then it is a 409 ``insufficient_stock``; once stock is set it can be ordered."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant()

    problem(await shop.place(shop.customer.headers, (variant["id"], 1)), 409, "insufficient_stock")
    assert stock_of(await shop.stock(variant["id"])) == (0, 0, 0)
    stocked = await client.post(
        f"/api/commerce/variants/{variant['id']}/inventory/set", json={"quantity": 2}, headers=shop.manager
    )
    assert stocked.status_code == 200, stocked.text
    await shop.order(shop.customer.headers, (variant["id"], 2))
    assert stock_of(await shop.stock(variant["id"])) == (2, 2, 0)


async def test_an_order_whose_total_is_beyond_what_can_be_stored_is_refused_not_a_500(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a variant at the highest price the catalog accepts (10^15 minor units) with stock for 10,000,
    when a customer orders 10,000 (the most an order line accepts), then the line total (10^19) is beyond
    the BIGINT columns that store it (2^63 - 1): the order must be refused as invalid (422), never answered
    with a 500 (api.md: a 5xx is always a bug), and nothing is reserved."""
    shop = await open_shop(client, app, make_uow)
    variant = await shop.variant(amount=10**15, quantity=10_000)

    response = await shop.place(shop.customer.headers, (variant["id"], 10_000))

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "amount_out_of_range"
    assert stock_of(await shop.stock(variant["id"])) == (10_000, 0, 10_000)


async def test_the_test_kits_factories_make_a_product_a_variant_and_an_order(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given the factories of `rustok.testing.commerce`, when a manager makes an active product and a
    stocked variant and a customer orders two, then the order is pending with the variant's price, and the
    variant's stock shows the reservation."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    product = await make_product(client, manager, status="active")
    variant = await make_variant(client, manager, product["id"], amount=1250, quantity=5)

    order = await make_order(client, customer, [(variant["id"], 2)])

    assert (order["status"], order["currency"], order["total"]) == ("pending", "EUR", 2500)
    stock = await client.get(f"/api/commerce/variants/{variant['id']}/inventory", headers=manager)
    assert (stock.json()["quantity"], stock.json()["reserved"], stock.json()["available"]) == (5, 2, 3)
