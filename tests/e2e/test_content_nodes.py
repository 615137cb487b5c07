"""Nodes and comments through the HTTP API (api.md "Content", rbac.md "Comments" and "Scope", events.md):
creation with translations and bodies, slugs, locales, sanitized bodies, reads with locale fallback, lists
with filters and cursors, partial updates in one transaction, deletion with replies, publishing, comments
and their moderation, and tenant isolation. Categories and tags are in test_content_terms.py, concurrency
in test_content_concurrency.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from rustok.core.pagination import encode_cursor
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork
from rustok.tenants.schemas import LocaleIn
from rustok.tenants.service import enable_locale
from rustok.testing import (
    EventRecorder,
    login_as,
    make_category,
    make_comment,
    make_node,
    make_tag,
    new_tenant,
    sign_in_as,
)

MakeUoW = Callable[..., UnitOfWork]
NODES = "/api/content/nodes"


# ---------------------------------------------------------------------------------------------- helpers


def anonymous(tenant_id: uuid.UUID) -> dict[str, str]:
    """The headers of an anonymous request to the tenant."""
    return {"X-Tenant-ID": str(tenant_id)}


async def enable_locales(make_uow: MakeUoW, tenant_id: uuid.UUID, *locales: str) -> None:
    """Enable ``locales`` for the tenant through the tenants service."""
    async with make_uow(TenantScope.of(tenant_id)) as uow:
        for locale in locales:
            await enable_locale(uow, tenant_id, LocaleIn(locale=locale))


def node_json(
    *titles: tuple[str, str], kind: str = "post", bodies: list[dict[str, str]] | None = None, **fields: Any
) -> dict[str, Any]:
    """A node's creation body: ``(locale, title)`` pairs, optional bodies, any other field as it is."""
    data: dict[str, Any] = {
        "kind": kind,
        "translations": [{"locale": locale, "title": title} for locale, title in titles or [("en", "Hello")]],
        **fields,
    }
    if bodies is not None:
        data["bodies"] = bodies
    return data


