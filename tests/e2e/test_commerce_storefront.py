"""Storefront reads of the catalog (docs/commerce.md, "Storefront reads"): a product page and a list page
from the public API, anonymously, in one request each: products by handle, with their variants, prices (in
one currency when asked), availability and images, descriptions rendered and sanitized, lists filtered by
price and stock and sorted by price, with cursors; drafts stay invisible; no N+1."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork
from rustok.tenants.schemas import LocaleIn
from rustok.tenants.service import enable_locale
from rustok.testing import (
    EventRecorder,
    count_statements,
    login_as,
    make_product,
    make_variant,
    new_tenant,
    upload_media,
)

MakeUoW = Callable[..., UnitOfWork]
PRODUCTS = "/api/commerce/products"
BY_HANDLE = f"{PRODUCTS}/by-handle"


# ---------------------------------------------------------------------------------------------- helpers


def anonymous(tenant_id: uuid.UUID) -> dict[str, str]:
    return {"X-Tenant-ID": str(tenant_id)}


async def enable_locales(make_uow: MakeUoW, tenant_id: uuid.UUID, *locales: str) -> None:
    async with make_uow(TenantScope.of(tenant_id)) as uow:
        for locale in locales:
            await enable_locale(uow, tenant_id, LocaleIn(locale=locale))


async def shop(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, **tenant: Any
) -> tuple[uuid.UUID, dict[str, str]]:
    """A tenant ``acme`` (with ``tenant``'s fields, e.g. ``settings``) and the headers of a manager of it."""
    acme = await new_tenant(make_uow, "acme", **tenant)
    return acme, await login_as(client, app, acme, "manager")


async def get(client: httpx.AsyncClient, headers: dict[str, str], path: str, **params: Any) -> Any:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def problem(response: httpx.Response, status: int, code: str) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    return body


async def walk(client: httpx.AsyncClient, headers: dict[str, str], limit: int, **params: Any) -> list[Any]:
    """Every page of the list, following the cursors; the items in the order served."""
    items: list[Any] = []
    cursor = None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        page = await get(client, headers, PRODUCTS, **query)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def titles(items: list[Any]) -> list[str]:
    return [item["translations"][0]["title"] for item in items]


# ------------------------------------------------------------------------------------------- by handle


async def test_a_product_is_read_by_handle_in_the_asked_locale_else_the_default_else_any(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given an active product with handles ``shirt`` (en, the default) and ``hemd`` (de), and another whose
    only translation is in ``fr`` with the handle ``shirt``, when it is read by handle, then ``shirt``
    finds the English one (its default translation) unless ``fr`` is asked; ``hemd`` is found from any
    locale, served in the asked one when the product has it; an unknown handle is a 404."""
    acme, manager = await shop(client, app, make_uow)
    await enable_locales(make_uow, acme, "de", "fr")
    english = await make_product(
        client,
        manager,
        status="active",
        translations=[
            {"locale": "en", "title": "Shirt", "handle": "shirt"},
            {"locale": "de", "title": "Hemd", "handle": "hemd"},
        ],
    )
    french = await make_product(
        client, manager, title="Chemise", locale="fr", handle="shirt", status="active"
    )
    visitor = anonymous(acme)

    plain = await get(client, visitor, f"{BY_HANDLE}/shirt")
    asked_fr = await get(client, visitor, f"{BY_HANDLE}/shirt", locale="fr")
    asked_de = await get(client, visitor, f"{BY_HANDLE}/shirt", locale="de")
    german = await get(client, visitor, f"{BY_HANDLE}/hemd", locale="de")
    german_in_it = await get(client, visitor, f"{BY_HANDLE}/hemd", locale="it")
    missing = await client.get(f"{BY_HANDLE}/nothing", headers=visitor)

    assert plain["id"] == english["id"]
    assert {t["locale"] for t in plain["translations"]} == {"en", "de"}
    assert asked_fr["id"] == french["id"]
    assert asked_de["id"] == english["id"]  # no "shirt" in de: the default locale's is preferred
    assert [t["locale"] for t in asked_de["translations"]] == ["de"]
    assert german["id"] == english["id"]
    assert [t["title"] for t in german["translations"]] == ["Hemd"]
    assert [t["locale"] for t in german_in_it["translations"]] == ["en"]  # served: the default
    problem(missing, 404, "not_found")


async def test_a_draft_is_invisible_to_anonymous_callers_and_customers_everywhere(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a draft product with a variant, when anonymous callers and customers read it by id or handle,
    or list (also filtered and by price), then it is a 404 and absent; a manager sees it."""
    acme, manager = await shop(client, app, make_uow)
    draft = await make_product(client, manager, title="Secret", handle="secret")
    await make_variant(client, manager, draft["id"], amount=100, quantity=3)
    customer = await login_as(client, app, acme, "customer")

    for caller in (anonymous(acme), customer):
        problem(await client.get(f"{PRODUCTS}/{draft['id']}", headers=caller), 404, "not_found")
        problem(await client.get(f"{BY_HANDLE}/secret", headers=caller), 404, "not_found")
        for params in ({}, {"currency": "EUR", "sort": "price"}, {"in_stock": "true"}):
            assert (await get(client, caller, PRODUCTS, **params))["items"] == []
    assert (await get(client, manager, f"{BY_HANDLE}/secret"))["id"] == draft["id"]
    assert [p["id"] for p in (await get(client, manager, PRODUCTS, currency="EUR"))["items"]] == [draft["id"]]


# ----------------------------------------------------------------------------- variants, prices, stock


async def test_reads_embed_variants_with_prices_filtered_by_currency(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given an active product with two variants priced in EUR and USD, when it is read with and without
    ``?currency=``, then every variant comes with all its prices, or only the asked currency's, by rank;
    a currency none of the shop's prices is in is a 422 ``currency_not_sold``, a code that is no currency
    a 422 ``validation_error``."""
    acme, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager, status="active", handle="mug")
    prices = [{"currency": "EUR", "amount": 900}, {"currency": "USD", "amount": 1000}]
    large = await make_variant(client, manager, product["id"], sku="MUG-L", prices=prices, rank=2)
    small = await make_variant(
        client, manager, product["id"], sku="MUG-S", prices=[{"currency": "EUR", "amount": 700}], rank=1
    )
    visitor = anonymous(acme)

    everything = await get(client, visitor, f"{PRODUCTS}/{product['id']}")
    in_usd = await get(client, visitor, f"{BY_HANDLE}/mug", currency="USD")
    listed = await get(client, visitor, PRODUCTS, currency="EUR")
    not_sold = await client.get(f"{PRODUCTS}/{product['id']}", params={"currency": "GBP"}, headers=visitor)
    not_a_currency = await client.get(PRODUCTS, params={"currency": "XXX"}, headers=visitor)

    assert [v["id"] for v in everything["variants"]] == [small["id"], large["id"]]
    assert [[p["currency"] for p in v["prices"]] for v in everything["variants"]] == [["EUR"], ["EUR", "USD"]]
    assert [v["prices"] for v in in_usd["variants"]] == [
        [],
        [{"currency": "USD", "amount": 1000, "compare_at_amount": None}],
    ]
    assert [[p["amount"] for p in v["prices"]] for v in listed["items"][0]["variants"]] == [[700], [900]]
    problem(not_sold, 422, "currency_not_sold")
    problem(not_a_currency, 422, "validation_error")


async def test_everyone_sees_in_stock_and_only_inventory_readers_see_how_many(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given variants with stock, sold out, sold out with backorders, and not managing stock, when an
    anonymous caller, a customer and a manager read the product, then all see ``in_stock`` (true but for
    the sold-out one), and only the manager (``inventory:read``) sees ``available``."""
    acme, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager, status="active")
    pid = product["id"]
    await make_variant(client, manager, pid, sku="STOCKED", quantity=4, rank=1)
    await make_variant(client, manager, pid, sku="SOLD-OUT", quantity=0, rank=2)
    await make_variant(client, manager, pid, sku="BACKORDER", allow_backorder=True, rank=3)
    await make_variant(client, manager, pid, sku="UNMANAGED", manage_inventory=False, rank=4)
    customer = await login_as(client, app, acme, "customer")

    def stock(body: Any) -> list[tuple[str, bool, int | None]]:
        return [(v["sku"], v["in_stock"], v["available"]) for v in body["variants"]]

    seen = {"stocked": True, "sold": False, "backorder": True, "unmanaged": True}
    hidden = [
        ("STOCKED", seen["stocked"], None),
        ("SOLD-OUT", seen["sold"], None),
        ("BACKORDER", seen["backorder"], None),
        ("UNMANAGED", seen["unmanaged"], None),
    ]
    assert stock(await get(client, anonymous(acme), f"{PRODUCTS}/{pid}")) == hidden
    assert stock(await get(client, customer, f"{PRODUCTS}/{pid}")) == hidden
    assert stock(await get(client, manager, f"{PRODUCTS}/{pid}")) == [
        ("STOCKED", True, 4),
        ("SOLD-OUT", False, 0),
        ("BACKORDER", True, 0),
        ("UNMANAGED", True, 0),
    ]
    # The staff inventory route stays staff-only.
    variant_id = (await get(client, manager, f"{PRODUCTS}/{pid}"))["variants"][0]["id"]
    inventory = await client.get(f"/api/commerce/variants/{variant_id}/inventory", headers=anonymous(acme))
    assert inventory.status_code == 401


async def test_a_tenant_may_show_stock_quantities_to_everyone(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a tenant whose settings say ``commerce.show_stock_quantity``, when an anonymous caller reads
    a product, then it sees how many are available; reserved stock is not available."""
    acme, manager = await shop(client, app, make_uow, settings={"commerce": {"show_stock_quantity": True}})
    product = await make_product(client, manager, status="active")
    variant = await make_variant(client, manager, product["id"], quantity=5)
    customer = await login_as(client, app, acme, "customer")
    order = await client.post(
        "/api/commerce/orders",
        json={"currency": "EUR", "items": [{"variant_id": variant["id"], "quantity": 2}]},
        headers=customer,
    )
    assert order.status_code == 201, order.text

    body = await get(client, anonymous(acme), f"{PRODUCTS}/{product['id']}")

    assert [(v["in_stock"], v["available"]) for v in body["variants"]] == [(True, 3)]


# -------------------------------------------------------------------------------------------- descriptions


async def test_descriptions_are_rendered_from_markdown_and_sanitized(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a description in markdown with a script, an event handler and a javascript: link, when the
    product is created and read, then ``description`` is the markdown as given and ``description_html``
    its rendering with none of them; changing the description re-renders it, changing only the title
    keeps it."""
    acme, manager = await shop(client, app, make_uow)
    markdown = (
        "**Soft** cotton.\n\n<script>alert(1)</script>\n\n"
        '<img src="x.png" onerror="alert(2)">\n\n[click](javascript:alert(3))'
    )
    product = await make_product(client, manager, status="active", description=markdown)

    served = (await get(client, anonymous(acme), f"{PRODUCTS}/{product['id']}"))["translations"][0]
    retitled = await client.patch(
        f"{PRODUCTS}/{product['id']}",
        json={"translations": [{"locale": "en", "title": "Tee"}]},
        headers=manager,
    )
    redescribed = await client.patch(
        f"{PRODUCTS}/{product['id']}",
        json={"translations": [{"locale": "en", "title": "Tee", "description": "# Tee"}]},
        headers=manager,
    )

    assert served["description"] == markdown
    html = served["description_html"]
    assert "<strong>Soft</strong>" in html
    for unsafe in ("<script", "alert(1)", "onerror", 'href="javascript'):
        assert unsafe not in html
    assert retitled.json()["translations"][0]["description_html"] == html
    assert redescribed.json()["translations"][0]["description_html"] == "<h1>Tee</h1>\n"


# ------------------------------------------------------------------------------------------------ images


async def test_images_are_set_in_order_with_alt_text_per_locale_and_replaced(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given two uploaded images (one with its own alt text), when a product is created with both (alt
    text in ``en`` for the first), then reads serve them in order with their URL and size, the alt text
    in the locale served, else the media item's own; a PATCH with them reversed reorders them and records
    ``product.updated``, the same list again records nothing, ``[]`` takes them all away."""
    acme, manager = await shop(client, app, make_uow)
    await enable_locales(make_uow, acme, "de")
    front = await upload_media(client, manager)
    back = await upload_media(client, manager, alt="The back")
    images = [
        {"media_id": front["id"], "alt": {"en": "The front", "de": "Vorne"}},
        {"media_id": back["id"]},
    ]

    async with event_recorder.watch() as created:
        product = await make_product(client, manager, status="active", images=images)
    pid = product["id"]
    german = await get(client, anonymous(acme), f"{PRODUCTS}/{pid}", locale="de")
    async with event_recorder.watch() as reordered:
        swapped = await client.patch(f"{PRODUCTS}/{pid}", json={"images": images[::-1]}, headers=manager)
    async with event_recorder.watch() as unchanged:
        again = await client.patch(f"{PRODUCTS}/{pid}", json={"images": images[::-1]}, headers=manager)
    async with event_recorder.watch() as cleared:
        emptied = await client.patch(f"{PRODUCTS}/{pid}", json={"images": []}, headers=manager)

    assert product["images"] == [
        {
            "media_id": front["id"],
            "position": 0,
            "alt": "The front",
            "url": front["url"],
            "width": 2,
            "height": 1,
        },
        {
            "media_id": back["id"],
            "position": 1,
            "alt": "The back",
            "url": back["url"],
            "width": 2,
            "height": 1,
        },
    ]
    assert created.types == ["product.created", "product.published"]
    assert [(i["media_id"], i["alt"]) for i in german["images"]] == [
        (front["id"], "Vorne"),
        (back["id"], "The back"),  # no German alt anywhere: the default locale's, the media item's
    ]
    assert swapped.status_code == 200, swapped.text
    assert [(i["media_id"], i["position"]) for i in swapped.json()["images"]] == [
        (back["id"], 0),
        (front["id"], 1),
    ]
    assert reordered.types == ["product.updated"]
    assert reordered.one("product.updated").payload.product_id == uuid.UUID(pid)
    assert again.status_code == 200
    assert unchanged.types == []
    assert emptied.json()["images"] == []
    assert cleared.types == ["product.updated"]


async def test_invalid_images_are_a_422_and_change_nothing(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a product with one image, when a manager gives an unknown media id, another tenant's, the
    same one twice, more than 50, or alt text in a locale the tenant has not enabled, then each is a 422
    with its code, and the product keeps its image and records nothing."""
    _, manager = await shop(client, app, make_uow)
    mine = await upload_media(client, manager)
    product = await make_product(client, manager, images=[{"media_id": mine["id"]}])
    globex = await new_tenant(make_uow, "globex")
    theirs = await upload_media(client, await login_as(client, app, globex, "manager"))
    path = f"{PRODUCTS}/{product['id']}"

    async with event_recorder.watch() as events:
        unknown = await client.patch(
            path, json={"images": [{"media_id": str(uuid.uuid4())}]}, headers=manager
        )
        foreign = await client.patch(
            path, json={"images": [{"media_id": mine["id"]}, {"media_id": theirs["id"]}]}, headers=manager
        )
        twice = await client.patch(
            path, json={"images": [{"media_id": mine["id"]}, {"media_id": mine["id"]}]}, headers=manager
        )
        too_many = await client.patch(
            path, json={"images": [{"media_id": str(uuid.uuid4())} for _ in range(51)]}, headers=manager
        )
        bad_locale = await client.patch(
            path, json={"images": [{"media_id": mine["id"], "alt": {"fr": "Devant"}}]}, headers=manager
        )
        created = await client.post(
            PRODUCTS,
            json={"translations": [{"locale": "en", "title": "X"}], "images": [{"media_id": theirs["id"]}]},
            headers=manager,
        )

    assert problem(unknown, 422, "media_not_found")["errors"][0]["loc"] == ["body", "images", 0, "media_id"]
    assert problem(foreign, 422, "media_not_found")["errors"][0]["loc"] == ["body", "images", 1, "media_id"]
    problem(twice, 422, "validation_error")
    problem(too_many, 422, "validation_error")
    assert problem(bad_locale, 422, "locale_not_enabled")["errors"][0]["loc"] == [
        "body",
        "images",
        0,
        "alt",
        "fr",
    ]
    problem(created, 422, "media_not_found")
    assert events.types == []
    assert [i["media_id"] for i in (await get(client, manager, path))["images"]] == [mine["id"]]
    assert (await get(client, manager, PRODUCTS))["items"] == [await get(client, manager, path)]


async def test_deleting_a_media_item_detaches_it_from_the_products_that_show_it(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a product showing three images, when the middle one's media item is deleted, then the product
    shows the other two, numbered 0 and 1."""
    acme, manager = await shop(client, app, make_uow)
    media = [await upload_media(client, manager) for _ in range(3)]
    product = await make_product(
        client, manager, status="active", images=[{"media_id": m["id"]} for m in media]
    )
    admin = await login_as(client, app, acme, "admin")

    deleted = await client.delete(f"/api/media/{media[1]['id']}", headers=admin)
    body = await get(client, anonymous(acme), f"{PRODUCTS}/{product['id']}")

    assert deleted.status_code == 204, deleted.text
    assert [(i["media_id"], i["position"]) for i in body["images"]] == [
        (media[0]["id"], 0),
        (media[2]["id"], 1),
    ]


# ------------------------------------------------------------------------------------ filters and sorts


async def priced_catalog(
    client: httpx.AsyncClient, headers: dict[str, str], amounts: list[int], stocked: list[bool] | None = None
) -> list[Any]:
    """One active product per amount, titled ``P<amount>``, with a variant at that price in EUR, in stock
    when ``stocked`` says so (by default), and a dearer one sold out; the products in creation order."""
    products = []
    for index, amount in enumerate(amounts):
        product = await make_product(client, headers, title=f"P{amount}", status="active")
        quantity = 1 if stocked is None or stocked[index] else 0
        await make_variant(client, headers, product["id"], amount=amount, quantity=quantity)
        await make_variant(client, headers, product["id"], amount=amount + 10_000, quantity=0)
        products.append(product)
    return products


async def test_lists_sort_by_price_and_filter_by_price_and_stock_across_pages(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given products whose cheapest EUR prices repeat (ties broken by id), when an anonymous caller walks
    the list by pages of 2 sorted by ``price``, ``-price`` and ``newest``, filtered by price range and
    stock, then every product is served once, in the sort's order, with no gaps."""
    acme, manager = await shop(client, app, make_uow)
    amounts = [500, 300, 800, 300, 100, 900, 500]
    stock = [True, False, True, True, False, False, True]
    products = await priced_catalog(client, manager, amounts, stock)
    ids = [p["id"] for p in products]
    visitor = anonymous(acme)
    by_price = sorted(range(len(amounts)), key=lambda i: (amounts[i], ids[i]))

    cheapest_first = await walk(client, visitor, 2, currency="EUR", sort="price")
    dearest_first = await walk(client, visitor, 2, currency="EUR", sort="-price")
    newest = await walk(client, visitor, 2, currency="EUR")
    in_range = await walk(client, visitor, 2, currency="EUR", sort="price", min_price=300, max_price=500)
    stocked = await walk(client, visitor, 2, in_stock="true")
    sold_out = await walk(client, visitor, 3, in_stock="false", currency="EUR", sort="-price")

    assert [p["id"] for p in cheapest_first] == [ids[i] for i in by_price]
    assert [p["id"] for p in dearest_first] == [ids[i] for i in reversed(by_price)]
    assert [p["id"] for p in newest] == ids[::-1]
    assert titles(in_range) == ["P300", "P300", "P500", "P500"]
    assert [p["id"] for p in stocked] == [ids[i] for i in (6, 3, 2, 0)]  # newest first
    assert [p["id"] for p in sold_out] == [ids[i] for i in (5, 1, 4)]  # dearest first


async def test_a_products_price_follows_its_variants_prices(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a product with variants at 500 and 300 EUR (and one at 200 USD), when the cheap one's price
    list is replaced, then the other one is deleted, then the last one, then the product lists at its
    cheapest variant's price each time (the price range finds it there), and not at all in EUR at the
    end; a variant added back lists it again."""
    acme, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager, status="active")
    dear = await make_variant(client, manager, product["id"], amount=500)
    cheap = await make_variant(
        client,
        manager,
        product["id"],
        prices=[{"currency": "EUR", "amount": 300}, {"currency": "USD", "amount": 200}],
    )
    visitor = anonymous(acme)

    async def listed_at(amount: int) -> bool:
        found = await get(client, visitor, PRODUCTS, currency="EUR", min_price=amount, max_price=amount)
        return [p["id"] for p in found["items"]] == [product["id"]]

    assert await listed_at(300)
    replaced = await client.put(
        f"/api/commerce/variants/{cheap['id']}/prices",
        json={"prices": [{"currency": "EUR", "amount": 900}]},
        headers=manager,
    )
    assert replaced.status_code == 200, replaced.text
    assert await listed_at(500)
    problem(await client.get(PRODUCTS, params={"currency": "USD"}, headers=visitor), 422, "currency_not_sold")
    assert (await client.delete(f"/api/commerce/variants/{dear['id']}", headers=manager)).status_code == 204
    assert await listed_at(900)
    assert (await client.delete(f"/api/commerce/variants/{cheap['id']}", headers=manager)).status_code == 204
    problem(await client.get(PRODUCTS, params={"currency": "EUR"}, headers=visitor), 422, "currency_not_sold")
    await make_variant(client, manager, product["id"], amount=250)
    assert await listed_at(250)


async def test_list_parameters_that_do_not_fit_are_a_4xx(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a shop selling in EUR, when a price filter or sort comes without a currency, a range is upside
    down, a price negative, a sort unknown, or a cursor of one sort is given to another, then each is a
    4xx problem with its code."""
    acme, manager = await shop(client, app, make_uow)
    await priced_catalog(client, manager, [100, 200, 300])
    visitor = anonymous(acme)
    by_price = await get(client, visitor, PRODUCTS, limit=1, currency="EUR", sort="price")
    newest = await get(client, visitor, PRODUCTS, limit=1)

    async def answer(**params: Any) -> httpx.Response:
        return await client.get(PRODUCTS, params=params, headers=visitor)

    problem(await answer(min_price=100), 422, "currency_required")
    problem(await answer(sort="-price"), 422, "currency_required")
    problem(await answer(currency="EUR", min_price=300, max_price=100), 422, "invalid_price_range")
    problem(await answer(currency="EUR", min_price=-1), 422, "validation_error")
    problem(await answer(currency="EUR", sort="cheapest"), 422, "validation_error")
    problem(
        await answer(currency="EUR", sort="-price", cursor=by_price["next_cursor"]), 400, "invalid_cursor"
    )
    problem(await answer(currency="EUR", sort="price", cursor=newest["next_cursor"]), 400, "invalid_cursor")
    problem(await answer(cursor=by_price["next_cursor"]), 400, "invalid_cursor")


# ------------------------------------------------------------------------------------ statement counts


async def test_a_page_costs_the_same_statements_whatever_its_size(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, db_connection: AsyncConnection
) -> None:
    """Given 20 active products, each with an image and two variants with prices and stock, when an
    anonymous caller lists a page of 2 and a page of 20 (by price in EUR, and newest with every price),
    then both pages cost the same number of statements."""
    acme, manager = await shop(client, app, make_uow)
    image = await upload_media(client, manager, alt="Pixel")
    for index in range(20):
        product = await make_product(
            client, manager, title=f"P{index}", status="active", images=[{"media_id": image["id"]}]
        )
        await make_variant(client, manager, product["id"], amount=100 + index, quantity=2)
        await make_variant(client, manager, product["id"], amount=500 + index, quantity=0)
    visitor = anonymous(acme)
    await get(client, visitor, PRODUCTS, limit=1)  # the tenant is cached from here on

    counts: dict[tuple[str, int], int] = {}
    for name, params in (("price", {"currency": "EUR", "sort": "price"}), ("newest", {})):
        for limit in (2, 20):
            async with count_statements(db_connection) as statements:
                page = await get(client, visitor, PRODUCTS, limit=limit, **params)
            assert len(page["items"]) == limit
            assert all(len(p["variants"]) == 2 and len(p["images"]) == 1 for p in page["items"])
            counts[name, limit] = statements.count

    assert counts["price", 2] == counts["price", 20], counts
    assert counts["newest", 2] == counts["newest", 20], counts


# ----------------------------------------------------------------------------------------- storefront


async def test_a_product_page_is_one_request(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given an active product with a markdown description, two images and two variants priced in EUR and
    USD (one sold out), when an anonymous visitor opens its page by handle in ``de`` and EUR, then that one
    answer has everything the page shows: the German title and rendered description, the images with alt
    text and URL, every variant with its EUR price and whether it is in stock; and the image URLs serve
    the files."""
    acme, manager = await shop(client, app, make_uow)
    await enable_locales(make_uow, acme, "de")
    front = await upload_media(client, manager, alt="Front")
    back = await upload_media(client, manager, alt="Back")
    product = await make_product(
        client,
        manager,
        status="active",
        translations=[
            {"locale": "en", "title": "Blue shirt", "handle": "blue-shirt", "description": "*Soft*"},
            {"locale": "de", "title": "Blaues Hemd", "handle": "blaues-hemd", "description": "*Weich*"},
        ],
        options=[{"name": "Size", "values": ["S", "M"]}],
        images=[{"media_id": front["id"], "alt": {"de": "Vorne"}}, {"media_id": back["id"]}],
    )
    both = [{"currency": "EUR", "amount": 2500}, {"currency": "USD", "amount": 2700}]
    await make_variant(
        client, manager, product["id"], sku="S", options={"Size": "S"}, prices=both, quantity=3
    )
    await make_variant(
        client, manager, product["id"], sku="M", options={"Size": "M"}, prices=both, quantity=0
    )
    visitor = anonymous(acme)

    page = await get(client, visitor, f"{BY_HANDLE}/blaues-hemd", locale="de", currency="EUR")

    assert [(t["title"], t["description_html"]) for t in page["translations"]] == [
        ("Blaues Hemd", "<p><em>Weich</em></p>\n")
    ]
    assert page["options"] == [{"name": "Size", "values": ["S", "M"]}]
    assert [(i["alt"], i["width"], i["height"]) for i in page["images"]] == [("Vorne", 2, 1), ("Back", 2, 1)]
    assert [(v["sku"], [p["amount"] for p in v["prices"]], v["in_stock"]) for v in page["variants"]] == [
        ("S", [2500], True),
        ("M", [2500], False),
    ]
    for image in page["images"]:
        served = await client.get(image["url"], headers=visitor)
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/png"


@pytest.mark.parametrize("role", ["customer", "manager", "admin"])
async def test_every_role_reads_the_storefront_as_anonymous_callers_do_or_more(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, role: str
) -> None:
    """Given an active product with a stocked variant, when a customer, a manager or an admin reads it by
    handle, then each gets it with its variant in stock; only staff see the quantity."""
    acme, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager, status="active", handle="cap")
    await make_variant(client, manager, product["id"], quantity=7)
    headers = await login_as(client, app, acme, role)

    body = await get(client, headers, f"{BY_HANDLE}/cap", currency="EUR")

    assert body["id"] == product["id"]
    assert [(v["in_stock"], v["available"]) for v in body["variants"]] == [
        (True, None if role == "customer" else 7)
    ]


async def test_another_tenants_product_is_a_404_by_handle(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a product of ``globex`` with the handle ``gadget``, when ``acme``'s visitors ask for it, then
    it is a 404, and acme's lists stay empty; globex's visitors get it."""
    acme = await new_tenant(make_uow, "acme")
    globex = await new_tenant(make_uow, "globex")
    manager = await login_as(client, app, globex, "manager")
    product = await make_product(client, manager, title="Gadget", handle="gadget", status="active")
    await make_variant(client, manager, product["id"])

    problem(await client.get(f"{BY_HANDLE}/gadget", headers=anonymous(acme)), 404, "not_found")
    assert (await get(client, anonymous(acme), PRODUCTS))["items"] == []
    assert (await get(client, anonymous(globex), f"{BY_HANDLE}/gadget"))["id"] == product["id"]
