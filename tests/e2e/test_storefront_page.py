"""A storefront's product page, end to end, as a browser on the shop's own domain makes it: one API request
for the product (by handle, in one locale and one currency, with its variants, prices, availability and
images), then the images in two sizes straight from their public URLs, with no header at all — what
``<img srcset>`` does."""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from PIL import Image

from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork
from rustok.tenants.schemas import LocaleIn
from rustok.tenants.service import enable_locale
from rustok.testing import image_bytes, login_as, make_product, make_variant, new_tenant, upload_media

MakeUoW = Callable[..., UnitOfWork]
SHOP = {"Host": "shop.acme.example"}  # the tenant's domain: the storefront sends no tenant header


async def test_a_product_page_is_one_request_and_its_images_come_in_two_sizes(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme", domain="shop.acme.example")
    async with make_uow(TenantScope.of(acme)) as uow:
        await enable_locale(uow, acme, LocaleIn(locale="de"))
    manager = await login_as(client, app, acme, "manager")
    photo = image_bytes(1200, 800, image_format="JPEG")
    photos = [
        await upload_media(client, manager, content=photo, filename=name, content_type="image/jpeg", alt=alt)
        for name, alt in (("front.jpg", "Front"), ("back.jpg", "Back"))
    ]
    product = await make_product(
        client,
        manager,
        status="active",
        translations=[
            {"locale": "en", "title": "Blue shirt", "handle": "blue-shirt", "description": "*Soft* cotton"},
            {
                "locale": "de",
                "title": "Blaues Hemd",
                "handle": "blaues-hemd",
                "description": "*Weiche* Baumwolle",
            },
        ],
        options=[{"name": "Size", "values": ["S", "M"]}],
        images=[{"media_id": photos[0]["id"], "alt": {"de": "Vorne"}}, {"media_id": photos[1]["id"]}],
    )
    prices = [{"currency": "EUR", "amount": 2500}, {"currency": "USD", "amount": 2700}]
    await make_variant(
        client, manager, product["id"], sku="S", options={"Size": "S"}, prices=prices, quantity=3
    )
    await make_variant(
        client, manager, product["id"], sku="M", options={"Size": "M"}, prices=prices, quantity=0
    )

    # The page: one request.
    page = await client.get(
        "/api/commerce/products/by-handle/blaues-hemd",
        params={"locale": "de", "currency": "EUR"},
        headers=SHOP,
    )

    assert page.status_code == 200, page.text
    body = page.json()
    assert [(t["title"], t["description_html"]) for t in body["translations"]] == [
        ("Blaues Hemd", "<p><em>Weiche</em> Baumwolle</p>\n")
    ]
    assert [
        (v["sku"], [(p["currency"], p["amount"]) for p in v["prices"]], v["in_stock"], v["available"])
        for v in body["variants"]
    ] == [("S", [("EUR", 2500)], True, None), ("M", [("EUR", 2500)], False, None)]
    assert [(i["alt"], i["width"], i["height"]) for i in body["images"]] == [
        ("Vorne", 1200, 800),
        ("Back", 1200, 800),
    ]

    # The images: two sizes each, from the URL the page gave, with no header (not even the shop's host).
    for image in body["images"]:
        assert image["url"].startswith("/media/acme/")
        for width, height in ((320, 213), (640, 427)):
            served = await client.get(image["url"], params={"w": width, "format": "webp"})
            assert served.status_code == 200, served.text
            assert served.headers["content-type"] == "image/webp"
            assert "immutable" in served.headers["cache-control"]
            assert Image.open(io.BytesIO(served.content)).size == (width, height)
            again = await client.get(
                image["url"],
                params={"w": width, "format": "webp"},
                headers={"If-None-Match": served.headers["etag"]},
            )
            assert again.status_code == 304