async def read(client: httpx.AsyncClient, headers: dict[str, str], node_id: str, **params: str) -> Any:
    """The node as the caller sees it (asserting it is visible)."""
    response = await client.get(f"{NODES}/{node_id}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[Any]:
    """The first page (up to 100) of the node list as the caller sees it."""
    response = await client.get(NODES, params={"limit": 100, **params}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


async def listed_ids(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> set[str]:
    return {item["id"] for item in await listed(client, headers, **params)}


async def reply_count(client: httpx.AsyncClient, headers: dict[str, str], node_id: str) -> int:
    count: int = (await read(client, headers, node_id))["reply_count"]
    return count


def slugs_of(node: Any) -> dict[str, str]:
    return {t["locale"]: t["slug"] for t in node["translations"]}


def titles_of(node: Any) -> dict[str, str]:
    return {t["locale"]: t["title"] for t in node["translations"]}


# ------------------------------------------------------------------------------------------------ create


async def test_a_manager_creates_a_published_post_with_translations_bodies_and_a_category(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a tenant with ``de`` enabled, a manager and a category, when the manager creates a published
    post in ``en`` and ``de`` with a body in each, then it is 201 with everything it was given (html
    rendered), and the same request recorded ``node.created``, one ``node.translation.updated`` and one
    ``body.updated`` per locale, and ``node.published``."""
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await sign_in_as(client, app, acme, "manager")
    category = await make_category(client, manager.headers, name="News")
    data = node_json(
        ("en", "Hello world"),
        ("de", "Hallo Welt"),
        status="published",
        category_id=category["id"],
        position=3,
        metadata={"featured": True, "nested": {"n": [1, 2]}},
        bodies=[
            {"locale": "en", "body": "# Hello\n\n*Welcome*", "format": "markdown"},
            {"locale": "de", "body": "<p>Willkommen</p>", "format": "html"},
        ],
    )
    data["translations"][0]["excerpt"] = "The first post"

    async with event_recorder.watch() as events:
        response = await client.post(NODES, json=data, headers=manager.headers)

    assert response.status_code == 201, response.text
    node = response.json()
    assert (node["kind"], node["status"], node["position"], node["depth"]) == ("post", "published", 3, 0)
    assert node["author_id"] == str(manager.user_id)
    assert node["parent_id"] is None
    assert node["reply_count"] == 0
    assert node["metadata"] == {"featured": True, "nested": {"n": [1, 2]}}
    assert node["published_at"] is not None
    assert node["translations"] == [
        {"locale": "de", "title": "Hallo Welt", "slug": "hallo-welt", "excerpt": None},
        {"locale": "en", "title": "Hello world", "slug": "hello-world", "excerpt": "The first post"},
    ]
    bodies = {b["locale"]: b for b in node["bodies"]}
    assert bodies["en"]["format"] == "markdown"
    assert "<h1>Hello</h1>" in bodies["en"]["html"]
    assert "<em>Welcome</em>" in bodies["en"]["html"]
    assert bodies["de"] == {
        "locale": "de",
        "format": "html",
        "body": "<p>Willkommen</p>",
        "html": "<p>Willkommen</p>",
    }
    assert node["category_id"] == category["id"]
    assert node["category"]["id"] == category["id"]
    assert node["category"]["name"] == "News"
    assert node["tags"] == []

    node_id = uuid.UUID(node["id"])
    assert events.types == [
        "node.created",
        "node.translation.updated",
        "node.translation.updated",
        "body.updated",
        "body.updated",
        "node.published",
    ]
    created = events.one("node.created").payload
    assert (created.node_id, created.kind, created.author_id) == (node_id, "post", manager.user_id)
    assert {e.payload.locale for e in events.of_type("node.translation.updated")} == {"en", "de"}
    assert {e.payload.locale for e in events.of_type("body.updated")} == {"en", "de"}
    assert all(e.payload.node_id == node_id for e in events)
    assert events.one("node.published").payload.kind == "post"
    assert {e.tenant_id for e in events} == {acme}


async def test_a_post_is_a_draft_unless_asked_and_records_no_publication(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a manager, when it creates a post without a status, then the post is a draft, has no
    ``published_at``, and no ``node.published`` was recorded."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    async with event_recorder.watch() as events:
        response = await client.post(NODES, json=node_json(("en", "Draft")), headers=manager)

    assert response.status_code == 201
    assert response.json()["status"] == "draft"
    assert response.json()["published_at"] is None
    assert response.json()["bodies"] == []
    assert events.types == ["node.created", "node.translation.updated"]


async def test_a_post_can_be_created_archived(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    async with event_recorder.watch() as events:
        node = await make_node(client, manager, title="Old", status="archived")

    assert node["status"] == "archived"
    assert "node.published" not in events.types


async def test_the_slug_is_transliterated_from_the_title_and_numbered_when_taken(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a manager, when it creates three posts titled "Привет, мир", then their slugs are
    ``privet-mir``, ``privet-mir-2`` and ``privet-mir-3``."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    nodes = [await make_node(client, manager, title="Привет, мир") for _ in range(3)]

    assert [slugs_of(n)["en"] for n in nodes] == ["privet-mir", "privet-mir-2", "privet-mir-3"]


async def test_a_title_that_makes_a_maximal_slug_is_numbered_too(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given two posts whose title makes a slug of the maximal length (200 characters: the base and the
    base cut to fit ``-2``), when a third post with the same title is created, then it gets the next free
    suffix like any other (api.md: "a generated one gets a suffix"), not a 409."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    title = "x" * 250
    first = await make_node(client, manager, title=title)
    second = await make_node(client, manager, title=title)

    third = await client.post(NODES, json=node_json(("en", title)), headers=manager)

    assert len(slugs_of(first)["en"]) == 200
    assert slugs_of(second)["en"] == "x" * 198 + "-2"
    assert third.status_code == 201, third.text
    assert slugs_of(third.json())["en"] == "x" * 198 + "-3"


async def test_an_explicit_slug_is_kept_as_given(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    node = await make_node(client, manager, title="Hello", slug="привет-1")

    assert slugs_of(node) == {"en": "привет-1"}


@pytest.mark.parametrize("slug", ["Hello", "hello world", "hello_world", "-hello", "a" * 201])
async def test_an_invalid_explicit_slug_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, slug: str
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    data = node_json(("en", "Hello"))
    data["translations"][0]["slug"] = slug

    response = await client.post(NODES, json=data, headers=manager)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["loc"][:4] == ["body", "translations", 0, "slug"]


async def test_an_explicit_duplicate_slug_is_a_409_and_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a post with the slug ``hello``, when another post of the same kind and locale asks for
    ``hello``, then it is a 409 ``slug_conflict``, no node was added and no event recorded."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    await make_node(client, manager, title="First", slug="hello")
    data = node_json(("en", "Second"))
    data["translations"][0]["slug"] = "hello"

    async with event_recorder.watch() as events:
        response = await client.post(NODES, json=data, headers=manager)

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "slug_conflict"
    assert events.types == []
    assert [titles_of(n) for n in await listed(client, manager)] == [{"en": "First"}]


async def test_a_creation_whose_second_translation_conflicts_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a post whose ``de`` slug is ``hallo``, when a new post is created with a fine ``en``
    translation and a ``de`` one asking for ``hallo``, then it is a 409 and neither the node nor its
    ``en`` translation exists (one transaction), and no event was recorded."""
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    await make_node(client, manager, title="Hallo", locale="de", slug="hallo")
    data = node_json(("en", "Brand new"), ("de", "Neu"), status="published")
    data["translations"][1]["slug"] = "hallo"

    async with event_recorder.watch() as events:
        response = await client.post(NODES, json=data, headers=manager)

    assert response.status_code == 409
    assert response.json()["code"] == "slug_conflict"
    assert events.types == []
    assert len(await listed(client, manager)) == 1
    by_slug = await client.get(f"{NODES}/by-slug/brand-new", headers=manager)
    assert by_slug.status_code == 404


async def test_the_same_slug_is_free_in_another_kind_and_in_another_locale(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a post ``hello`` in ``en``, when a page ``hello`` in ``en`` and a post ``hello`` in ``de``
    are created, then both succeed with that slug (unique per tenant, kind and locale)."""
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    await make_node(client, manager, title="Hello", slug="hello")

    page = await make_node(client, manager, kind="page", title="Hello", slug="hello")
    german = await make_node(client, manager, title="Hello", locale="de", slug="hello")
    generated_page = await make_node(client, manager, kind="landing", title="Hello")

    assert slugs_of(page) == {"en": "hello"}
    assert slugs_of(german) == {"de": "hello"}
    assert slugs_of(generated_page) == {"en": "hello"}


async def test_the_same_slug_is_free_in_another_tenant(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    globex = await new_tenant(make_uow, "globex")
    await make_node(client, await login_as(client, app, acme, "manager"), title="Hello", slug="hello")

    theirs = await make_node(client, await login_as(client, app, globex, "manager"), title="Hello")

    assert slugs_of(theirs) == {"en": "hello"}


@pytest.mark.parametrize("field", ["translations", "bodies"])
async def test_a_locale_the_tenant_has_not_enabled_is_a_422_and_writes_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    event_recorder: EventRecorder,
    field: str,
) -> None:
    """Given a tenant with only ``en``, when a post names ``de`` in its translations (or bodies), then it
    is a 422 ``locale_not_enabled`` pointing at that item, and nothing was written."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    data = node_json(("en", "Hello"), bodies=[{"locale": "en", "body": "hi"}])
    if field == "translations":
        data["translations"].append({"locale": "de", "title": "Hallo"})
    else:
        data["bodies"].append({"locale": "de", "body": "hallo"})

    async with event_recorder.watch() as events:
        response = await client.post(NODES, json=data, headers=manager)

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "locale_not_enabled"
    assert problem["errors"][0]["loc"] == ["body", field, 1, "locale"]
    assert events.types == []
    assert await listed(client, manager) == []


async def test_a_locale_enabled_through_the_api_can_be_written_at_once(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given an admin that enables ``de`` through ``POST /api/tenant/locales``, when a manager writes a
    ``de`` translation right after, then it is accepted (writes check the database, not a cache)."""
    acme = await new_tenant(make_uow, "acme")
    admin = await login_as(client, app, acme, "admin")
    manager = await login_as(client, app, acme, "manager")
    before = await client.post(NODES, json=node_json(("de", "Hallo")), headers=manager)

    enabled = await client.post("/api/tenant/locales", json={"locale": "de"}, headers=admin)
    after = await client.post(NODES, json=node_json(("de", "Hallo")), headers=manager)

    assert before.status_code == 422
    assert enabled.status_code in (200, 201), enabled.text
    assert after.status_code == 201, after.text


@pytest.mark.parametrize(
    "patch",
    [
        {"translations": [{"locale": "en", "title": "Hel\x00lo"}]},
        {"translations": [{"locale": "en", "title": "Hello", "excerpt": "a\x00b"}]},
        {"bodies": [{"locale": "en", "body": "body \x00 text"}]},
        {"metadata": {"key": "va\x00lue"}},
    ],
    ids=["title", "excerpt", "body", "metadata"],
)
async def test_a_nul_character_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, patch: dict[str, Any]
) -> None:
    """Given text with a NUL character (no database column stores it), when a post is created with it,
    then it is a 422 ``validation_error``, not a 500."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    response = await client.post(NODES, json={**node_json(("en", "Hello")), **patch}, headers=manager)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("field", ["category_id", "parent_id"])
async def test_an_unknown_category_or_parent_is_a_422_invalid_reference(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder, field: str
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    async with event_recorder.watch() as events:
        response = await client.post(
            NODES, json={**node_json(("en", "Hello")), field: str(uuid.uuid4())}, headers=manager
        )

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_reference"
    assert response.json()["errors"][0]["loc"] == ["body", field]
    assert events.types == []


async def test_a_comment_without_a_parent_is_a_422_parent_required(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")

    by_manager = await client.post(NODES, json=node_json(("en", "Orphan"), kind="comment"), headers=manager)
    by_customer = await client.post(NODES, json=node_json(("en", "Orphan"), kind="comment"), headers=customer)

    assert by_manager.status_code == by_customer.status_code == 422
    assert by_manager.json()["code"] == by_customer.json()["code"] == "parent_required"
    assert await listed(client, manager) == []


async def test_a_body_that_is_not_json_is_a_400(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    response = await client.post(
        NODES,
        content=b'{"kind": "post", "translations": [',
        headers={**manager, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({**node_json(("en", "Hello")), "author_id": str(uuid.uuid4())}, ["body", "author_id"]),
        ({**node_json(("en", "Hello")), "tenant_id": str(uuid.uuid4())}, ["body", "tenant_id"]),
        (
            {"kind": "post", "translations": [{"locale": "en", "title": "Hello", "html": "<b>x</b>"}]},
            ["body", "translations", 0, "html"],
        ),
        (
            {**node_json(("en", "Hello")), "bodies": [{"locale": "en", "body": "x", "html": "<script>"}]},
            ["body", "bodies", 0, "html"],
        ),
    ],
    ids=["author_id", "tenant_id", "translation", "body"],
)
async def test_fields_the_api_does_not_know_are_a_422(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, data: dict[str, Any], loc: list[Any]
) -> None:
    """Given a body with a field the schema does not have (the author or tenant, which come from the
    token only, or a ready-made ``html``), when posted, then it is a 422 naming that field."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    response = await client.post(NODES, json=data, headers=manager)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert loc in [e["loc"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "post", "translations": []},
        {"kind": "post"},
        {"kind": "Post!", "translations": [{"locale": "en", "title": "x"}]},
        {"kind": "post", "translations": [{"locale": "en", "title": "   "}]},
        {"kind": "post", "translations": [{"locale": "english", "title": "x"}]},
        {"kind": "post", "translations": [{"locale": "en", "title": "a"}, {"locale": "en", "title": "b"}]},
        {"kind": "post", "translations": [{"locale": "en", "title": "x"}], "status": "live"},
        {"kind": "post", "translations": [{"locale": "en", "title": "x"}], "position": -1},
        {"kind": "post", "translations": [{"locale": "en", "title": "x" * 501}]},
        {
            "kind": "post",
            "translations": [{"locale": "en", "title": "x"}],
            "bodies": [{"locale": "en", "body": "x", "format": "rst"}],
        },
    ],
    ids=[
        "no-translation",
        "translations-missing",
        "bad-kind",
        "blank-title",
        "bad-locale",
        "duplicate-locale",
        "bad-status",
        "negative-position",
        "title-too-long",
        "bad-format",
    ],
)
async def test_a_body_that_breaks_the_schema_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, data: dict[str, Any]
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    response = await client.post(NODES, json=data, headers=manager)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


# -------------------------------------------------------------------------------------------- sanitizing


async def test_a_markdown_body_is_served_rendered_and_sanitized(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a markdown body with a script, event handlers and a ``javascript:`` link, when the post is
    read back, then its ``html`` has none of them, its good link carries ``rel="noopener ..."``, and the
    source ``body`` is stored as it was written."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    source = (
        "# Title\n\n"
        "<script>alert('x')</script>\n\n"
        '<img src="https://example.com/a.png" onerror="alert(1)">\n\n'
        '<a href="https://example.com" onclick="steal()">site</a>\n\n'
        "[bad](javascript:alert(1)) and "
        '<a href="javascript:alert(2)">worse</a> and [good](https://example.org/page)\n'
    )
    created = await make_node(client, manager, title="Hostile", body=source, status="published")

    node = await read(client, anonymous(acme), created["id"])

    body = node["bodies"][0]
    assert body["body"] == source
    html = body["html"]
    assert "<h1>Title</h1>" in html
    assert "<script" not in html
    assert "onerror" not in html
    assert "onclick" not in html
    assert 'href="javascript' not in html
    assert '<img src="https://example.com/a.png">' in html
    assert '<a href="https://example.org/page" rel="noopener noreferrer nofollow">good</a>' in html
    assert created["bodies"][0]["html"] == html


async def test_an_html_body_is_sanitized_and_a_plain_one_escaped(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    markup = '<p onclick="x()">Hi <a href="https://example.com">there</a></p><script>alert(1)</script>'

    as_html = await make_node(client, manager, title="Html", body=markup, body_format="html")
    as_plain = await make_node(client, manager, title="Plain", body=markup, body_format="plain")

    assert as_html["bodies"][0]["html"] == (
        '<p>Hi <a href="https://example.com" rel="noopener noreferrer nofollow">there</a></p>'
    )
    plain = as_plain["bodies"][0]["html"]
    assert plain.startswith("<p>&lt;p onclick=&quot;x()&quot;&gt;Hi")
    assert "<script" not in plain
    assert "&lt;script&gt;" in plain


# ------------------------------------------------------------------------------------------ read by id


async def test_a_node_is_served_in_the_asked_locale_else_the_default_else_all(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a published post in ``en`` and ``de`` with a body in each, when it is read with
    ``?locale=de``, ``?locale=fr`` (not there) and no locale, then it serves the ``de`` translation and
    body, the default ``en`` ones, and every translation and body."""
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    created = await make_node(
        client,
        manager,
        status="published",
        translations=[{"locale": "en", "title": "Hello"}, {"locale": "de", "title": "Hallo"}],
        bodies=[{"locale": "en", "body": "Hello body"}, {"locale": "de", "body": "Hallo Text"}],
    )
    everyone = anonymous(acme)

    german = await read(client, everyone, created["id"], locale="de")
    french = await read(client, everyone, created["id"], locale="fr")
    every = await read(client, everyone, created["id"])

    assert titles_of(german) == {"de": "Hallo"}
    assert [b["body"] for b in german["bodies"]] == ["Hallo Text"]
    assert titles_of(french) == {"en": "Hello"}
    assert [b["locale"] for b in french["bodies"]] == ["en"]
    assert titles_of(every) == {"en": "Hello", "de": "Hallo"}
    assert {b["locale"] for b in every["bodies"]} == {"en", "de"}


async def test_a_node_without_the_default_locale_falls_back_to_the_one_it_has(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    created = await make_node(client, manager, title="Nur Deutsch", locale="de", status="published")

    node = await read(client, anonymous(acme), created["id"], locale="fr")

    assert titles_of(node) == {"de": "Nur Deutsch"}


async def test_an_invalid_locale_query_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    node = await make_node(client, manager, status="published")

    response = await client.get(f"{NODES}/{node['id']}", params={"locale": "EN!"}, headers=manager)

    assert response.status_code == 422


async def test_a_draft_is_a_404_to_anonymous_callers_and_customers_but_not_to_staff(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    admin = await login_as(client, app, acme, "admin")
    customer = await login_as(client, app, acme, "customer")
    draft = await make_node(client, manager, title="Secret")
    path = f"{NODES}/{draft['id']}"

    as_anonymous = await client.get(path, headers=anonymous(acme))
    as_customer = await client.get(path, headers=customer)
    missing = await client.get(f"{NODES}/{uuid.uuid4()}", headers=customer)
    as_manager = await client.get(path, headers=manager)
    as_admin = await client.get(path, headers=admin)

    assert as_anonymous.status_code == as_customer.status_code == 404
    assert as_customer.json()["code"] == missing.json()["code"] == "not_found"
    assert "Secret" not in as_customer.text
    assert as_manager.status_code == as_admin.status_code == 200
    assert as_manager.json()["status"] == "draft"


async def test_an_archived_node_is_a_404_to_anonymous_callers(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    archived = await make_node(client, manager, title="Old", status="archived")

    response = await client.get(f"{NODES}/{archived['id']}", headers=anonymous(acme))

    assert response.status_code == 404


async def test_a_malformed_node_id_is_a_422(client: httpx.AsyncClient, make_uow: MakeUoW) -> None:
    acme = await new_tenant(make_uow, "acme")

    response = await client.get(f"{NODES}/not-a-uuid", headers=anonymous(acme))

    assert response.status_code == 422


# ------------------------------------------------------------------------------------------ read by slug


async def test_a_node_is_found_by_slug_with_kind_and_locale(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a published post ``hello``/``hallo`` and a published page ``hello``, when they are read by
    slug with ``kind`` and ``locale``, then each finds the right node, served in the asked locale, else
    the default; a kind that has no such slug is a 404."""
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    post = await make_node(
        client,
        manager,
        status="published",
        translations=[
            {"locale": "en", "title": "Hello", "slug": "hello"},
            {"locale": "de", "title": "Hallo", "slug": "hallo"},
        ],
    )
    page = await make_node(client, manager, kind="page", title="Hello page", slug="hello", status="published")
    everyone = anonymous(acme)

    post_de = await client.get(
        f"{NODES}/by-slug/hallo", params={"kind": "post", "locale": "de"}, headers=everyone
    )
    post_fr = await client.get(
        f"{NODES}/by-slug/hello", params={"kind": "post", "locale": "fr"}, headers=everyone
    )
    german_slug_in_fr = await client.get(
        f"{NODES}/by-slug/hallo", params={"kind": "post", "locale": "fr"}, headers=everyone
    )
    page_en = await client.get(f"{NODES}/by-slug/hello", params={"kind": "page"}, headers=everyone)
    no_such_kind = await client.get(f"{NODES}/by-slug/hallo", params={"kind": "page"}, headers=everyone)
    unknown = await client.get(f"{NODES}/by-slug/nothing-here", headers=everyone)

    assert post_de.status_code == 200
    assert post_de.json()["id"] == post["id"]
    assert titles_of(post_de.json()) == {"de": "Hallo"}
    assert post_de.json()["bodies"] == []
    assert post_fr.json()["id"] == post["id"]
    assert titles_of(post_fr.json()) == {"en": "Hello"}
    assert german_slug_in_fr.json()["id"] == post["id"]
    assert page_en.json()["id"] == page["id"]
    assert titles_of(page_en.json()) == {"en": "Hello page"}
    assert no_such_kind.status_code == unknown.status_code == 404


async def test_a_slug_in_the_asked_locale_wins_over_the_same_slug_elsewhere(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given post A with ``en`` slug ``gift`` and post B with ``de`` slug ``gift``, when ``gift`` is read
    with ``?locale=de`` and with ``?locale=en``, then B and A answer."""
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    english = await make_node(client, manager, title="Gift", slug="gift", status="published")
    german = await make_node(client, manager, title="Gift", locale="de", slug="gift", status="published")

    in_de = await client.get(f"{NODES}/by-slug/gift", params={"locale": "de"}, headers=anonymous(acme))
    in_en = await client.get(f"{NODES}/by-slug/gift", params={"locale": "en"}, headers=anonymous(acme))
    default = await client.get(f"{NODES}/by-slug/gift", headers=anonymous(acme))

    assert in_de.json()["id"] == german["id"]
    assert in_en.json()["id"] == english["id"]
    assert default.json()["id"] == english["id"]


async def test_a_draft_is_a_404_by_slug_to_anonymous_callers(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    await make_node(client, manager, title="Secret", slug="secret")

    as_anonymous = await client.get(f"{NODES}/by-slug/secret", headers=anonymous(acme))
    as_customer = await client.get(f"{NODES}/by-slug/secret", headers=customer)
    as_manager = await client.get(f"{NODES}/by-slug/secret", headers=manager)

    assert as_anonymous.status_code == as_customer.status_code == 404
    assert as_manager.status_code == 200


# ------------------------------------------------------------------------------------------------- lists


async def test_the_list_filters_by_kind_status_locale_category_author_and_parent(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await sign_in_as(client, app, acme, "manager")
    other = await sign_in_as(client, app, acme, "manager")
    headers = manager.headers
    news = await make_category(client, headers, name="News")
    post = await make_node(client, headers, title="Post", status="published", category_id=news["id"])
    draft = await make_node(client, headers, title="Draft")
    page = await make_node(client, other.headers, kind="page", title="Page", status="published")
    german = await make_node(client, headers, title="Deutsch", locale="de", status="published")
    comment = await make_comment(client, headers, post["id"])

    assert await listed_ids(client, headers) == {
        post["id"],
        draft["id"],
        page["id"],
        german["id"],
        comment["id"],
    }
    assert await listed_ids(client, headers, kind="post") == {post["id"], draft["id"], german["id"]}
    assert await listed_ids(client, headers, kind="page") == {page["id"]}
    assert await listed_ids(client, headers, status="draft") == {draft["id"]}
    assert await listed_ids(client, headers, status="published", kind="post") == {post["id"], german["id"]}
    assert await listed_ids(client, headers, locale="de") == {german["id"]}
    assert await listed_ids(client, headers, category_id=news["id"]) == {post["id"]}
    assert await listed_ids(client, headers, author_id=str(other.user_id)) == {page["id"]}
    assert await listed_ids(client, headers, parent_id=post["id"]) == {comment["id"]}
    assert await listed_ids(client, headers, kind="nothing") == set()
    assert await listed_ids(client, headers, category_id=str(uuid.uuid4())) == set()


async def test_the_list_serves_the_locale_it_filters_by(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    await make_node(
        client,
        manager,
        status="published",
        translations=[{"locale": "en", "title": "Hello"}, {"locale": "de", "title": "Hallo"}],
    )

    german = await listed(client, anonymous(acme), locale="de")
    every = await listed(client, anonymous(acme))

    assert [titles_of(n) for n in german] == [{"de": "Hallo"}]
    assert [titles_of(n) for n in every] == [{"en": "Hello", "de": "Hallo"}]


async def test_the_list_filters_by_tag_id_or_slug(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    tagged = await make_node(client, manager, title="Tagged", status="published")
    await make_node(client, manager, title="Untagged", status="published")
    tag = await make_tag(client, manager, name="Python Tips")
    attached = await client.put(f"{NODES}/{tagged['id']}/tags/{tag['id']}", headers=manager)
    assert attached.status_code == 204

    by_id = await listed_ids(client, anonymous(acme), tag=tag["id"])
    by_slug = await listed_ids(client, anonymous(acme), tag="python-tips")
    unknown_slug = await listed_ids(client, anonymous(acme), tag="no-such-tag")
    unknown_id = await listed_ids(client, anonymous(acme), tag=str(uuid.uuid4()))

    assert by_id == by_slug == {tagged["id"]}
    assert unknown_slug == unknown_id == set()


async def test_anonymous_callers_and_customers_list_published_nodes_only(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a published post, a draft and an archived post, when anonymous callers, customers and
    managers list nodes, then the first two see the published one only (also when they filter on
    ``status=draft``), the manager sees all three."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    published = await make_node(client, manager, title="Out", status="published")
    draft = await make_node(client, manager, title="Draft")
    archived = await make_node(client, manager, title="Old", status="archived")

    for headers in (anonymous(acme), customer):
        assert await listed_ids(client, headers) == {published["id"]}
        assert await listed_ids(client, headers, status="draft") == set()
        assert await listed_ids(client, headers, status="archived") == set()
    assert await listed_ids(client, manager) == {published["id"], draft["id"], archived["id"]}


async def test_list_items_carry_no_bodies(client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    await make_node(client, manager, title="With body", body="Some **text**", status="published")

    items = await listed(client, anonymous(acme))

    assert len(items) == 1
    assert items[0]["bodies"] is None
    assert titles_of(items[0]) == {"en": "With body"}


async def test_the_list_pages_with_a_cursor_without_overlap(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given five posts, when they are listed two at a time following ``next_cursor``, then the pages
    hold 2, 2 and 1 nodes, newest first, none twice, and the last page has no cursor."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    created = [(await make_node(client, manager, title=f"Post {n}"))["id"] for n in range(5)]

    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(NODES, params=params, headers=manager)
        assert response.status_code == 200
        pages.append([item["id"] for item in response.json()["items"]])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 5, "the cursor never ends"

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [node_id for page in pages for node_id in page] == list(reversed(created))


async def test_the_list_sorts_by_creation_either_way_or_by_position(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    positions = [3, 1, 2, 1]
    created = [(await make_node(client, manager, title=f"P{p}", position=p))["id"] for p in positions]

    newest_first = [n["id"] for n in await listed(client, manager)]
    oldest_first = [n["id"] for n in await listed(client, manager, sort="created")]
    by_position = [n["id"] for n in await listed(client, manager, sort="position")]
    paged: list[str] = []
    first = await client.get(NODES, params={"sort": "position", "limit": 3}, headers=manager)
    paged += [n["id"] for n in first.json()["items"]]
    rest = await client.get(
        NODES, params={"sort": "position", "limit": 3, "cursor": first.json()["next_cursor"]}, headers=manager
    )
    paged += [n["id"] for n in rest.json()["items"]]

    assert newest_first == list(reversed(created))
    assert oldest_first == created
    assert by_position == [created[1], created[3], created[2], created[0]]
    assert paged == by_position


@pytest.mark.parametrize("params", [{"cursor": "not-a-cursor!"}, {"cursor": encode_cursor([1, 2])}])
async def test_a_cursor_the_api_did_not_issue_is_a_400(
    client: httpx.AsyncClient, make_uow: MakeUoW, params: dict[str, str]
) -> None:
    acme = await new_tenant(make_uow, "acme")

    response = await client.get(NODES, params=params, headers=anonymous(acme))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("sort", ["-created", "created", "position"])
async def test_a_cursor_with_values_of_the_wrong_type_is_a_400_not_a_500(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, sort: str
) -> None:
    """Given a well-formed cursor of the right length whose values are not the list's key types (a text
    where the id goes), when the node list is asked for that page, then it is a 400 ``invalid_cursor``
    (api.md: "A 5xx is always a bug")."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    await make_node(client, manager, status="published")
    forged = encode_cursor(["zzz"] if sort != "position" else ["high", "zzz"])

    response = await client.get(NODES, params={"cursor": forged, "sort": sort}, headers=anonymous(acme))

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"sort": "title"}, {"status": "live"}])
async def test_list_parameters_out_of_range_are_a_422(
    client: httpx.AsyncClient, make_uow: MakeUoW, params: dict[str, Any]
) -> None:
    acme = await new_tenant(make_uow, "acme")

    response = await client.get(NODES, params=params, headers=anonymous(acme))

    assert response.status_code == 422


# ------------------------------------------------------------------------------------------------- PATCH


async def test_a_patch_changes_only_what_it_names(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a post with a body, a position and metadata, when a PATCH changes the position and the
    metadata, then only those change and only ``node.updated`` is recorded."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    node = await make_node(client, manager, title="Hello", body="Body", position=1, metadata={"a": 1})

    async with event_recorder.watch() as events:
        response = await client.patch(
            f"{NODES}/{node['id']}", json={"position": 5, "metadata": {"b": 2}}, headers=manager
        )

    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["position"], changed["metadata"]) == (5, {"b": 2})
    assert changed["translations"] == node["translations"]
    assert changed["bodies"] == node["bodies"]
    assert changed["status"] == "draft"
    assert events.types == ["node.updated"]
    assert events.one("node.updated").payload.node_id == uuid.UUID(node["id"])


async def test_a_patch_upserts_translations_per_locale_and_keeps_the_slug_when_the_title_changes(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a post in ``en`` and ``fr``, when a PATCH retitles ``en`` and adds ``de``, then ``en`` keeps
    its slug (links stay valid), ``de`` gets one from its title, ``fr`` is untouched, and a
    ``node.translation.updated`` is recorded for ``en`` and ``de`` only."""
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de", "fr")
    manager = await login_as(client, app, acme, "manager")
    node = await make_node(
        client,
        manager,
        translations=[
            {"locale": "en", "title": "Hello", "excerpt": "Short"},
            {"locale": "fr", "title": "Bonjour"},
        ],
    )

    async with event_recorder.watch() as events:
        response = await client.patch(
            f"{NODES}/{node['id']}",
            json={
                "translations": [
                    {"locale": "en", "title": "Hello again"},
                    {"locale": "de", "title": "Grüße"},
                ]
            },
            headers=manager,
        )

    assert response.status_code == 200, response.text
    by_locale = {t["locale"]: t for t in response.json()["translations"]}
    assert by_locale["en"] == {"locale": "en", "title": "Hello again", "slug": "hello", "excerpt": "Short"}
    assert by_locale["de"]["slug"] == "grusse"
    assert by_locale["fr"] == {"locale": "fr", "title": "Bonjour", "slug": "bonjour", "excerpt": None}
    assert events.types == ["node.translation.updated", "node.translation.updated"]
    assert [e.payload.locale for e in events] == ["en", "de"]


async def test_a_patch_changes_the_slug_when_given_one(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    node = await make_node(client, manager, title="Hello", status="published")

    async with event_recorder.watch() as events:
        response = await client.patch(
            f"{NODES}/{node['id']}",
            json={"translations": [{"locale": "en", "title": "Hello", "slug": "greetings"}]},
            headers=manager,
        )

    assert response.status_code == 200
    assert slugs_of(response.json()) == {"en": "greetings"}
    assert events.types == ["node.translation.updated"]
    assert (await client.get(f"{NODES}/by-slug/greetings", headers=anonymous(acme))).status_code == 200
    assert (await client.get(f"{NODES}/by-slug/hello", headers=anonymous(acme))).status_code == 404


async def test_a_patch_to_a_slug_another_node_holds_is_a_409(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    await make_node(client, manager, title="Taken", slug="taken")
    node = await make_node(client, manager, title="Mine")

    response = await client.patch(
        f"{NODES}/{node['id']}",
        json={"translations": [{"locale": "en", "title": "Mine", "slug": "taken"}]},
        headers=manager,
    )

    assert response.status_code == 409
    assert response.json()["code"] == "slug_conflict"


async def test_a_patch_giving_the_slug_the_node_has_is_no_change(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    node = await make_node(client, manager, title="Hello")

    async with event_recorder.watch() as events:
        response = await client.patch(
            f"{NODES}/{node['id']}",
            json={"translations": [{"locale": "en", "title": "Hello", "slug": "hello"}]},
            headers=manager,
        )

    assert response.status_code == 200
    assert slugs_of(response.json()) == {"en": "hello"}
    assert events.types == []


async def test_a_patch_upserts_bodies_per_locale(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a post with ``en`` and ``de`` bodies, when a PATCH rewrites ``en``, repeats ``de`` as it
    is and adds ``fr``, then ``en`` is re-rendered, ``de`` stays, ``fr`` exists, and ``body.updated`` is
    recorded for ``en`` and ``fr`` only."""
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de", "fr")
    manager = await login_as(client, app, acme, "manager")
    node = await make_node(
        client,
        manager,
        title="Hello",
        bodies=[{"locale": "en", "body": "old"}, {"locale": "de", "body": "alt"}],
    )

    async with event_recorder.watch() as events:
        response = await client.patch(
            f"{NODES}/{node['id']}",
            json={
                "bodies": [
                    {"locale": "en", "body": "**new** <script>x</script>"},
                    {"locale": "de", "body": "alt"},
                    {"locale": "fr", "body": "neuf", "format": "plain"},
                ]
            },
            headers=manager,
        )

    assert response.status_code == 200, response.text
    bodies = {b["locale"]: b for b in response.json()["bodies"]}
    assert bodies["en"]["body"] == "**new** <script>x</script>"
    assert "<strong>new</strong>" in bodies["en"]["html"]
    assert "<script" not in bodies["en"]["html"]
    assert bodies["de"]["body"] == "alt"
    assert (bodies["fr"]["format"], bodies["fr"]["html"]) == ("plain", "<p>neuf</p>")
    assert events.types == ["body.updated", "body.updated"]
    assert [e.payload.locale for e in events] == ["en", "fr"]


async def test_a_patch_changing_only_the_body_format_re_renders_it(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    node = await make_node(client, manager, title="Hello", body="**bold**")

    async with event_recorder.watch() as events:
        response = await client.patch(
            f"{NODES}/{node['id']}",
            json={"bodies": [{"locale": "en", "body": "**bold**", "format": "plain"}]},
            headers=manager,
        )

    assert response.json()["bodies"][0]["html"] == "<p>**bold**</p>"
    assert events.types == ["body.updated"]


async def test_a_patch_that_changes_nothing_records_no_event(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a post, when a PATCH repeats every value it has, then it is a 200 and nothing is
    recorded (and ``updated_at`` stays)."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    node = await make_node(client, manager, title="Hello", body="Body", position=2, metadata={"a": 1})
    same = {
        "position": 2,
        "metadata": {"a": 1},
        "status": "draft",
        "category_id": None,
        "parent_id": None,
        "translations": [{"locale": "en", "title": "Hello"}],
        "bodies": [{"locale": "en", "body": "Body", "format": "markdown"}],
    }

    async with event_recorder.watch() as events:
        response = await client.patch(f"{NODES}/{node['id']}", json=same, headers=manager)
        empty = await client.patch(f"{NODES}/{node['id']}", json={}, headers=manager)

    assert response.status_code == empty.status_code == 200
    assert events.types == []
    assert response.json()["updated_at"] == node["updated_at"]


async def test_a_patch_to_archived_is_an_update_and_from_published_an_unpublication(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    draft = await make_node(client, manager, title="Draft")
    published = await make_node(client, manager, title="Out", status="published")

    async with event_recorder.watch() as draft_events:
        archived = await client.patch(f"{NODES}/{draft['id']}", json={"status": "archived"}, headers=manager)
    async with event_recorder.watch() as published_events:
        retired = await client.patch(
            f"{NODES}/{published['id']}", json={"status": "archived"}, headers=manager
        )

    assert archived.json()["status"] == retired.json()["status"] == "archived"
    assert draft_events.types == ["node.updated"]
    assert published_events.types == ["node.unpublished"]
    assert (await client.get(f"{NODES}/{published['id']}", headers=anonymous(acme))).status_code == 404


async def test_a_patch_can_publish_a_node(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    draft = await make_node(client, manager, title="Draft")

    async with event_recorder.watch() as events:
        response = await client.patch(
            f"{NODES}/{draft['id']}", json={"status": "published", "position": 4}, headers=manager
        )

    assert response.json()["status"] == "published"
    assert response.json()["published_at"] is not None
    assert sorted(events.types) == ["node.published", "node.updated"]
    assert (await client.get(f"{NODES}/{draft['id']}", headers=anonymous(acme))).status_code == 200


async def test_a_patch_sets_and_clears_the_category(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    category = await make_category(client, manager, name="News")
    node = await make_node(client, manager, title="Hello")

    set_ = await client.patch(f"{NODES}/{node['id']}", json={"category_id": category["id"]}, headers=manager)
    async with event_recorder.watch() as events:
        cleared = await client.patch(f"{NODES}/{node['id']}", json={"category_id": None}, headers=manager)
    unknown = await client.patch(
        f"{NODES}/{node['id']}", json={"category_id": str(uuid.uuid4())}, headers=manager
    )

    assert set_.json()["category_id"] == category["id"]
    assert set_.json()["category"]["name"] == "News"
    assert cleared.status_code == 200
    assert (cleared.json()["category_id"], cleared.json()["category"]) == (None, None)
    assert events.types == ["node.updated"]
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "invalid_reference"


async def test_a_patch_whose_second_translation_conflicts_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given post A (``en`` "Hello", ``de`` "Hallo") and post B holding the ``de`` slug ``taken``, when a
    PATCH of A retitles ``en`` and asks ``de`` for ``taken``, then it is a 409 ``slug_conflict``, A's
    ``en`` title is unchanged (one transaction) and no event was recorded."""
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    await make_node(client, manager, title="Besetzt", locale="de", slug="taken")
    node = await make_node(
        client,
        manager,
        translations=[{"locale": "en", "title": "Hello"}, {"locale": "de", "title": "Hallo"}],
        bodies=[{"locale": "en", "body": "old"}],
    )

    async with event_recorder.watch() as events:
        response = await client.patch(
            f"{NODES}/{node['id']}",
            json={
                "position": 9,
                "bodies": [{"locale": "en", "body": "new"}],
                "translations": [
                    {"locale": "en", "title": "Changed"},
                    {"locale": "de", "title": "Hallo", "slug": "taken"},
                ],
            },
            headers=manager,
        )

    assert response.status_code == 409
    assert response.json()["code"] == "slug_conflict"
    assert events.types == []
    after = await read(client, manager, node["id"])
    assert titles_of(after) == {"en": "Hello", "de": "Hallo"}
    assert slugs_of(after) == {"en": "hello", "de": "hallo"}
    assert after["position"] == 0
    assert after["bodies"][0]["body"] == "old"


async def test_a_patch_in_a_locale_not_enabled_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    node = await make_node(client, manager, title="Hello")

    async with event_recorder.watch() as events:
        response = await client.patch(
            f"{NODES}/{node['id']}",
            json={"position": 3, "bodies": [{"locale": "en", "body": "x"}, {"locale": "it", "body": "y"}]},
            headers=manager,
        )

    assert response.status_code == 422
    assert response.json()["code"] == "locale_not_enabled"
    assert response.json()["errors"][0]["loc"] == ["body", "bodies", 1, "locale"]
    assert events.types == []
    assert (await read(client, manager, node["id"]))["position"] == 0


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "page"},
        {"author_id": str(uuid.uuid4())},
        {"translations": [{"locale": "en"}]},
        {"position": -1},
    ],
    ids=["kind", "author_id", "title-missing", "negative-position"],
)
async def test_a_patch_that_breaks_the_schema_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, data: dict[str, Any]
) -> None:
    """Given a post, when a PATCH names a field it may not change (``kind``, ``author_id``) or gives an
    invalid value, then it is a 422."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    node = await make_node(client, manager, title="Hello")

    response = await client.patch(f"{NODES}/{node['id']}", json=data, headers=manager)

    assert response.status_code == 422
    assert (await read(client, manager, node["id"]))["kind"] == "post"


async def test_a_patch_of_a_missing_node_is_a_404(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    response = await client.patch(f"{NODES}/{uuid.uuid4()}", json={"position": 1}, headers=manager)

    assert response.status_code == 404


# ------------------------------------------------------------------------------------------------ DELETE


async def test_deleting_a_node_deletes_its_replies_and_announces_each(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a post with a comment that has a reply, when the post is deleted, then it is a 204, a
    ``node.deleted`` is recorded for the post, the comment and the reply, and all three are gone."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    post = await make_node(client, manager, title="Post", status="published", body="b")
    comment = await make_comment(client, manager, post["id"])
    reply = await make_comment(client, manager, comment["id"], text="Thanks")

    async with event_recorder.watch() as events:
        response = await client.delete(f"{NODES}/{post['id']}", headers=manager)

    assert response.status_code == 204
    assert response.content == b""
    assert events.types == ["node.deleted"] * 3
    assert {(e.payload.node_id, e.payload.kind) for e in events} == {
        (uuid.UUID(post["id"]), "post"),
        (uuid.UUID(comment["id"]), "comment"),
        (uuid.UUID(reply["id"]), "comment"),
    }
    for node in (post, comment, reply):
        assert (await client.get(f"{NODES}/{node['id']}", headers=manager)).status_code == 404
    assert await listed(client, manager) == []
    assert (await client.delete(f"{NODES}/{post['id']}", headers=manager)).status_code == 404


async def test_a_deleted_nodes_slug_is_free_again(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    node = await make_node(client, manager, title="Hello", slug="hello")
    assert (await client.delete(f"{NODES}/{node['id']}", headers=manager)).status_code == 204

    again = await make_node(client, manager, title="Hello", slug="hello")

    assert slugs_of(again) == {"en": "hello"}


# --------------------------------------------------------------------------------------------- publishing


async def test_publish_and_unpublish_move_a_node_and_refuse_what_does_not_apply(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a draft, when it is published, published again, unpublished, unpublished again and
    published once more, then the transitions that apply answer the node with ``node.published`` /
    ``node.unpublished``, the others are 409 ``invalid_transition``, and ``published_at`` is set on the
    first publication and kept."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    draft = await make_node(client, manager, title="Hello")
    publish, unpublish = f"{NODES}/{draft['id']}/publish", f"{NODES}/{draft['id']}/unpublish"

    async with event_recorder.watch() as events:
        published = await client.post(publish, headers=manager)
        again = await client.post(publish, headers=manager)
        unpublished = await client.post(unpublish, headers=manager)
        not_published = await client.post(unpublish, headers=manager)
        republished = await client.post(publish, headers=manager)

    assert published.status_code == 200
    assert published.json()["status"] == "published"
    first_published_at = published.json()["published_at"]
    assert first_published_at is not None
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    assert unpublished.status_code == 200
    assert unpublished.json()["status"] == "draft"
    assert not_published.status_code == 409
    assert not_published.json()["code"] == "invalid_transition"
    assert republished.json()["published_at"] == first_published_at
    assert events.types == ["node.published", "node.unpublished", "node.published"]
    assert all(e.payload.node_id == uuid.UUID(draft["id"]) for e in events)


async def test_an_archived_node_can_be_published_but_not_unpublished(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    archived = await make_node(client, manager, title="Old", status="archived")

    unpublished = await client.post(f"{NODES}/{archived['id']}/unpublish", headers=manager)
    published = await client.post(f"{NODES}/{archived['id']}/publish", headers=manager)

    assert unpublished.status_code == 409
    assert published.status_code == 200
    assert published.json()["status"] == "published"


async def test_customers_and_anonymous_callers_cannot_publish(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    post = await make_node(client, manager, title="Out", status="published")
    comment = await make_comment(client, customer, post["id"])

    unpublish_post = await client.post(f"{NODES}/{post['id']}/unpublish", headers=customer)
    unpublish_own_comment = await client.post(f"{NODES}/{comment['id']}/unpublish", headers=customer)
    anonymous_publish = await client.post(f"{NODES}/{post['id']}/unpublish", headers=anonymous(acme))
    create_published = await client.post(
        NODES, json=node_json(("en", "Mine"), status="published"), headers=customer
    )

    assert unpublish_post.status_code == unpublish_own_comment.status_code == 403
    assert unpublish_post.json()["code"] == "forbidden"
    assert anonymous_publish.status_code == 401
    assert create_published.status_code == 403
    assert (await read(client, anonymous(acme), post["id"]))["status"] == "published"


async def test_publishing_a_missing_node_is_a_404(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    response = await client.post(f"{NODES}/{uuid.uuid4()}/publish", headers=manager)

    assert response.status_code == 404


# ----------------------------------------------------------------------------------------------- comments


async def test_a_customers_comment_on_a_published_post_is_published_and_counted(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a published post on a tenant that does not moderate comments, when a customer comments,
    then the comment is published at once, at depth 1, authored by the customer, and the post's
    ``reply_count`` is 1."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await sign_in_as(client, app, acme, "customer")
    post = await make_node(client, manager, title="Post", status="published")

    async with event_recorder.watch() as events:
        response = await client.post(
            NODES,
            json=node_json(
                ("en", "Nice post"),
                kind="comment",
                parent_id=post["id"],
                bodies=[{"locale": "en", "body": "I *liked* it"}],
            ),
            headers=customer.headers,
        )

    assert response.status_code == 201, response.text
    comment = response.json()
    assert (comment["kind"], comment["status"], comment["depth"]) == ("comment", "published", 1)
    assert comment["parent_id"] == post["id"]
    assert comment["author_id"] == str(customer.user_id)
    assert await reply_count(client, anonymous(acme), post["id"]) == 1
    assert events.types == ["node.created", "node.translation.updated", "body.updated", "node.published"]
    assert events.one("node.created").payload.author_id == customer.user_id
    assert await listed_ids(client, anonymous(acme), parent_id=post["id"]) == {comment["id"]}


async def test_a_moderated_tenant_keeps_comments_as_drafts_until_a_manager_publishes_them(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a tenant with ``comments_moderation`` and a published post, when a customer comments, then
    the comment is a draft that only its author and the staff see and the post counts 0 replies; when a
    manager publishes it the count is 1, unpublishes it 0, and deleting it after publishing again
    brings the count back to 0."""
    acme = await new_tenant(make_uow, "acme", settings={"comments_moderation": True})
    manager = await login_as(client, app, acme, "manager")
    author = await login_as(client, app, acme, "customer")
    stranger = await login_as(client, app, acme, "customer")
    post = await make_node(client, manager, title="Post", status="published")

    comment = await make_comment(client, author, post["id"], text="First!")

    assert comment["status"] == "draft"
    assert await reply_count(client, anonymous(acme), post["id"]) == 0
    assert (await client.get(f"{NODES}/{comment['id']}", headers=author)).status_code == 200
    assert (await client.get(f"{NODES}/{comment['id']}", headers=stranger)).status_code == 404
    assert (await client.get(f"{NODES}/{comment['id']}", headers=anonymous(acme))).status_code == 404
    assert await listed_ids(client, author, parent_id=post["id"]) == {comment["id"]}
    assert await listed_ids(client, stranger, parent_id=post["id"]) == set()
    assert await listed_ids(client, manager, parent_id=post["id"]) == {comment["id"]}

    async with event_recorder.watch() as events:
        published = await client.post(f"{NODES}/{comment['id']}/publish", headers=manager)
    assert published.status_code == 200
    assert events.types == ["node.published"]
    assert await reply_count(client, anonymous(acme), post["id"]) == 1
    assert (await client.get(f"{NODES}/{comment['id']}", headers=stranger)).status_code == 200

    unpublished = await client.post(f"{NODES}/{comment['id']}/unpublish", headers=manager)
    assert unpublished.status_code == 200
    assert await reply_count(client, anonymous(acme), post["id"]) == 0

    assert (await client.post(f"{NODES}/{comment['id']}/publish", headers=manager)).status_code == 200
    assert await reply_count(client, anonymous(acme), post["id"]) == 1
    assert (await client.delete(f"{NODES}/{comment['id']}", headers=manager)).status_code == 204
    assert await reply_count(client, anonymous(acme), post["id"]) == 0


async def test_a_customer_cannot_publish_a_comment_on_a_moderated_tenant(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme", settings={"comments_moderation": True})
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    post = await make_node(client, manager, title="Post", status="published")
    draft = await make_comment(client, customer, post["id"])

    created_published = await client.post(
        NODES,
        json=node_json(("en", "Me"), kind="comment", parent_id=post["id"], status="published"),
        headers=customer,
    )
    publish = await client.post(f"{NODES}/{draft['id']}/publish", headers=customer)
    patch = await client.patch(f"{NODES}/{draft['id']}", json={"status": "published"}, headers=customer)

    assert created_published.status_code == publish.status_code == patch.status_code == 403
    assert await reply_count(client, manager, post["id"]) == 0


async def test_a_managers_comment_on_a_moderated_tenant_is_published(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme", settings={"comments_moderation": True})
    manager = await login_as(client, app, acme, "manager")
    post = await make_node(client, manager, title="Post", status="published")

    comment = await make_comment(client, manager, post["id"])

    assert comment["status"] == "published"
    assert await reply_count(client, manager, post["id"]) == 1


async def test_a_customer_cannot_comment_on_a_draft_post_and_learns_nothing_about_it(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a draft post, when a customer comments on it, then the answer is the 422
    ``invalid_reference`` a missing post gets (the same problem, apart from the id), and nothing was
    written."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    draft = await make_node(client, manager, title="Secret")
    missing_id = str(uuid.uuid4())

    on_draft = await client.post(
        NODES, json=node_json(("en", "Hi"), kind="comment", parent_id=draft["id"]), headers=customer
    )
    on_missing = await client.post(
        NODES, json=node_json(("en", "Hi"), kind="comment", parent_id=missing_id), headers=customer
    )

    assert on_draft.status_code == on_missing.status_code == 422
    assert on_draft.json()["code"] == "invalid_reference"
    assert on_draft.json()["errors"] == on_missing.json()["errors"]
    assert on_draft.json()["detail"].replace(draft["id"], "ID") == on_missing.json()["detail"].replace(
        missing_id, "ID"
    )
    assert (await read(client, manager, draft["id"]))["reply_count"] == 0
    assert await listed_ids(client, manager, kind="comment") == set()


async def test_comments_under_an_unpublished_post_are_as_hidden_as_the_post(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a published post with a published comment, when a manager unpublishes the post, then the
    comment is a 404 to anonymous callers (by id and by slug), the post's replies list is empty for them,
    and a customer cannot reply to the comment; the manager still sees all of it."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    post = await make_node(client, manager, title="Post", status="published")
    comment = await make_comment(client, customer, post["id"], text="First")
    assert (await client.get(f"{NODES}/{comment['id']}", headers=anonymous(acme))).status_code == 200

    unpublished = await client.post(f"{NODES}/{post['id']}/unpublish", headers=manager)

    assert unpublished.status_code == 200
    by_id = await client.get(f"{NODES}/{comment['id']}", headers=anonymous(acme))
    slug = comment["translations"][0]["slug"]
    by_slug = await client.get(f"{NODES}/by-slug/{slug}", params={"kind": "comment"}, headers=anonymous(acme))
    reply = await client.post(
        NODES, json=node_json(("en", "Re"), kind="comment", parent_id=comment["id"]), headers=customer
    )
    assert (by_id.status_code, by_slug.status_code) == (404, 404)
    assert await listed(client, anonymous(acme), parent_id=post["id"]) == []
    assert reply.status_code == 422
    assert reply.json()["code"] == "invalid_reference"
    assert (await read(client, manager, comment["id"]))["status"] == "published"
    assert [n["id"] for n in await listed(client, manager, parent_id=post["id"])] == [comment["id"]]


async def test_a_customer_edits_and_deletes_its_own_comment_but_not_anothers(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given two customers' comments on a post, when one customer edits and deletes its own comment
    and tries the other's, then its own answer 200 and 204, the other's are 404 (``own`` scope), and
    the post counts the one left."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    mine = await login_as(client, app, acme, "customer")
    theirs = await login_as(client, app, acme, "customer")
    post = await make_node(client, manager, title="Post", status="published")
    my_comment = await make_comment(client, mine, post["id"], text="Mine")
    their_comment = await make_comment(client, theirs, post["id"], text="Theirs")
    assert await reply_count(client, anonymous(acme), post["id"]) == 2

    edited = await client.patch(
        f"{NODES}/{my_comment['id']}",
        json={"translations": [{"locale": "en", "title": "Mine, edited"}]},
        headers=mine,
    )
    edit_theirs = await client.patch(
        f"{NODES}/{their_comment['id']}",
        json={"translations": [{"locale": "en", "title": "Hijacked"}]},
        headers=mine,
    )
    delete_theirs = await client.delete(f"{NODES}/{their_comment['id']}", headers=mine)
    deleted = await client.delete(f"{NODES}/{my_comment['id']}", headers=mine)

    assert edited.status_code == 200
    assert titles_of(edited.json()) == {"en": "Mine, edited"}
    assert edit_theirs.status_code == delete_theirs.status_code == 404
    assert deleted.status_code == 204
    assert titles_of(await read(client, anonymous(acme), their_comment["id"])) == {"en": "Theirs"}
    assert await reply_count(client, anonymous(acme), post["id"]) == 1


async def test_a_customer_may_not_write_posts(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a customer and a published post, when the customer creates, changes or deletes a post, then
    each is a 403 and the post is unchanged."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    post = await make_node(client, manager, title="Post", status="published")

    created = await client.post(NODES, json=node_json(("en", "Mine")), headers=customer)
    changed = await client.patch(f"{NODES}/{post['id']}", json={"position": 9}, headers=customer)
    deleted = await client.delete(f"{NODES}/{post['id']}", headers=customer)

    assert created.status_code == changed.status_code == deleted.status_code == 403
    assert created.json()["code"] == "forbidden"
    assert (await read(client, manager, post["id"]))["position"] == 0
    assert len(await listed(client, manager)) == 1


async def test_anonymous_callers_may_not_write(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    post = await make_node(client, manager, title="Post", status="published")
    everyone = anonymous(acme)

    answers = [
        await client.post(NODES, json=node_json(("en", "Spam")), headers=everyone),
        await client.post(
            NODES, json=node_json(("en", "Spam"), kind="comment", parent_id=post["id"]), headers=everyone
        ),
        await client.patch(f"{NODES}/{post['id']}", json={"position": 1}, headers=everyone),
        await client.delete(f"{NODES}/{post['id']}", headers=everyone),
        await client.post(f"{NODES}/{post['id']}/publish", headers=everyone),
    ]

    assert [r.status_code for r in answers] == [401] * 5
    assert answers[0].json()["code"] == "unauthorized"
    assert await reply_count(client, everyone, post["id"]) == 0


async def test_a_reply_to_a_reply_is_at_depth_2_and_counted_on_its_parent(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    post = await make_node(client, manager, title="Post", status="published")
    comment = await make_comment(client, customer, post["id"])

    reply = await make_comment(client, manager, comment["id"], text="Thanks")

    assert (post["depth"], comment["depth"], reply["depth"]) == (0, 1, 2)
    assert await reply_count(client, anonymous(acme), comment["id"]) == 1
    assert await reply_count(client, anonymous(acme), post["id"]) == 1, "direct replies only"


async def test_a_node_cannot_move_under_itself_or_its_descendants(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a post with a comment and a reply, when the comment is moved under its reply or under
    itself, then it is a 409 ``invalid_parent`` and nothing moved."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    post = await make_node(client, manager, title="Post", status="published")
    comment = await make_comment(client, manager, post["id"])
    reply = await make_comment(client, manager, comment["id"], text="Reply")

    under_reply = await client.patch(
        f"{NODES}/{comment['id']}", json={"parent_id": reply["id"]}, headers=manager
    )
    under_itself = await client.patch(
        f"{NODES}/{comment['id']}", json={"parent_id": comment["id"]}, headers=manager
    )
    post_under_reply = await client.patch(
        f"{NODES}/{post['id']}", json={"parent_id": reply["id"]}, headers=manager
    )

    for response in (under_reply, under_itself, post_under_reply):
        assert response.status_code == 409
        assert response.json()["code"] == "invalid_parent"
    assert (await read(client, manager, comment["id"]))["parent_id"] == post["id"]
    assert (await read(client, manager, post["id"]))["parent_id"] is None


async def test_moving_a_comment_moves_its_count_and_its_subtrees_depth(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a comment with a reply under post A and a comment under post B, when the first comment is
    moved under B's comment, then A counts 0 replies, B's comment 1, and the moved comment and its reply
    are at depths 2 and 3."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    first = await make_node(client, manager, title="A", status="published")
    second = await make_node(client, manager, title="B", status="published")
    moving = await make_comment(client, manager, first["id"], text="Moving")
    reply = await make_comment(client, manager, moving["id"], text="Reply")
    target = await make_comment(client, manager, second["id"], text="Target")

    async with event_recorder.watch() as events:
        response = await client.patch(
            f"{NODES}/{moving['id']}", json={"parent_id": target["id"]}, headers=manager
        )

    assert response.status_code == 200, response.text
    assert events.types == ["node.updated"]
    assert (response.json()["parent_id"], response.json()["depth"]) == (target["id"], 2)
    assert (await read(client, manager, reply["id"]))["depth"] == 3
    assert await reply_count(client, manager, first["id"]) == 0
    assert await reply_count(client, manager, target["id"]) == 1
    assert await reply_count(client, manager, second["id"]) == 1


async def test_a_comment_cannot_lose_its_parent(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    post = await make_node(client, manager, title="Post", status="published")
    comment = await make_comment(client, manager, post["id"])

    response = await client.patch(f"{NODES}/{comment['id']}", json={"parent_id": None}, headers=manager)

    assert response.status_code == 422
    assert response.json()["code"] == "parent_required"
    assert await reply_count(client, manager, post["id"]) == 1


# ------------------------------------------------------------------------------------------ tenants apart


async def test_another_tenants_node_is_a_404_to_every_route(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a draft and a published post of tenant A, when a manager of tenant B reads, lists, changes,
    publishes, unpublishes, deletes, tags or comments on them by id or slug, then every answer is a 404
    (422 ``invalid_reference`` for a parent in a body), B's lists never show them, and A's posts are
    unchanged."""
    acme = await new_tenant(make_uow, "acme")
    globex = await new_tenant(make_uow, "globex")
    owner = await login_as(client, app, acme, "manager")
    intruder = await login_as(client, app, globex, "admin")
    draft = await make_node(client, owner, title="Draft", slug="draft")
    published = await make_node(client, owner, title="Out", slug="out", status="published")
    their_tag = await make_tag(client, intruder, name="Mine")

    async with event_recorder.watch() as events:
        answers: list[httpx.Response] = []
        for node in (draft, published):
            path = f"{NODES}/{node['id']}"
            answers += [
                await client.get(path, headers=intruder),
                await client.patch(path, json={"position": 7}, headers=intruder),
                await client.post(f"{path}/publish", headers=intruder),
                await client.post(f"{path}/unpublish", headers=intruder),
                await client.put(f"{path}/tags/{their_tag['id']}", headers=intruder),
                await client.delete(f"{path}/tags/{their_tag['id']}", headers=intruder),
                await client.delete(path, headers=intruder),
            ]
        answers += [
            await client.get(f"{NODES}/by-slug/out", headers=intruder),
            await client.get(f"{NODES}/by-slug/draft", headers=intruder),
        ]
        comment = await client.post(
            NODES, json=node_json(("en", "Hi"), kind="comment", parent_id=published["id"]), headers=intruder
        )

    assert [r.status_code for r in answers] == [404] * len(answers)
    assert comment.status_code == 422
    assert comment.json()["code"] == "invalid_reference"
    assert events.types == []
    assert await listed(client, intruder) == []
    assert await listed(client, intruder, parent_id=published["id"]) == []
    assert await listed(client, intruder, author_id=draft["author_id"]) == []
    for node in (draft, published):
        assert (await read(client, owner, node["id"]))["position"] == 0
    assert (await read(client, owner, published["id"]))["status"] == "published"
    assert (await read(client, owner, published["id"]))["tags"] == []


async def test_a_token_of_another_tenant_is_refused(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a manager of tenant B, when it sends its token with tenant A's id in ``X-Tenant-ID``, then
    it is a 401 and nothing is written to A."""
    acme = await new_tenant(make_uow, "acme")
    globex = await new_tenant(make_uow, "globex")
    intruder = await login_as(client, app, globex, "manager")
    owner = await login_as(client, app, acme, "manager")

    response = await client.post(
        NODES, json=node_json(("en", "Planted")), headers={**intruder, "X-Tenant-ID": str(acme)}
    )

    assert response.status_code == 401
    assert await listed(client, owner) == []
