"""The catalog through the HTTP API (api.md "Commerce", rbac.md, events.md): products with translations,
handles, locales and options, publishing, variants with options, SKUs and prices, stock, visibility of
unpublished products, events, permissions and tenant isolation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from rustok.commerce import inventory
from rustok.commerce.catalog.variants import service as variants_service
from rustok.commerce.models import Variant
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork
from rustok.tenants.schemas import LocaleIn
from rustok.tenants.service import enable_locale
from rustok.testing import EventRecorder, login_as, new_tenant
from rustok.testing.commerce import make_product, make_variant

MakeUoW = Callable[..., UnitOfWork]
PRODUCTS = "/api/commerce/products"
VARIANTS = "/api/commerce/variants"
SIZES = [{"name": "Size", "values": ["S", "M", "L"]}, {"name": "Color", "values": ["red", "blue"]}]


# ---------------------------------------------------------------------------------------------- helpers


def anonymous(tenant_id: uuid.UUID) -> dict[str, str]:
    """The headers of an anonymous request to the tenant."""
    return {"X-Tenant-ID": str(tenant_id)}


async def enable_locales(make_uow: MakeUoW, tenant_id: uuid.UUID, *locales: str) -> None:
    async with make_uow(TenantScope.of(tenant_id)) as uow:
        for locale in locales:
            await enable_locale(uow, tenant_id, LocaleIn(locale=locale))


async def shop(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> tuple[uuid.UUID, dict[str, str]]:
    """A tenant ``acme`` and the headers of one of its managers."""
    acme = await new_tenant(make_uow, "acme")
    return acme, await login_as(client, app, acme, "manager")


async def read(client: httpx.AsyncClient, headers: dict[str, str], path: str, **params: str) -> Any:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[Any]:
    items: list[Any] = (await read(client, headers, PRODUCTS, limit="100", **params))["items"]
    return items


def handles_of(product: Any) -> dict[str, str]:
    return {t["locale"]: t["handle"] for t in product["translations"]}


def problem(response: httpx.Response, status: int, code: str) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    return body


# ---------------------------------------------------------------------------------------------- products


async def test_a_manager_creates_a_product_with_translations_and_options(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a tenant with ``de`` enabled, when a manager creates a product in ``en`` and ``de`` with
    options and metadata, then it is a 201 draft with handles made from the titles, its options in order,
    and ``product.created`` was recorded (nothing else)."""
    acme, manager = await shop(client, app, make_uow)
    await enable_locales(make_uow, acme, "de")
    body = {
        "translations": [
            {"locale": "en", "title": "Blue Shirt", "subtitle": "Cotton", "description": "Soft."},
            {"locale": "de", "title": "Blaues Hemd"},
        ],
        "options": SIZES,
        "metadata": {"brand": "Acme", "tags": [1, 2]},
    }

    async with event_recorder.watch() as events:
        response = await client.post(PRODUCTS, json=body, headers=manager)

    assert response.status_code == 201, response.text
    product = response.json()
    assert product["status"] == "draft"
    assert product["published_at"] is None
    assert handles_of(product) == {"de": "blaues-hemd", "en": "blue-shirt"}
    en = next(t for t in product["translations"] if t["locale"] == "en")
    assert (en["subtitle"], en["description"]) == ("Cotton", "Soft.")
    assert product["options"] == SIZES
    assert product["metadata"] == {"brand": "Acme", "tags": [1, 2]}
    assert events.types == ["product.created"]
    assert events.one("product.created").payload.product_id == uuid.UUID(product["id"])
    assert await read(client, manager, f"{PRODUCTS}/{product['id']}") == product


