"""Orders under real concurrency, on both backends: many orders racing for the last units of stock, for
two hot variants at once (in either item order), for a tenant's first order numbers, and staff racing to
change one order's status. Each test runs the real app on a migrated database of its own
(`isolated_database_url`) whose transactions really commit, so concurrent requests run on separate
connections (the ``client`` fixture shares one connection, which serializes everything).

The requests race through the kit's `rustok.testing.at_once`: on PostgreSQL it holds the tenant's
outbox lock, so every request does its reads and writes and then waits on a lock (the outbox lock, or the
row lock of the stock level or order another request holds) until all of them are waiting; then it lets
them go. On SQLite a writing unit of work takes the write lock up front (``BEGIN IMMEDIATE``), so writers
queue and no barrier is needed (or possible).

What the API promises is the same on both: a reservation never takes more than is available (api.md:
"concurrent orders never sell more than available"), every placed order has its own number, no deadlock
and no 5xx.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI

from rustok.bootstrap import Runtime
from rustok.core.settings import Settings
from rustok.outbox.registry import ConsumerRegistry
from rustok.testing import EventRecorder, at_once, live_app, login_as, new_tenant
from rustok.testing.commerce import make_product, make_variant

ORDERS = "/api/commerce/orders"
STOCK = 10
ORDERS_AT_ONCE = 50
CUSTOMERS = 5
HOT_STOCK = 5
MULTI_LINE_ORDERS = 20
FIRST_ORDERS = 20
RACERS = 4


@dataclass(frozen=True, slots=True)
class Live:
    """An app on a database of its own (its runtime), started, with a client on it and a tenant with a
    manager."""

    runtime: Runtime
    app: FastAPI
    client: httpx.AsyncClient
    tenant_id: uuid.UUID
    manager: dict[str, str]

    def recorder(self) -> EventRecorder:
        return EventRecorder(self.runtime.sessions)

    async def at_once(self, requests: Sequence[Awaitable[httpx.Response]]) -> list[httpx.Response]:
        """The requests, concurrently, lined up at their commit on PostgreSQL (`rustok.testing.at_once`)."""
        return await at_once(self.runtime.engine, self.tenant_id, requests)

    async def customers(self, count: int) -> list[dict[str, str]]:
        return [await login_as(self.client, self.app, self.tenant_id, "customer") for _ in range(count)]

    async def managers(self, count: int) -> list[dict[str, str]]:
        return [await login_as(self.client, self.app, self.tenant_id, "manager") for _ in range(count)]

    async def variant(self, quantity: int, **fields: Any) -> Any:
        product = await make_product(self.client, self.manager, status="active")
        return await make_variant(self.client, self.manager, product["id"], quantity=quantity, **fields)

    async def stock(self, variant_id: str) -> tuple[int, int, int]:
        """(quantity, reserved, available) of the variant."""
        response = await self.client.get(
            f"/api/commerce/variants/{variant_id}/inventory", headers=self.manager
        )
        assert response.status_code == 200, response.text
        level = response.json()
        return level["quantity"], level["reserved"], level["available"]

    def place(self, headers: dict[str, str], *variant_ids: str) -> Awaitable[httpx.Response]:
        """One unit of each variant, in the order given."""
        items = [{"variant_id": variant_id, "quantity": 1} for variant_id in variant_ids]
        return self.client.post(ORDERS, json={"currency": "EUR", "items": items}, headers=headers)

    async def order(self, headers: dict[str, str], order_id: str) -> Any:
        response = await self.client.get(f"{ORDERS}/{order_id}", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest_asyncio.fixture(loop_scope="session")
async def live(isolated_settings: Settings) -> AsyncIterator[Live]:
    """The real app on a runtime of its own on the test's own database (`live_app`; its engine's pool big
    enough for every racer, and the barrier, to hold a connection at once: 40 plus as many overflow), a
    client on it, and a tenant ``acme`` with a manager signed in."""
    configured = isolated_settings.model_copy(update={"database_pool_size": 40})
    async with live_app(configured, consumers=ConsumerRegistry()) as started:
        tenant_id = await new_tenant(started.uow, "acme")
        manager = await login_as(started.client, started.app, tenant_id, "manager")
        yield Live(started.runtime, started.app, started.client, tenant_id, manager)


def outcomes(responses: Sequence[httpx.Response]) -> Counter[tuple[int, str | None]]:
    """How many responses of each (status, problem code)."""
    found: Counter[tuple[int, str | None]] = Counter()
    for response in responses:
        code = response.json().get("code") if response.status_code >= 400 else None
        found[(response.status_code, code)] += 1
    return found


def available_after_each(events: Any, variant_id: str) -> list[int]:
    """The variant's available quantity after each recorded change, in commit order."""
    return [
        e.payload.new_quantity
        for e in events.of_type("inventory.updated")
        if e.payload.variant_id == uuid.UUID(variant_id)
    ]


