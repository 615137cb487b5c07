"""Factories for the catalog and orders, made through the real HTTP API (so a test's data went through
every rule a client's would)::

    headers = await login_as(client, app, tenant_id, "manager")
    shirt = await make_product(client, headers, title="Shirt", status="active",
                               options=[{"name": "Size", "values": ["S", "M"]}])
    small = await make_variant(client, headers, shirt["id"], options={"Size": "S"}, quantity=5)
"""

from __future__ import annotations

from typing import Any

import httpx

from rustok.core.ids import new_id

PRODUCTS = "/api/commerce/products"


async def _created(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> Any:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def make_product(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    title: str = "Shirt",
    locale: str = "en",
    status: str | None = None,
    options: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Any:
    """A product with one translation; ``fields`` go into the request as they are (``metadata``, more
    ``translations``...; a ``handle`` goes into the translation)."""
    translation: dict[str, Any] = {"locale": locale, "title": title}
    for key in ("handle", "subtitle", "description"):
        if key in fields:
            translation[key] = fields.pop(key)
    data: dict[str, Any] = {"translations": [translation], **fields}
    if status is not None:
        data["status"] = status
    if options is not None:
        data["options"] = options
    return await _created(client, PRODUCTS, data, headers)


async def make_variant(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    product_id: str,
    *,
    sku: str | None = None,
    amount: int = 1000,
    currency: str = "EUR",
    quantity: int | None = None,
    **fields: Any,
) -> Any:
    """A variant of the product with one price (``amount`` in ``currency``) and, with ``quantity``, that
    stock on hand; ``sku`` defaults to a unique one; ``fields`` go into the request as they are
    (``options``, ``prices`` instead of the one price, ``low_stock_threshold``...)."""
    data: dict[str, Any] = {
        "sku": sku or f"SKU-{new_id().hex[-12:]}",
        "prices": [{"currency": currency, "amount": amount}],
        **fields,
    }
    if quantity is not None:
        data["inventory_quantity"] = quantity
    return await _created(client, f"{PRODUCTS}/{product_id}/variants", data, headers)


async def make_order(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    items: list[tuple[str, int]],
    *,
    currency: str = "EUR",
    **fields: Any,
) -> Any:
    """An order of ``items`` (``(variant_id, quantity)`` pairs) placed by the caller of ``headers`` (a
    customer's, usually); ``fields`` go into the request as they are (``email``, ``shipping_address``)."""
    body = {
        "currency": currency,
        "items": [{"variant_id": variant_id, "quantity": quantity} for variant_id, quantity in items],
        **fields,
    }
    return await _created(client, "/api/commerce/orders", body, headers)