async def test_a_product_created_active_is_published_at_once(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a manager, when it creates a product with ``status: active``, then it is published
    (``published_at`` set) and ``product.created`` then ``product.published`` were recorded."""
    _, manager = await shop(client, app, make_uow)

    async with event_recorder.watch() as events:
        product = await make_product(client, manager, status="active")

    assert product["status"] == "active"
    assert product["published_at"] is not None
    assert events.types == ["product.created", "product.published"]


async def test_handles_are_generated_unique_per_locale_and_a_taken_one_is_a_409(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a tenant with ``de`` and a product "Shirt", when more products titled "Shirt" are created, then
    they get ``shirt-2``, ``shirt-3``; the handle ``shirt`` is free in ``de``; a given handle that is taken
    in its locale is a 409 ``slug_conflict``; and changing only a title keeps the handle."""
    acme, manager = await shop(client, app, make_uow)
    await enable_locales(make_uow, acme, "de")
    first = await make_product(client, manager, title="Shirt")
    second = await make_product(client, manager, title="Shirt")
    third = await make_product(client, manager, title="Shirt!")
    german = await make_product(client, manager, title="Shirt", locale="de")

    taken = await client.post(
        PRODUCTS,
        json={"translations": [{"locale": "en", "title": "Other", "handle": "shirt-2"}]},
        headers=manager,
    )
    retitled = await client.patch(
        f"{PRODUCTS}/{first['id']}",
        json={"translations": [{"locale": "en", "title": "Polo"}]},
        headers=manager,
    )
    moved = await client.patch(
        f"{PRODUCTS}/{third['id']}",
        json={"translations": [{"locale": "en", "title": "Shirt!", "handle": "shirt"}]},
        headers=manager,
    )
    renamed = await client.patch(
        f"{PRODUCTS}/{third['id']}",
        json={"translations": [{"locale": "en", "title": "Shirt!", "handle": "tee"}]},
        headers=manager,
    )

    assert [handles_of(p) for p in (first, second, third, german)] == [
        {"en": "shirt"},
        {"en": "shirt-2"},
        {"en": "shirt-3"},
        {"de": "shirt"},
    ]
    problem(taken, 409, "slug_conflict")
    assert retitled.status_code == 200
    assert handles_of(retitled.json()) == {"en": "shirt"}
    assert retitled.json()["translations"][0]["title"] == "Polo"
    problem(moved, 409, "slug_conflict")
    assert handles_of(renamed.json()) == {"en": "tee"}


async def test_writes_in_a_locale_the_tenant_has_not_enabled_are_a_422(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a tenant with only ``en``, when a manager creates or changes a product with a ``fr``
    translation, then both are a 422 ``locale_not_enabled`` pointing at the translation, and nothing is
    recorded."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager)
    translations = [{"locale": "en", "title": "Shirt"}, {"locale": "fr", "title": "Chemise"}]

    async with event_recorder.watch() as events:
        created = await client.post(PRODUCTS, json={"translations": translations}, headers=manager)
        changed = await client.patch(
            f"{PRODUCTS}/{product['id']}", json={"translations": translations}, headers=manager
        )

    for response in (created, changed):
        body = problem(response, 422, "locale_not_enabled")
        assert body["errors"][0]["loc"] == ["body", "translations", 1, "locale"]
    assert events.types == []


async def test_a_read_serves_the_asked_locale_falling_back_to_the_default(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given an active product in ``en`` (default) and ``de``, when it is read with ``?locale=de``,
    ``?locale=fr`` and without, then it serves the ``de`` translation, the ``en`` one, and both; a list
    with ``?locale=de`` shows only products translated into ``de``."""
    acme, manager = await shop(client, app, make_uow)
    await enable_locales(make_uow, acme, "de")
    both = await make_product(
        client,
        manager,
        status="active",
        translations=[{"locale": "en", "title": "Shirt"}, {"locale": "de", "title": "Hemd"}],
    )
    english = await make_product(client, manager, title="Cap", status="active")
    path = f"{PRODUCTS}/{both['id']}"
    visitor = anonymous(acme)

    german = await read(client, visitor, path, locale="de")
    french = await read(client, visitor, path, locale="fr")
    every = await read(client, visitor, path)
    in_german = await listed(client, visitor, locale="de")

    assert [t["title"] for t in german["translations"]] == ["Hemd"]
    assert [t["title"] for t in french["translations"]] == ["Shirt"]
    assert sorted(t["locale"] for t in every["translations"]) == ["de", "en"]
    assert [p["id"] for p in in_german] == [both["id"]]
    assert english["id"] in {p["id"] for p in await listed(client, visitor)}


async def test_the_product_list_pages_with_a_cursor_and_filters_by_status(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given five products (two active, one archived, two drafts), when a manager pages through the list
    two at a time, then it sees all five newest first, once each; ``?status=`` filters; customers and
    anonymous callers see only the active ones, even asking for drafts."""
    acme, manager = await shop(client, app, make_uow)
    customer = await login_as(client, app, acme, "customer")
    made = [
        await make_product(client, manager, title=f"P{i}", status=status)
        for i, status in enumerate(["active", "draft", "archived", "active", "draft"])
    ]

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = await read(client, manager, PRODUCTS, **params)
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [p["id"] for p in reversed(made)]
    assert [p["id"] for p in await listed(client, manager, status="draft")] == [made[4]["id"], made[1]["id"]]
    assert [p["id"] for p in await listed(client, manager, status="archived")] == [made[2]["id"]]
    active = [made[3]["id"], made[0]["id"]]
    for headers in (customer, anonymous(acme)):
        assert [p["id"] for p in await listed(client, headers)] == active
        assert await listed(client, headers, status="draft") == []
    bad = await client.get(PRODUCTS, params={"cursor": "nonsense"}, headers=manager)
    assert bad.status_code == 400


async def test_a_partial_update_upserts_translations_replaces_options_and_records_one_event(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a product in ``en`` with options, when a manager adds a ``de`` translation, replaces the
    options and changes the metadata in one PATCH, then ``en`` stays, ``de`` is added, the options are the
    new ones, and one ``product.updated`` is recorded; the same PATCH again records nothing."""
    acme, manager = await shop(client, app, make_uow)
    await enable_locales(make_uow, acme, "de")
    product = await make_product(client, manager, title="Shirt", options=SIZES)
    change = {
        "translations": [{"locale": "de", "title": "Hemd"}],
        "options": [{"name": "Size", "values": ["XL"]}],
        "metadata": {"season": "summer"},
    }
    path = f"{PRODUCTS}/{product['id']}"

    async with event_recorder.watch() as events:
        first = await client.patch(path, json=change, headers=manager)
    async with event_recorder.watch() as again:
        second = await client.patch(path, json=change, headers=manager)
        empty = await client.patch(path, json={}, headers=manager)

    assert first.status_code == 200, first.text
    updated = first.json()
    assert handles_of(updated) == {"de": "hemd", "en": "shirt"}
    assert updated["options"] == [{"name": "Size", "values": ["XL"]}]
    assert updated["metadata"] == {"season": "summer"}
    assert events.types == ["product.updated"]
    assert second.status_code == empty.status_code == 200
    assert again.types == []


async def test_options_a_variant_uses_cannot_be_taken_away(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a product with a variant ``{Size: S, Color: red}``, when a manager replaces the options without
    ``S``, then it is a 409 ``options_in_use`` and the options stay; adding a value is fine."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager, options=SIZES)
    await make_variant(client, manager, product["id"], options={"Size": "S", "Color": "red"})
    path = f"{PRODUCTS}/{product['id']}"

    refused = await client.patch(
        path, json={"options": [{"name": "Size", "values": ["M"]}, SIZES[1]]}, headers=manager
    )
    grown = await client.patch(
        path, json={"options": [{"name": "Size", "values": ["S", "M", "L", "XL"]}, SIZES[1]]}, headers=manager
    )

    problem(refused, 409, "options_in_use")
    assert grown.status_code == 200
    assert grown.json()["options"][0]["values"] == ["S", "M", "L", "XL"]


@pytest.mark.parametrize(
    "body",
    [
        {"translations": []},
        {"translations": [{"locale": "en", "title": "A\x00B"}]},
        {"translations": [{"locale": "en", "title": "A"}], "surprise": 1},
        {"translations": [{"locale": "en", "title": "A"}, {"locale": "en", "title": "B"}]},
        {"translations": [{"locale": "en", "title": "A", "handle": "Not A Handle"}]},
        {"translations": [{"locale": "en", "title": "A"}], "status": "published"},
        {
            "translations": [{"locale": "en", "title": "A"}],
            "options": [{"name": "Size", "values": ["S", "S"]}],
        },
        {"translations": [{"locale": "en", "title": "A"}], "options": [{"name": "Size", "values": []}]},
        {
            "translations": [{"locale": "en", "title": "A"}],
            "options": [{"name": "Size", "values": ["S"]}, {"name": "Size", "values": ["M"]}],
        },
        {"translations": [{"locale": "en", "title": "A"}], "metadata": {"big": "x" * 70_000}},
        {"translations": [{"locale": "en", "title": "A"}], "metadata": {"k": "a\x00"}},
        {"translations": [{"locale": "en", "title": "A"}], "metadata": [1]},
    ],
    ids=[
        "no-translation",
        "nul",
        "extra-field",
        "locale-twice",
        "bad-handle",
        "bad-status",
        "value-twice",
        "no-values",
        "option-twice",
        "metadata-too-big",
        "metadata-nul",
        "metadata-not-object",
    ],
)
async def test_an_invalid_product_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, body: dict[str, Any]
) -> None:
    """Given a manager, when it posts an invalid product, then it is a 422 ``validation_error``."""
    _, manager = await shop(client, app, make_uow)

    response = await client.post(PRODUCTS, json=body, headers=manager)

    problem(response, 422, "validation_error")


# ------------------------------------------------------------------------------------------- publishing


async def test_publish_and_unpublish_move_between_draft_and_active(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a draft product, when a manager publishes it, publishes it again, unpublishes it, unpublishes
    it again and publishes it once more, then the repeats are 409 ``invalid_transition``, the others
    record ``product.published`` / ``product.unpublished``, and ``published_at`` keeps the first time."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager)
    path = f"{PRODUCTS}/{product['id']}"

    async with event_recorder.watch() as events:
        published = await client.post(f"{path}/publish", headers=manager)
        again = await client.post(f"{path}/publish", headers=manager)
        unpublished = await client.post(f"{path}/unpublish", headers=manager)
        unpublished_again = await client.post(f"{path}/unpublish", headers=manager)
        republished = await client.post(f"{path}/publish", headers=manager)

    assert published.status_code == 200
    assert published.json()["status"] == "active"
    first_time = published.json()["published_at"]
    assert first_time is not None
    problem(again, 409, "invalid_transition")
    assert unpublished.json()["status"] == "draft"
    problem(unpublished_again, 409, "invalid_transition")
    assert republished.json()["published_at"] == first_time
    assert events.types == ["product.published", "product.unpublished", "product.published"]


async def test_status_changes_through_patch_are_announced(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a draft product, when a manager PATCHes it to archived, active and draft, then
    ``product.updated`` (draft → archived, a plain change), then ``product.published`` and
    ``product.unpublished`` alone (as the publish routes record them) are recorded."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager)
    path = f"{PRODUCTS}/{product['id']}"

    async with event_recorder.watch() as events:
        for status in ("archived", "active", "draft"):
            response = await client.patch(path, json={"status": status}, headers=manager)
            assert response.json()["status"] == status

    assert events.types == ["product.updated", "product.published", "product.unpublished"]


# ---------------------------------------------------------------------------------------------- deletion


async def test_deleting_a_product_deletes_its_variants_and_announces_each(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a product with two variants (one with stock), when a manager deletes it, then it is a 204,
    ``variant.deleted`` for each variant then ``product.deleted`` are recorded, and the product, its
    variants and their stock are 404s; its handle is free again."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(
        client, manager, title="Gone", options=[{"name": "Size", "values": ["S", "M"]}]
    )
    small = await make_variant(client, manager, product["id"], options={"Size": "S"}, quantity=3)
    medium = await make_variant(client, manager, product["id"], options={"Size": "M"})

    async with event_recorder.watch() as events:
        response = await client.delete(f"{PRODUCTS}/{product['id']}", headers=manager)

    assert response.status_code == 204
    assert events.types == ["variant.deleted", "variant.deleted", "product.deleted"]
    assert {e.payload.variant_id for e in events.of_type("variant.deleted")} == {
        uuid.UUID(small["id"]),
        uuid.UUID(medium["id"]),
    }
    for path in (
        f"{PRODUCTS}/{product['id']}",
        f"{PRODUCTS}/{product['id']}/variants",
        f"{VARIANTS}/{small['id']}",
        f"{VARIANTS}/{small['id']}/inventory",
    ):
        assert (await client.get(path, headers=manager)).status_code == 404
    assert handles_of(await make_product(client, manager, title="Gone")) == {"en": "gone"}


# ---------------------------------------------------------------------------------------------- variants


async def test_a_variant_is_created_with_prices_and_stock(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a product with options, when a manager adds a variant with options, two prices and a starting
    quantity, then it is a 201 with what it was given, and ``variant.created``, a ``price.updated`` per
    currency (``old_amount`` None) and ``inventory.updated`` were recorded; its stock is the quantity."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager, options=SIZES)
    body = {
        "sku": "SHIRT-S-RED",
        "title": "Small red",
        "options": {"Size": "S", "Color": "red"},
        "prices": [
            {"currency": "EUR", "amount": 1999, "compare_at_amount": 2499},
            {"currency": "USD", "amount": 2199},
        ],
        "inventory_quantity": 12,
        "low_stock_threshold": 2,
        "barcode": "4006381333931",
        "weight_grams": 180,
        "rank": 3,
    }

    async with event_recorder.watch() as events:
        response = await client.post(f"{PRODUCTS}/{product['id']}/variants", json=body, headers=manager)

    assert response.status_code == 201, response.text
    variant = response.json()
    assert variant["product_id"] == product["id"]
    assert {k: variant[k] for k in ("sku", "title", "options", "barcode", "weight_grams", "rank")} == {
        k: body[k] for k in ("sku", "title", "options", "barcode", "weight_grams", "rank")
    }
    assert variant["prices"] == [
        {"currency": "EUR", "amount": 1999, "compare_at_amount": 2499},
        {"currency": "USD", "amount": 2199, "compare_at_amount": None},
    ]
    assert (variant["manage_inventory"], variant["allow_backorder"]) == (True, False)
    assert events.types == ["variant.created", "price.updated", "price.updated", "inventory.updated"]
    price = events.of_type("price.updated")[0].payload
    assert (price.variant_id, price.product_id) == (uuid.UUID(variant["id"]), uuid.UUID(product["id"]))
    assert (price.currency, price.old_amount, price.new_amount) == ("EUR", None, 1999)
    stock = await read(client, manager, f"{VARIANTS}/{variant['id']}/inventory")
    assert stock == {
        "variant_id": variant["id"],
        "quantity": 12,
        "reserved": 0,
        "available": 12,
        "low_stock_threshold": 2,
    }
    assert await read(client, manager, f"{VARIANTS}/{variant['id']}") == variant
    listed_variants = await read(client, manager, f"{PRODUCTS}/{product['id']}/variants")
    assert listed_variants == {"items": [variant], "next_cursor": None}


@pytest.mark.parametrize(
    "options",
    [{}, {"Size": "S"}, {"Size": "XXL", "Color": "red"}, {"Size": "S", "Color": "red", "Fit": "slim"}],
    ids=["none", "missing", "unknown-value", "unknown-option"],
)
async def test_a_variant_whose_options_do_not_fit_its_product_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, options: dict[str, str]
) -> None:
    """Given a product with options Size and Color, when a manager adds a variant whose options miss one,
    use an unknown value or name an unknown option, then it is a 422 ``invalid_options``."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager, options=SIZES)

    response = await client.post(
        f"{PRODUCTS}/{product['id']}/variants",
        json={"sku": "X-1", "options": options, "prices": []},
        headers=manager,
    )

    problem(response, 422, "invalid_options")


async def test_two_variants_cannot_share_an_options_combination(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a variant ``{Size: S, Color: red}``, when another with the same options is added, or another
    variant is changed to them, then both are a 409 ``variant_options_conflict``."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager, options=SIZES)
    await make_variant(client, manager, product["id"], options={"Size": "S", "Color": "red"})
    other = await make_variant(client, manager, product["id"], options={"Size": "M", "Color": "red"})

    added = await client.post(
        f"{PRODUCTS}/{product['id']}/variants",
        json={"sku": "DUP", "options": {"Color": "red", "Size": "S"}, "prices": []},
        headers=manager,
    )
    changed = await client.patch(
        f"{VARIANTS}/{other['id']}", json={"options": {"Size": "S", "Color": "red"}}, headers=manager
    )

    problem(added, 409, "variant_options_conflict")
    problem(changed, 409, "variant_options_conflict")


async def test_a_sku_is_unique_per_tenant(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a variant ``TEE-1``, when a manager adds another ``TEE-1`` (to another product too) or changes
    a variant's SKU to it, then each is a 409 ``sku_conflict`` and nothing is recorded; another tenant may
    use ``TEE-1``."""
    _, manager = await shop(client, app, make_uow)
    globex = await new_tenant(make_uow, "globex")
    theirs = await login_as(client, app, globex, "manager")
    first = await make_product(client, manager)
    second = await make_product(client, manager)
    await make_variant(client, manager, first["id"], sku="TEE-1")
    other = await make_variant(client, manager, second["id"], sku="TEE-2")

    async with event_recorder.watch() as events:
        same_product = await client.post(
            f"{PRODUCTS}/{first['id']}/variants", json={"sku": "TEE-1", "prices": []}, headers=manager
        )
        other_product = await client.post(
            f"{PRODUCTS}/{second['id']}/variants", json={"sku": " TEE-1 ", "prices": []}, headers=manager
        )
        renamed = await client.patch(f"{VARIANTS}/{other['id']}", json={"sku": "TEE-1"}, headers=manager)

    for response in (same_product, other_product, renamed):
        problem(response, 409, "sku_conflict")
    assert events.types == []
    elsewhere = await make_variant(client, theirs, (await make_product(client, theirs))["id"], sku="TEE-1")
    assert elsewhere["sku"] == "TEE-1"


async def test_a_sku_taken_between_the_check_and_the_insert_is_still_a_409(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a variant ``RACE`` and a SKU check that sees nothing (as when a concurrent writer inserts
    between the check and the insert), when a manager adds or renames a variant to ``RACE``, then the
    database constraint answers: a 409 ``sku_conflict``, not a 500."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager)
    await make_variant(client, manager, product["id"], sku="RACE")
    other = await make_variant(client, manager, product["id"], sku="CALM")

    async def blind(*_: Any, **__: Any) -> None:
        return None

    monkeypatch.setattr(variants_service, "_check_sku", blind)
    added = await client.post(
        f"{PRODUCTS}/{product['id']}/variants", json={"sku": "RACE", "prices": []}, headers=manager
    )
    renamed = await client.patch(f"{VARIANTS}/{other['id']}", json={"sku": "RACE"}, headers=manager)

    problem(added, 409, "sku_conflict")
    problem(renamed, 409, "sku_conflict")
    assert (await read(client, manager, f"{VARIANTS}/{other['id']}"))["sku"] == "CALM"


async def test_a_variant_update_is_partial_and_announced_once(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a variant, when a manager changes its SKU, title, rank and threshold, then the answer has them,
    the rest stays, and one ``variant.updated`` is recorded; a PATCH that changes nothing records nothing;
    a null title clears it."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager)
    variant = await make_variant(client, manager, product["id"], sku="OLD", title="Old", barcode="123")
    path = f"{VARIANTS}/{variant['id']}"

    async with event_recorder.watch() as events:
        changed = await client.patch(
            path, json={"sku": "NEW", "title": "New", "rank": 2, "low_stock_threshold": 4}, headers=manager
        )
    async with event_recorder.watch() as nothing:
        same = await client.patch(path, json={"sku": "NEW", "title": "New"}, headers=manager)
    cleared = await client.patch(path, json={"title": None}, headers=manager)

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["sku"], body["title"], body["rank"], body["low_stock_threshold"]) == ("NEW", "New", 2, 4)
    assert body["barcode"] == "123"
    assert body["prices"] == variant["prices"]
    assert events.types == ["variant.updated"]
    assert same.status_code == 200
    assert nothing.types == []
    assert cleared.json()["title"] is None


async def test_deleting_a_variant_announces_it(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a variant, when a manager deletes it, then it is a 204, ``variant.deleted`` is recorded, and
    it is gone (its SKU free again)."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager)
    variant = await make_variant(client, manager, product["id"], sku="BYE")

    async with event_recorder.watch() as events:
        response = await client.delete(f"{VARIANTS}/{variant['id']}", headers=manager)

    assert response.status_code == 204
    assert events.types == ["variant.deleted"]
    assert events.one("variant.deleted").payload.product_id == uuid.UUID(product["id"])
    assert (await client.get(f"{VARIANTS}/{variant['id']}", headers=manager)).status_code == 404
    assert (await make_variant(client, manager, product["id"], sku="BYE"))["sku"] == "BYE"


@pytest.mark.parametrize(
    "body",
    [
        {"sku": "", "prices": []},
        {"sku": "x" * 101, "prices": []},
        {"sku": "A\x00", "prices": []},
        {"sku": "A"},
        {"sku": "A", "prices": [], "unknown": True},
        {"sku": "A", "prices": [{"currency": "XYZ", "amount": 1}]},
        {"sku": "A", "prices": [{"currency": "eur", "amount": 1}]},
        {"sku": "A", "prices": [{"currency": "XXX", "amount": 1}]},
        {"sku": "A", "prices": [{"currency": "EUR", "amount": -1}]},
        {"sku": "A", "prices": [{"currency": "EUR", "amount": 1.5}]},
        {"sku": "A", "prices": [{"currency": "EUR", "amount": 1, "compare_at_amount": -5}]},
        {"sku": "A", "prices": [{"currency": "EUR", "amount": 1}, {"currency": "EUR", "amount": 2}]},
        {"sku": "A", "prices": [], "inventory_quantity": -1},
        {"sku": "A", "prices": [], "low_stock_threshold": -1},
    ],
    ids=[
        "empty-sku",
        "long-sku",
        "nul-sku",
        "no-prices",
        "extra-field",
        "unknown-currency",
        "lower-case-currency",
        "no-currency-code",
        "negative-amount",
        "fractional-amount",
        "negative-compare-at",
        "currency-twice",
        "negative-quantity",
        "negative-threshold",
    ],
)
async def test_an_invalid_variant_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, body: dict[str, Any]
) -> None:
    """Given a product, when a manager posts an invalid variant, then it is a 422 ``validation_error``."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager)

    response = await client.post(f"{PRODUCTS}/{product['id']}/variants", json=body, headers=manager)

    problem(response, 422, "validation_error")


# ------------------------------------------------------------------------------------------------ prices


async def test_replacing_prices_announces_each_changed_amount(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a variant priced EUR 1000, USD 1100 and GBP 900, when its list is replaced by EUR 1000 (same),
    USD 1200 (changed) and JPY 150 (new), then ``price.updated`` is recorded for USD (1100 → 1200) and JPY
    (None → 150), and ``variant.updated`` for GBP taken off; the same list again records nothing; only a
    ``compare_at_amount`` changed is a ``variant.updated``."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager)
    variant = await make_variant(
        client,
        manager,
        product["id"],
        prices=[
            {"currency": "EUR", "amount": 1000},
            {"currency": "USD", "amount": 1100},
            {"currency": "GBP", "amount": 900},
        ],
    )
    path = f"{VARIANTS}/{variant['id']}/prices"
    new = [
        {"currency": "EUR", "amount": 1000},
        {"currency": "USD", "amount": 1200},
        {"currency": "JPY", "amount": 150},
    ]

    async with event_recorder.watch() as events:
        replaced = await client.put(path, json={"prices": new}, headers=manager)
    async with event_recorder.watch() as same:
        again = await client.put(path, json={"prices": new}, headers=manager)
    async with event_recorder.watch() as compare_at:
        new[0]["compare_at_amount"] = 1500
        marked = await client.put(path, json={"prices": new}, headers=manager)

    assert replaced.status_code == 200, replaced.text
    assert {p["currency"]: p["amount"] for p in replaced.json()["prices"]} == {
        "EUR": 1000,
        "JPY": 150,
        "USD": 1200,
    }
    assert sorted(events.types) == ["price.updated", "price.updated", "variant.updated"]
    changes = {
        e.payload.currency: (e.payload.old_amount, e.payload.new_amount)
        for e in events.of_type("price.updated")
    }
    assert changes == {"USD": (1100, 1200), "JPY": (None, 150)}
    assert again.status_code == 200
    assert same.types == []
    assert marked.json()["prices"][0] == {"currency": "EUR", "amount": 1000, "compare_at_amount": 1500}
    assert compare_at.types == ["variant.updated"]
    assert (await read(client, manager, f"{VARIANTS}/{variant['id']}"))["prices"] == marked.json()["prices"]


async def test_an_invalid_price_list_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a variant priced EUR 1000, when its list is replaced with a currency twice, an unknown
    currency or a bare list, then each is a 422 and the price stays; an empty list removes every price."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager)
    variant = await make_variant(client, manager, product["id"])
    path = f"{VARIANTS}/{variant['id']}/prices"

    answers = [
        await client.put(
            path,
            json={"prices": [{"currency": "EUR", "amount": 1}, {"currency": "EUR", "amount": 2}]},
            headers=manager,
        ),
        await client.put(path, json={"prices": [{"currency": "ABC", "amount": 1}]}, headers=manager),
        await client.put(path, json=[{"currency": "EUR", "amount": 1}], headers=manager),
    ]
    kept = (await read(client, manager, f"{VARIANTS}/{variant['id']}"))["prices"]
    emptied = await client.put(path, json={"prices": []}, headers=manager)

    assert [r.status_code for r in answers] == [422, 422, 422]
    assert kept == [{"currency": "EUR", "amount": 1000, "compare_at_amount": None}]
    assert emptied.json()["prices"] == []


# --------------------------------------------------------------------------------------------- inventory


async def test_stock_is_adjusted_and_set_and_cannot_go_below_zero(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a variant without stock, when a manager adds 5, removes 2, tries to remove 10 and sets 8,
    then the stock follows (5, 3, unchanged with a 409 ``insufficient_stock``, 8), each change recording
    ``inventory.updated`` with the available quantities before and after."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager)
    variant = await make_variant(client, manager, product["id"])
    path = f"{VARIANTS}/{variant['id']}/inventory"

    assert (await read(client, manager, path))["quantity"] == 0
    async with event_recorder.watch() as events:
        added = await client.post(f"{path}/adjust", json={"delta": 5, "reason": "delivery"}, headers=manager)
        removed = await client.post(f"{path}/adjust", json={"delta": -2}, headers=manager)
        too_many = await client.post(f"{path}/adjust", json={"delta": -10}, headers=manager)
        counted = await client.post(f"{path}/set", json={"quantity": 8}, headers=manager)

    assert added.json()["quantity"] == 5
    assert removed.json() == {
        "variant_id": variant["id"],
        "quantity": 3,
        "reserved": 0,
        "available": 3,
        "low_stock_threshold": None,
    }
    problem(too_many, 409, "insufficient_stock")
    assert counted.json()["available"] == 8
    assert [(e.payload.old_quantity, e.payload.new_quantity) for e in events] == [(0, 5), (5, 3), (3, 8)]
    assert events.types == ["inventory.updated"] * 3
    for body in ({"quantity": -1}, {"quantity": 1, "extra": 1}, {"delta": 1}):
        assert (await client.post(f"{path}/set", json=body, headers=manager)).status_code == 422


async def test_stock_cannot_be_set_below_what_orders_reserved(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a variant with 5 on hand of which 3 are reserved, when a manager sets the quantity to 2 or
    removes 3, then both are a 409 ``insufficient_stock``; setting 3 is fine (0 available)."""
    acme, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager)
    variant = await make_variant(client, manager, product["id"], quantity=5)
    async with make_uow(TenantScope.of(acme)) as uow:
        row = await uow.session.get(Variant, uuid.UUID(variant["id"]))
        assert row is not None
        await inventory.reserve(uow, row, 3)
    path = f"{VARIANTS}/{variant['id']}/inventory"

    below = await client.post(f"{path}/set", json={"quantity": 2}, headers=manager)
    removed = await client.post(f"{path}/adjust", json={"delta": -3}, headers=manager)
    exact = await client.post(f"{path}/set", json={"quantity": 3}, headers=manager)

    problem(below, 409, "insufficient_stock")
    problem(removed, 409, "insufficient_stock")
    assert exact.json() == {
        "variant_id": variant["id"],
        "quantity": 3,
        "reserved": 3,
        "available": 0,
        "low_stock_threshold": None,
    }


async def test_inventory_low_fires_once_when_stock_crosses_the_threshold(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a variant with 10 on hand and a threshold of 5, when stock goes 10 → 6 → 4 → 3 → 10 → 5, then
    ``inventory.low`` is recorded at 4 (crossing) and at 5 (crossing again), not at 6 or 3."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager)
    variant = await make_variant(client, manager, product["id"], quantity=10, low_stock_threshold=5)
    path = f"{VARIANTS}/{variant['id']}/inventory"

    lows: list[list[Any]] = []
    for step in ({"delta": -4}, {"delta": -2}, {"delta": -1}, {"quantity": 10}, {"delta": -5}):
        route = "adjust" if "delta" in step else "set"
        async with event_recorder.watch() as events:
            response = await client.post(f"{path}/{route}", json=step, headers=manager)
            assert response.status_code == 200, response.text
        lows.append([(e.payload.remaining, e.payload.threshold) for e in events.of_type("inventory.low")])

    assert lows == [[], [(4, 5)], [], [], [(5, 5)]]


async def test_a_variant_that_does_not_manage_inventory_answers_zeros(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a variant created with ``manage_inventory: false`` and an ``inventory_quantity``, then no stock
    was recorded (no ``inventory.updated``) and its inventory answers zeros."""
    _, manager = await shop(client, app, make_uow)
    product = await make_product(client, manager)

    async with event_recorder.watch() as events:
        variant = await make_variant(client, manager, product["id"], quantity=7, manage_inventory=False)

    assert variant["manage_inventory"] is False
    assert events.types == ["variant.created", "price.updated"]
    stock = await read(client, manager, f"{VARIANTS}/{variant['id']}/inventory")
    assert (stock["quantity"], stock["reserved"], stock["available"]) == (0, 0, 0)


# -------------------------------------------------------------------------------------------- visibility


async def test_a_draft_product_and_its_variants_are_404s_to_customers_and_anonymous_callers(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a draft and an archived product with a variant each, when a customer and an anonymous caller
    read them, their variant lists and variants, then every answer is a 404 and lists leave them out; once
    the draft is published they see it and its variant."""
    acme, manager = await shop(client, app, make_uow)
    customer = await login_as(client, app, acme, "customer")
    draft = await make_product(client, manager, title="Draft")
    archived = await make_product(client, manager, title="Old", status="archived")
    hidden = [await make_variant(client, manager, p["id"]) for p in (draft, archived)]

    for headers in (customer, anonymous(acme)):
        for product, variant in zip((draft, archived), hidden, strict=True):
            for path in (
                f"{PRODUCTS}/{product['id']}",
                f"{PRODUCTS}/{product['id']}/variants",
                f"{VARIANTS}/{variant['id']}",
            ):
                assert (await client.get(path, headers=headers)).status_code == 404, path
        assert await listed(client, headers) == []
    assert (await client.post(f"{PRODUCTS}/{draft['id']}/publish", headers=manager)).status_code == 200
    for headers in (customer, anonymous(acme)):
        assert (await read(client, headers, f"{PRODUCTS}/{draft['id']}"))["status"] == "active"
        assert (await read(client, headers, f"{VARIANTS}/{hidden[0]['id']}"))["sku"] == hidden[0]["sku"]
        page = await read(client, headers, f"{PRODUCTS}/{draft['id']}/variants")
        assert [v["id"] for v in page["items"]] == [hidden[0]["id"]]


# ----------------------------------------------------------------------------------------- permissions


async def test_customers_may_not_change_the_catalog_and_anonymous_callers_must_sign_in(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given an active product with a variant, when a customer makes each write (and reads stock), then
    every answer is a 403; an anonymous caller gets 401s; nothing is recorded."""
    acme, manager = await shop(client, app, make_uow)
    customer = await login_as(client, app, acme, "customer")
    product = await make_product(client, manager, status="active")
    variant = await make_variant(client, manager, product["id"])
    p, v = f"{PRODUCTS}/{product['id']}", f"{VARIANTS}/{variant['id']}"
    prices = {"prices": [{"currency": "EUR", "amount": 1}]}
    requests: list[tuple[str, str, Any]] = [
        ("POST", PRODUCTS, {"translations": [{"locale": "en", "title": "Mine"}]}),
        ("PATCH", p, {"metadata": {"x": 1}}),
        ("DELETE", p, None),
        ("POST", f"{p}/publish", None),
        ("POST", f"{p}/unpublish", None),
        ("POST", f"{p}/variants", {"sku": "MINE", "prices": []}),
        ("PATCH", v, {"title": "Mine"}),
        ("DELETE", v, None),
        ("PUT", f"{v}/prices", prices),
        ("GET", f"{v}/inventory", None),
        ("POST", f"{v}/inventory/adjust", {"delta": 1}),
        ("POST", f"{v}/inventory/set", {"quantity": 1}),
    ]

    async with event_recorder.watch() as events:
        as_customer = [await client.request(m, u, json=b, headers=customer) for m, u, b in requests]
        as_anonymous = [await client.request(m, u, json=b, headers=anonymous(acme)) for m, u, b in requests]

    assert [r.status_code for r in as_customer] == [403] * len(requests)
    assert [r.status_code for r in as_anonymous] == [401] * len(requests)
    assert events.types == []
    assert (await read(client, customer, v))["sku"] == variant["sku"]


# ---------------------------------------------------------------------------------------------- tenancy


async def test_another_tenants_products_and_variants_are_404s_to_every_route(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given an active product of tenant A with a variant in stock, when an admin of tenant B reads,
    changes, publishes, deletes, prices or stocks them by id, then every answer is a 404, B's list is
    empty, nothing is recorded and A's data is unchanged."""
    _, owner = await shop(client, app, make_uow)
    globex = await new_tenant(make_uow, "globex")
    intruder = await login_as(client, app, globex, "admin")
    product = await make_product(client, owner, status="active")
    variant = await make_variant(client, owner, product["id"], quantity=4)
    p, v = f"{PRODUCTS}/{product['id']}", f"{VARIANTS}/{variant['id']}"

    async with event_recorder.watch() as events:
        answers = [
            await client.get(p, headers=intruder),
            await client.patch(p, json={"metadata": {"x": 1}}, headers=intruder),
            await client.post(f"{p}/publish", headers=intruder),
            await client.post(f"{p}/unpublish", headers=intruder),
            await client.get(f"{p}/variants", headers=intruder),
            await client.post(f"{p}/variants", json={"sku": "PLANT", "prices": []}, headers=intruder),
            await client.get(v, headers=intruder),
            await client.patch(v, json={"title": "x"}, headers=intruder),
            await client.put(f"{v}/prices", json={"prices": []}, headers=intruder),
            await client.get(f"{v}/inventory", headers=intruder),
            await client.post(f"{v}/inventory/adjust", json={"delta": -4}, headers=intruder),
            await client.post(f"{v}/inventory/set", json={"quantity": 0}, headers=intruder),
            await client.delete(v, headers=intruder),
            await client.delete(p, headers=intruder),
        ]

    assert [r.status_code for r in answers] == [404] * len(answers)
    assert events.types == []
    assert await listed(client, intruder) == []
    assert (await read(client, owner, p))["status"] == "active"
    assert await read(client, owner, v) == variant
    assert (await read(client, owner, f"{v}/inventory"))["quantity"] == 4