# ------------------------------------------------------------------------------------------------- stock


async def test_fifty_orders_for_the_last_ten_units_place_exactly_ten(live: Live) -> None:
    """Given a variant with 10 in stock and 5 customers, when they place 50 single-unit orders at the same
    time, then exactly 10 are 201 and 40 are 409 ``insufficient_stock`` (no other answer); stock is
    quantity 10, reserved 10, available 0, and was never negative (each reservation saw the one before:
    available went 9, 8, ..., 0); the 10 orders are numbered 1 to 10, each once, 10 ``order.placed`` were
    recorded and one ``inventory.low`` (the variant's threshold of 3 crossed once). When the 10 are then
    cancelled at the same time, available is 10 again."""
    variant = await live.variant(STOCK, low_stock_threshold=3)
    customers = await live.customers(CUSTOMERS)

    async with live.recorder().watch() as events:
        responses = await live.at_once(
            [live.place(customers[n % CUSTOMERS], variant["id"]) for n in range(ORDERS_AT_ONCE)]
        )

    assert outcomes(responses) == {
        (201, None): STOCK,
        (409, "insufficient_stock"): ORDERS_AT_ONCE - STOCK,
    }, [r.text for r in responses if r.status_code not in (201, 409)]
    assert await live.stock(variant["id"]) == (STOCK, STOCK, 0)
    assert available_after_each(events, variant["id"]) == list(range(STOCK - 1, -1, -1))
    placed = [r.json() for r in responses if r.status_code == 201]
    assert sorted(o["number"] for o in placed) == list(range(1, STOCK + 1))
    assert len(events.of_type("order.placed")) == STOCK
    assert events.one("inventory.low").payload.remaining == 3
    assert {e.payload.order_id for e in events.of_type("order.placed")} == {
        uuid.UUID(o["id"]) for o in placed
    }
    listed = await live.client.get(ORDERS, params={"limit": 100}, headers=live.manager)
    assert len(listed.json()["items"]) == STOCK
    assert all(o["status"] == "pending" for o in listed.json()["items"])
    assert len({o["customer_id"] for o in placed}) > 1  # several customers got some

    cancels = await live.at_once(
        [live.client.post(f"{ORDERS}/{o['id']}/cancel", headers=live.manager) for o in placed]
    )

    assert outcomes(cancels) == {(200, None): STOCK}, [r.text for r in cancels]
    assert await live.stock(variant["id"]) == (STOCK, 0, STOCK)


async def test_orders_for_two_hot_variants_in_either_order_do_not_deadlock_or_oversell(live: Live) -> None:
    """Given two variants with 5 in stock each, when 20 orders each wanting one of both (half listing them
    one way, half the other) are placed at the same time, then exactly 5 are placed and 15 are 409
    ``insufficient_stock``: no deadlock (no 5xx), no half-placed order, no oversell (both variants at
    reserved 5, available 0)."""
    first = await live.variant(HOT_STOCK)
    second = await live.variant(HOT_STOCK)
    customers = await live.customers(CUSTOMERS)
    pairs = [(first["id"], second["id"]), (second["id"], first["id"])]

    async with live.recorder().watch() as events:
        responses = await live.at_once(
            [live.place(customers[n % CUSTOMERS], *pairs[n % 2]) for n in range(MULTI_LINE_ORDERS)],
        )

    assert outcomes(responses) == {
        (201, None): HOT_STOCK,
        (409, "insufficient_stock"): MULTI_LINE_ORDERS - HOT_STOCK,
    }, [r.text for r in responses if r.status_code not in (201, 409)]
    for variant in (first, second):
        assert await live.stock(variant["id"]) == (HOT_STOCK, HOT_STOCK, 0)
        assert available_after_each(events, variant["id"]) == list(range(HOT_STOCK - 1, -1, -1))
    for response in (r for r in responses if r.status_code == 201):
        assert sorted(line["variant_id"] for line in response.json()["items"]) == sorted(pairs[0])
    assert sorted(r.json()["number"] for r in responses if r.status_code == 201) == list(
        range(1, HOT_STOCK + 1)
    )


async def test_a_tenants_first_orders_placed_at_once_are_numbered_one_to_n(live: Live) -> None:
    """Given a tenant with no order yet (its number counter does not exist) and 20 customers each with a
    variant of their own, when they all order at the same time, then all 20 are placed, numbered 1 to 20,
    each once (the counter row made by one, drawn from by the others)."""
    customers = await live.customers(FIRST_ORDERS)
    variants = [await live.variant(1) for _ in range(FIRST_ORDERS)]

    responses = await live.at_once(
        [live.place(headers, variant["id"]) for headers, variant in zip(customers, variants, strict=True)],
    )

    assert outcomes(responses) == {(201, None): FIRST_ORDERS}, [
        r.text for r in responses if r.status_code != 201
    ]
    assert sorted(r.json()["number"] for r in responses) == list(range(1, FIRST_ORDERS + 1))
    for variant in variants:
        assert await live.stock(variant["id"]) == (1, 1, 0)


# ------------------------------------------------------------------------------------------------ status


async def test_staff_cancelling_one_order_at_once_release_its_stock_once(live: Live) -> None:
    """Given a paid order of 3 from 10, when several managers cancel it at the same time, then exactly one
    is a 200 and the others 409 ``invalid_transition``; the reservation is released once (reserved 0, not
    below) and one ``order.cancelled`` is recorded."""
    variant = await live.variant(STOCK)
    [customer] = await live.customers(1)
    order = (
        await live.client.post(
            ORDERS,
            json={"currency": "EUR", "items": [{"variant_id": variant["id"], "quantity": 3}]},
            headers=customer,
        )
    ).json()
    paid = await live.client.post(
        f"{ORDERS}/{order['id']}/transition", json={"status": "paid"}, headers=live.manager
    )
    assert paid.status_code == 200, paid.text
    managers = await live.managers(RACERS)

    async with live.recorder().watch() as events:
        responses = await live.at_once(
            [live.client.post(f"{ORDERS}/{order['id']}/cancel", headers=h) for h in managers]
        )

    assert outcomes(responses) == {(200, None): 1, (409, "invalid_transition"): RACERS - 1}, [
        r.text for r in responses
    ]
    assert await live.stock(variant["id"]) == (STOCK, 0, STOCK)
    assert events.types.count("order.cancelled") == 1
    assert events.types.count("inventory.updated") == 1
    assert (await live.order(customer, order["id"]))["status"] == "cancelled"


async def test_completing_and_cancelling_one_order_at_once_applies_one_of_them(live: Live) -> None:
    """Given a shipped order of 4 from 10, when one manager completes it while others cancel it, then
    exactly one change is a 200 and the rest are 409 ``invalid_transition``, and the stock shows that one
    change only: completed takes the 4 (quantity 6, reserved 0), cancelled gives them back (quantity 10,
    reserved 0)."""
    variant = await live.variant(STOCK)
    [customer] = await live.customers(1)
    order = (
        await live.client.post(
            ORDERS,
            json={"currency": "EUR", "items": [{"variant_id": variant["id"], "quantity": 4}]},
            headers=customer,
        )
    ).json()
    for step in ("paid", "shipped"):
        moved = await live.client.post(
            f"{ORDERS}/{order['id']}/transition", json={"status": step}, headers=live.manager
        )
        assert moved.status_code == 200, moved.text
    managers = await live.managers(RACERS)
    path = f"{ORDERS}/{order['id']}"

    responses = await live.at_once(
        [live.client.post(f"{path}/transition", json={"status": "completed"}, headers=managers[0])]
        + [live.client.post(f"{path}/cancel", headers=h) for h in managers[1:]],
    )

    assert outcomes(responses) == {(200, None): 1, (409, "invalid_transition"): RACERS - 1}, [
        r.text for r in responses
    ]
    status = (await live.order(customer, order["id"]))["status"]
    expected = {"completed": (STOCK - 4, 0, STOCK - 4), "cancelled": (STOCK, 0, STOCK)}
    assert await live.stock(variant["id"]) == expected[status]
