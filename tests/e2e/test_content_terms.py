"""Categories and tags through the HTTP API (api.md "Content", rbac.md, events.md): their translations
and slugs, the category tree, the counts of visible nodes, tags on nodes, who may write them, and tenant
isolation. Nodes themselves are in test_content_nodes.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from rustok.core.uow import UnitOfWork
from rustok.testing import EventRecorder, login_as, make_category, make_node, make_tag, new_tenant
from tests.e2e.test_content_nodes import NODES, anonymous, enable_locales, read

MakeUoW = Callable[..., UnitOfWork]
CATEGORIES = "/api/content/categories"
TAGS = "/api/content/tags"


def names_of(term: Any) -> dict[str, str]:
    return {t["locale"]: t["name"] for t in term["translations"]}


def slugs_of(term: Any) -> dict[str, str]:
    return {t["locale"]: t["slug"] for t in term["translations"]}


async def items(client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any) -> list[Any]:
    response = await client.get(path, params={"limit": 100, **params}, headers=headers)
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()["items"]
    return found


async def ids(client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any) -> list[str]:
    return [item["id"] for item in await items(client, path, headers, **params)]


async def got(client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: str) -> Any:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def attach(client: httpx.AsyncClient, headers: dict[str, str], node_id: str, tag_id: str) -> None:
    response = await client.put(f"{NODES}/{node_id}/tags/{tag_id}", headers=headers)
    assert response.status_code == 204, response.text


# ============================================================================================ categories


async def test_a_manager_creates_a_category_with_translations(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a tenant with ``de``, when a manager creates a category named in ``en`` and ``de`` with a
    description, then it is 201 with slugs made from the names, no nodes, and ``category.created``."""
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")

    async with event_recorder.watch() as events:
        response = await client.post(
            CATEGORIES,
            json={
                "position": 2,
                "translations": [
                    {"locale": "en", "name": "Travel News", "description": "Where to go"},
                    {"locale": "de", "name": "Reisenachrichten", "slug": "reisen"},
                ],
            },
            headers=manager,
        )

    assert response.status_code == 201, response.text
    category = response.json()
    assert (category["parent_id"], category["position"], category["node_count"]) == (None, 2, 0)
    assert category["translations"] == [
        {"locale": "de", "name": "Reisenachrichten", "slug": "reisen", "description": None},
        {"locale": "en", "name": "Travel News", "slug": "travel-news", "description": "Where to go"},
    ]
    assert events.types == ["category.created"]
    assert events.one("category.created").payload.category_id == uuid.UUID(category["id"])


async def test_category_slugs_are_numbered_when_generated_and_a_409_when_given(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    first = await make_category(client, manager, name="Café Culture")
    second = await make_category(client, manager, name="Café Culture")
    german = await make_category(client, manager, name="Cafe", locale="de", slug="cafe-culture")

    async with event_recorder.watch() as events:
        taken = await client.post(
            CATEGORIES,
            json={"translations": [{"locale": "en", "name": "X", "slug": "cafe-culture"}]},
            headers=manager,
        )

    assert (slugs_of(first), slugs_of(second)) == ({"en": "cafe-culture"}, {"en": "cafe-culture-2"})
    assert slugs_of(german) == {"de": "cafe-culture"}
    assert taken.status_code == 409
    assert taken.json()["code"] == "slug_conflict"
    assert events.types == []
    assert len(await items(client, CATEGORIES, manager)) == 3


@pytest.mark.parametrize(
    "data",
    [
        {"translations": []},
        {"translations": [{"locale": "en", "name": "  "}]},
        {"translations": [{"locale": "en", "name": "a\x00b"}]},
        {"translations": [{"locale": "en", "name": "x", "slug": "Not A Slug"}]},
        {"translations": [{"locale": "en", "name": "a"}, {"locale": "en", "name": "b"}]},
        {"translations": [{"locale": "en", "name": "x"}], "node_count": 3},
        {"translations": [{"locale": "en", "name": "x"}], "position": -1},
    ],
    ids=["empty", "blank", "nul", "bad-slug", "duplicate-locale", "extra-field", "negative-position"],
)
async def test_a_category_that_breaks_the_schema_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, data: dict[str, Any]
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    response = await client.post(CATEGORIES, json=data, headers=manager)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_a_category_in_a_locale_not_enabled_or_under_an_unknown_parent_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    not_enabled = await client.post(
        CATEGORIES,
        json={"translations": [{"locale": "en", "name": "News"}, {"locale": "de", "name": "Neues"}]},
        headers=manager,
    )
    orphan = await client.post(
        CATEGORIES,
        json={"parent_id": str(uuid.uuid4()), "translations": [{"locale": "en", "name": "News"}]},
        headers=manager,
    )

    assert not_enabled.status_code == 422
    assert not_enabled.json()["code"] == "locale_not_enabled"
    assert not_enabled.json()["errors"][0]["loc"] == ["body", "translations", 1, "locale"]
    assert orphan.status_code == 422
    assert orphan.json()["code"] == "invalid_reference"
    assert orphan.json()["errors"][0]["loc"] == ["body", "parent_id"]
    assert await items(client, CATEGORIES, manager) == []


async def test_categories_form_a_tree_listed_by_level(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given two root categories, one with two children (positions 2 and 1) and a grandchild, when
    categories are listed with ``parent_id``, with ``roots=true`` and without either, then each level
    comes in position order, and all of them without a filter."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    news = await make_category(client, manager, name="News")
    sport = await make_category(client, manager, name="Sport", position=1)
    world = await make_category(client, manager, name="World", parent_id=news["id"], position=2)
    local = await make_category(client, manager, name="Local", parent_id=news["id"], position=1)
    city = await make_category(client, manager, name="City", parent_id=local["id"])
    everyone = anonymous(acme)

    children = await ids(client, CATEGORIES, everyone, parent_id=news["id"])
    roots = await ids(client, CATEGORIES, everyone, roots="true")
    grandchildren = await ids(client, CATEGORIES, everyone, parent_id=local["id"])
    leaves = await ids(client, CATEGORIES, everyone, parent_id=city["id"])
    every = await ids(client, CATEGORIES, everyone)

    assert world["parent_id"] == news["id"]
    assert children == [local["id"], world["id"]]
    assert roots == [news["id"], sport["id"]]
    assert grandchildren == [city["id"]]
    assert leaves == []
    assert set(every) == {news["id"], sport["id"], world["id"], local["id"], city["id"]}


async def test_the_category_list_pages_with_a_cursor(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    created = [(await make_category(client, manager, name=f"C{n}", position=n % 2))["id"] for n in range(5)]

    first = await client.get(CATEGORIES, params={"limit": 3}, headers=manager)
    second = await client.get(
        CATEGORIES, params={"limit": 3, "cursor": first.json()["next_cursor"]}, headers=manager
    )
    bad = await client.get(CATEGORIES, params={"cursor": "???"}, headers=manager)

    page_ids = [c["id"] for c in first.json()["items"] + second.json()["items"]]
    assert page_ids == [created[0], created[2], created[4], created[1], created[3]]
    assert second.json()["next_cursor"] is None
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_cursor"


async def test_a_category_is_served_in_the_asked_locale_else_the_default(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    created = (
        await client.post(
            CATEGORIES,
            json={"translations": [{"locale": "en", "name": "News"}, {"locale": "de", "name": "Neues"}]},
            headers=manager,
        )
    ).json()
    path = f"{CATEGORIES}/{created['id']}"
    everyone = anonymous(acme)

    german = await got(client, path, everyone, locale="de")
    french = await got(client, path, everyone, locale="fr")
    every = await got(client, path, everyone)
    listed_german = await items(client, CATEGORIES, everyone, locale="de")

    assert names_of(german) == {"de": "Neues"}
    assert names_of(french) == {"en": "News"}
    assert names_of(every) == {"en": "News", "de": "Neues"}
    assert [names_of(c) for c in listed_german] == [{"de": "Neues"}]


async def test_a_node_shows_its_category_in_the_locale_served(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    category = (
        await client.post(
            CATEGORIES,
            json={"translations": [{"locale": "en", "name": "News"}, {"locale": "de", "name": "Neues"}]},
            headers=manager,
        )
    ).json()
    node = await make_node(client, manager, title="Hello", status="published", category_id=category["id"])

    german = await read(client, anonymous(acme), node["id"], locale="de")
    french = await read(client, anonymous(acme), node["id"], locale="fr")

    assert german["category"] == {"id": category["id"], "locale": "de", "name": "Neues", "slug": "neues"}
    assert (french["category"]["locale"], french["category"]["name"]) == ("en", "News")


async def test_node_count_counts_the_nodes_the_caller_can_see(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a category with a published post, a draft and an archived post, when it is read by an
    anonymous caller, a customer and a manager, then they count 1, 1 and 3."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    category = await make_category(client, manager, name="News")
    for status in ("published", "draft", "archived"):
        await make_node(client, manager, title=status, status=status, category_id=category["id"])
    path = f"{CATEGORIES}/{category['id']}"

    assert (await got(client, path, anonymous(acme)))["node_count"] == 1
    assert (await got(client, path, customer))["node_count"] == 1
    assert (await got(client, path, manager))["node_count"] == 3
    assert [c["node_count"] for c in await items(client, CATEGORIES, anonymous(acme))] == [1]
    assert [c["node_count"] for c in await items(client, CATEGORIES, manager)] == [3]


async def test_a_category_patch_upserts_translations_and_moves_it(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a category in ``en`` under a parent, when a PATCH renames ``en`` (its slug stays), adds
    ``de``, changes the position and moves it to the top level, then all of it shows and one
    ``category.updated`` is recorded."""
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    parent = await make_category(client, manager, name="Parent")
    category = await make_category(client, manager, name="News", parent_id=parent["id"])

    async with event_recorder.watch() as events:
        response = await client.patch(
            f"{CATEGORIES}/{category['id']}",
            json={
                "parent_id": None,
                "position": 4,
                "translations": [
                    {"locale": "en", "name": "Latest News", "description": "Fresh"},
                    {"locale": "de", "name": "Neuigkeiten"},
                ],
            },
            headers=manager,
        )

    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["parent_id"], changed["position"]) == (None, 4)
    assert changed["translations"] == [
        {"locale": "de", "name": "Neuigkeiten", "slug": "neuigkeiten", "description": None},
        {"locale": "en", "name": "Latest News", "slug": "news", "description": "Fresh"},
    ]
    assert events.types == ["category.updated"]
    assert events.one("category.updated").payload.category_id == uuid.UUID(category["id"])
    assert await ids(client, CATEGORIES, manager, parent_id=parent["id"]) == []


async def test_a_category_patch_that_changes_nothing_records_nothing(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    category = await make_category(client, manager, name="News", position=1)

    async with event_recorder.watch() as events:
        response = await client.patch(
            f"{CATEGORIES}/{category['id']}",
            json={"position": 1, "translations": [{"locale": "en", "name": "News", "slug": "news"}]},
            headers=manager,
        )

    assert response.status_code == 200
    assert events.types == []
    assert response.json()["updated_at"] == category["updated_at"]


async def test_a_category_patch_with_a_taken_slug_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    await make_category(client, manager, name="Sport")
    category = await make_category(client, manager, name="News")

    async with event_recorder.watch() as events:
        response = await client.patch(
            f"{CATEGORIES}/{category['id']}",
            json={"position": 3, "translations": [{"locale": "en", "name": "Renamed", "slug": "sport"}]},
            headers=manager,
        )

    assert response.status_code == 409
    assert response.json()["code"] == "slug_conflict"
    assert events.types == []
    after = await got(client, f"{CATEGORIES}/{category['id']}", manager)
    assert (after["position"], names_of(after), slugs_of(after)) == (0, {"en": "News"}, {"en": "news"})


async def test_a_category_cannot_move_under_itself_or_its_descendants(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    top = await make_category(client, manager, name="Top")
    middle = await make_category(client, manager, name="Middle", parent_id=top["id"])
    bottom = await make_category(client, manager, name="Bottom", parent_id=middle["id"])
    path = f"{CATEGORIES}/{top['id']}"

    under_grandchild = await client.patch(path, json={"parent_id": bottom["id"]}, headers=manager)
    under_child = await client.patch(path, json={"parent_id": middle["id"]}, headers=manager)
    under_itself = await client.patch(path, json={"parent_id": top["id"]}, headers=manager)
    under_nothing = await client.patch(path, json={"parent_id": str(uuid.uuid4())}, headers=manager)

    for response in (under_grandchild, under_child, under_itself):
        assert response.status_code == 409
        assert response.json()["code"] == "invalid_parent"
    assert under_nothing.status_code == 422
    assert under_nothing.json()["code"] == "invalid_reference"
    assert (await got(client, path, manager))["parent_id"] is None


async def test_a_category_with_subcategories_cannot_be_deleted(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    parent = await make_category(client, manager, name="Parent")
    await make_category(client, manager, name="Child", parent_id=parent["id"])

    async with event_recorder.watch() as events:
        response = await client.delete(f"{CATEGORIES}/{parent['id']}", headers=manager)

    assert response.status_code == 409
    assert response.json()["code"] == "category_has_children"
    assert events.types == []
    assert (await client.get(f"{CATEGORIES}/{parent['id']}", headers=manager)).status_code == 200


async def test_deleting_a_category_leaves_its_nodes_uncategorized(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a category with a published post and a draft, when it is deleted, then it is a 204, each
    node is announced as ``node.updated`` before ``category.deleted``, the nodes stay without a
    category, and the category is a 404."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    category = await make_category(client, manager, name="News")
    published = await make_node(client, manager, title="Out", status="published", category_id=category["id"])
    draft = await make_node(client, manager, title="Draft", category_id=category["id"])
    elsewhere = await make_node(client, manager, title="Elsewhere")

    async with event_recorder.watch() as events:
        response = await client.delete(f"{CATEGORIES}/{category['id']}", headers=manager)

    assert response.status_code == 204
    assert events.types == ["node.updated", "node.updated", "category.deleted"]
    assert {e.payload.node_id for e in events.of_type("node.updated")} == {
        uuid.UUID(published["id"]),
        uuid.UUID(draft["id"]),
    }
    assert events.one("category.deleted").payload.category_id == uuid.UUID(category["id"])
    for node in (published, draft, elsewhere):
        after = await read(client, manager, node["id"])
        assert (after["category_id"], after["category"]) == (None, None)
    assert (await client.get(f"{CATEGORIES}/{category['id']}", headers=manager)).status_code == 404
    assert (await client.delete(f"{CATEGORIES}/{category['id']}", headers=manager)).status_code == 404


async def test_a_deleted_leaf_frees_its_parent_for_deletion(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    parent = await make_category(client, manager, name="Parent")
    child = await make_category(client, manager, name="Child", parent_id=parent["id"])

    child_deleted = await client.delete(f"{CATEGORIES}/{child['id']}", headers=manager)
    parent_deleted = await client.delete(f"{CATEGORIES}/{parent['id']}", headers=manager)

    assert child_deleted.status_code == parent_deleted.status_code == 204
    assert await items(client, CATEGORIES, manager) == []


async def test_customers_and_anonymous_callers_read_categories_but_do_not_write_them(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    category = await make_category(client, manager, name="News")
    path = f"{CATEGORIES}/{category['id']}"
    body = {"translations": [{"locale": "en", "name": "Mine"}]}

    for headers, refused in ((customer, 403), (anonymous(acme), 401)):
        assert (await client.get(path, headers=headers)).status_code == 200
        assert await ids(client, CATEGORIES, headers) == [category["id"]]
        writes = [
            await client.post(CATEGORIES, json=body, headers=headers),
            await client.patch(path, json=body, headers=headers),
            await client.delete(path, headers=headers),
        ]
        assert [w.status_code for w in writes] == [refused] * 3
    assert names_of(await got(client, path, manager)) == {"en": "News"}


async def test_an_admin_manages_categories_too(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await login_as(client, app, acme, "admin")

    category = await make_category(client, admin, name="News")
    deleted = await client.delete(f"{CATEGORIES}/{category['id']}", headers=admin)

    assert deleted.status_code == 204


async def test_another_tenants_categories_are_out_of_reach(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a category of tenant A, when a manager of tenant B reads, changes, deletes it, lists
    categories, files a node under it or nests a category in it, then the answers are 404 (422
    ``invalid_reference`` for references in a body) and A's category is unchanged."""
    acme = await new_tenant(make_uow, "acme")
    globex = await new_tenant(make_uow, "globex")
    owner = await login_as(client, app, acme, "manager")
    intruder = await login_as(client, app, globex, "manager")
    category = await make_category(client, owner, name="News")
    path = f"{CATEGORIES}/{category['id']}"

    async with event_recorder.watch() as events:
        answers = [
            await client.get(path, headers=intruder),
            await client.patch(path, json={"position": 5}, headers=intruder),
            await client.delete(path, headers=intruder),
        ]
        filed = await client.post(
            NODES,
            json={
                "kind": "post",
                "category_id": category["id"],
                "translations": [{"locale": "en", "title": "x"}],
            },
            headers=intruder,
        )
        nested = await client.post(
            CATEGORIES,
            json={"parent_id": category["id"], "translations": [{"locale": "en", "name": "Sub"}]},
            headers=intruder,
        )

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert filed.status_code == nested.status_code == 422
    assert filed.json()["code"] == nested.json()["code"] == "invalid_reference"
    assert events.types == []
    assert await items(client, CATEGORIES, intruder) == []
    assert await items(client, CATEGORIES, intruder, parent_id=category["id"]) == []
    assert (await got(client, path, owner))["position"] == 0


# ================================================================================================== tags


async def test_a_manager_creates_a_tag(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a tenant with ``de``, when a manager creates a tag named in ``de`` and ``en``, then it is 201
    with slugs made from the names, no uses, and ``tag.created`` names it in the default locale."""
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")

    async with event_recorder.watch() as events:
        response = await client.post(
            TAGS,
            json={
                "translations": [{"locale": "de", "name": "Straße"}, {"locale": "en", "name": "Street Life"}]
            },
            headers=manager,
        )

    assert response.status_code == 201, response.text
    tag = response.json()
    assert tag["use_count"] == 0
    assert tag["translations"] == [
        {"locale": "de", "name": "Straße", "slug": "strasse"},
        {"locale": "en", "name": "Street Life", "slug": "street-life"},
    ]
    assert events.types == ["tag.created"]
    created = events.one("tag.created").payload
    assert (created.tag_id, created.name) == (uuid.UUID(tag["id"]), "Street Life")


async def test_tag_slugs_are_numbered_when_generated_and_a_409_when_given(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    first = await make_tag(client, manager, name="Python")
    second = await make_tag(client, manager, name="python!")
    german = await make_tag(client, manager, name="Python", locale="de", slug="python")

    async with event_recorder.watch() as events:
        taken = await client.post(
            TAGS, json={"translations": [{"locale": "en", "name": "Py", "slug": "python"}]}, headers=manager
        )

    assert (slugs_of(first), slugs_of(second), slugs_of(german)) == (
        {"en": "python"},
        {"en": "python-2"},
        {"de": "python"},
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "slug_conflict"
    assert events.types == []
    assert len(await items(client, TAGS, manager)) == 3


async def test_a_tag_name_that_makes_a_maximal_slug_is_numbered_too(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given two tags whose name makes a slug of the maximal length (200 characters: the base, then the
    base cut to fit ``-2``), when a third tag of that name is created, then it gets ``-3`` like any
    generated slug, not a 409."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    name = "y" * 200
    await make_tag(client, manager, name=name)
    second = await make_tag(client, manager, name=name)

    third = await client.post(TAGS, json={"translations": [{"locale": "en", "name": name}]}, headers=manager)

    assert slugs_of(second) == {"en": "y" * 198 + "-2"}
    assert third.status_code == 201, third.text
    assert slugs_of(third.json()) == {"en": "y" * 198 + "-3"}


async def test_a_tag_in_a_locale_not_enabled_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    response = await client.post(
        TAGS, json={"translations": [{"locale": "de", "name": "Neu"}]}, headers=manager
    )

    assert response.status_code == 422
    assert response.json()["code"] == "locale_not_enabled"
    assert await items(client, TAGS, manager) == []


async def test_a_tag_patch_upserts_translations(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a tag in ``en`` and ``fr``, when a PATCH renames ``en`` and adds ``de``, then ``en`` keeps its
    slug, ``de`` gets one, ``fr`` is untouched, and ``tag.updated`` is recorded once; a PATCH repeating
    the names records nothing; an explicit slug changes the slug."""
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de", "fr")
    manager = await login_as(client, app, acme, "manager")
    tag = (
        await client.post(
            TAGS,
            json={"translations": [{"locale": "en", "name": "Travel"}, {"locale": "fr", "name": "Voyage"}]},
            headers=manager,
        )
    ).json()
    path = f"{TAGS}/{tag['id']}"

    async with event_recorder.watch() as events:
        renamed = await client.patch(
            path,
            json={
                "translations": [{"locale": "en", "name": "Travelling"}, {"locale": "de", "name": "Reisen"}]
            },
            headers=manager,
        )
    async with event_recorder.watch() as same_events:
        same = await client.patch(
            path, json={"translations": [{"locale": "en", "name": "Travelling"}]}, headers=manager
        )
    reslugged = await client.patch(
        path,
        json={"translations": [{"locale": "en", "name": "Travelling", "slug": "travelling"}]},
        headers=manager,
    )

    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["translations"] == [
        {"locale": "de", "name": "Reisen", "slug": "reisen"},
        {"locale": "en", "name": "Travelling", "slug": "travel"},
        {"locale": "fr", "name": "Voyage", "slug": "voyage"},
    ]
    assert events.types == ["tag.updated"]
    assert events.one("tag.updated").payload.tag_id == uuid.UUID(tag["id"])
    assert same.status_code == 200
    assert same_events.types == []
    assert slugs_of(reslugged.json())["en"] == "travelling"


async def test_a_tag_patch_with_a_taken_slug_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    await make_tag(client, manager, name="Taken", locale="de", slug="taken")
    tag = await make_tag(client, manager, name="Mine")

    async with event_recorder.watch() as events:
        response = await client.patch(
            f"{TAGS}/{tag['id']}",
            json={
                "translations": [
                    {"locale": "en", "name": "Renamed"},
                    {"locale": "de", "name": "X", "slug": "taken"},
                ]
            },
            headers=manager,
        )

    assert response.status_code == 409
    assert response.json()["code"] == "slug_conflict"
    assert events.types == []
    assert (await got(client, f"{TAGS}/{tag['id']}", manager))["translations"] == tag["translations"]


async def test_a_tag_is_served_in_the_asked_locale_else_the_default(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    tag = (
        await client.post(
            TAGS,
            json={"translations": [{"locale": "en", "name": "Travel"}, {"locale": "de", "name": "Reisen"}]},
            headers=manager,
        )
    ).json()
    everyone = anonymous(acme)

    assert names_of(await got(client, f"{TAGS}/{tag['id']}", everyone, locale="de")) == {"de": "Reisen"}
    assert names_of(await got(client, f"{TAGS}/{tag['id']}", everyone, locale="fr")) == {"en": "Travel"}
    assert names_of(await got(client, f"{TAGS}/{tag['id']}", everyone)) == {"en": "Travel", "de": "Reisen"}
    assert [names_of(t) for t in await items(client, TAGS, everyone, locale="de")] == [{"de": "Reisen"}]


async def test_the_tag_list_pages_with_a_cursor(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    created = [(await make_tag(client, manager, name=f"tag {n}"))["id"] for n in range(3)]

    first = await client.get(TAGS, params={"limit": 2}, headers=manager)
    second = await client.get(
        TAGS, params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=manager
    )

    assert [t["id"] for t in first.json()["items"] + second.json()["items"]] == created
    assert second.json()["next_cursor"] is None


async def test_attaching_a_tag_is_idempotent_and_announced_once(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a post and a tag, when the tag is attached twice, then both are 204, one ``tag.attached``
    names the node, and the node shows the tag once."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    post = await make_node(client, manager, title="Post", status="published")
    tag = await make_tag(client, manager, name="Python")
    path = f"{NODES}/{post['id']}/tags/{tag['id']}"

    async with event_recorder.watch() as events:
        first = await client.put(path, headers=manager)
        second = await client.put(path, headers=manager)

    assert first.status_code == second.status_code == 204
    assert first.content == b""
    assert events.types == ["tag.attached"]
    attached = events.one("tag.attached").payload
    assert (attached.tag_id, attached.target_type, attached.target_id) == (
        uuid.UUID(tag["id"]),
        "node",
        uuid.UUID(post["id"]),
    )
    node = await read(client, anonymous(acme), post["id"])
    assert node["tags"] == [{"id": tag["id"], "locale": "en", "name": "Python", "slug": "python"}]


async def test_detaching_a_tag_is_announced_and_a_second_detach_is_a_404(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    post = await make_node(client, manager, title="Post", status="published")
    tag = await make_tag(client, manager, name="Python")
    await attach(client, manager, post["id"], tag["id"])
    path = f"{NODES}/{post['id']}/tags/{tag['id']}"

    async with event_recorder.watch() as events:
        detached = await client.delete(path, headers=manager)
        again = await client.delete(path, headers=manager)

    assert detached.status_code == 204
    assert again.status_code == 404
    assert events.types == ["tag.detached"]
    payload = events.one("tag.detached").payload
    assert (payload.tag_id, payload.target_id) == (uuid.UUID(tag["id"]), uuid.UUID(post["id"]))
    assert (await read(client, manager, post["id"]))["tags"] == []


async def test_attaching_an_unknown_tag_or_to_an_unknown_node_is_a_404(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    post = await make_node(client, manager, title="Post")
    tag = await make_tag(client, manager, name="Python")

    unknown_tag = await client.put(f"{NODES}/{post['id']}/tags/{uuid.uuid4()}", headers=manager)
    unknown_node = await client.put(f"{NODES}/{uuid.uuid4()}/tags/{tag['id']}", headers=manager)

    assert unknown_tag.status_code == unknown_node.status_code == 404
    assert (await read(client, manager, post["id"]))["tags"] == []


async def test_a_node_shows_its_tags_in_the_locale_served(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a post with a tag named in ``en`` and ``de`` and a tag named in ``de`` only, when the post is
    read in ``de``, in ``fr`` and in no locale, then each tag shows once, in ``de``, else in the default,
    else in the one locale it has, in the order they were attached."""
    acme = await new_tenant(make_uow, "acme")
    await enable_locales(make_uow, acme, "de")
    manager = await login_as(client, app, acme, "manager")
    post = await make_node(client, manager, title="Post", status="published")
    both = (
        await client.post(
            TAGS,
            json={"translations": [{"locale": "en", "name": "Travel"}, {"locale": "de", "name": "Reisen"}]},
            headers=manager,
        )
    ).json()
    german_only = await make_tag(client, manager, name="Wandern", locale="de")
    await attach(client, manager, post["id"], both["id"])
    await attach(client, manager, post["id"], german_only["id"])
    everyone = anonymous(acme)

    in_de = (await read(client, everyone, post["id"], locale="de"))["tags"]
    in_fr = (await read(client, everyone, post["id"], locale="fr"))["tags"]
    default = (await read(client, everyone, post["id"]))["tags"]
    listed = (await items(client, NODES, everyone, locale="en"))[0]["tags"]

    assert [(t["id"], t["name"]) for t in in_de] == [(both["id"], "Reisen"), (german_only["id"], "Wandern")]
    assert [(t["id"], t["name"]) for t in in_fr] == [(both["id"], "Travel"), (german_only["id"], "Wandern")]
    assert default == in_fr
    assert [t["name"] for t in listed] == ["Travel", "Wandern"]


async def test_use_count_counts_the_nodes_the_caller_can_see(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    """Given a tag on a published post and on a draft, when the tag is read by an anonymous caller, a
    customer and a manager, then they count 1, 1 and 2."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    tag = await make_tag(client, manager, name="Python")
    for status in ("published", "draft"):
        node = await make_node(client, manager, title=status, status=status)
        await attach(client, manager, node["id"], tag["id"])
    path = f"{TAGS}/{tag['id']}"

    assert (await got(client, path, anonymous(acme)))["use_count"] == 1
    assert (await got(client, path, customer))["use_count"] == 1
    assert (await got(client, path, manager))["use_count"] == 2
    assert [t["use_count"] for t in await items(client, TAGS, anonymous(acme))] == [1]
    assert [t["use_count"] for t in await items(client, TAGS, manager)] == [2]


async def test_deleting_a_tag_detaches_it_from_every_node(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a tag on two posts, when it is deleted, then it is a 204, a ``tag.detached`` is recorded for
    each post before ``tag.deleted``, the posts no longer show it and the tag is a 404."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    tag = await make_tag(client, manager, name="Python")
    kept = await make_tag(client, manager, name="Rust")
    posts = [await make_node(client, manager, title=f"Post {n}", status="published") for n in range(2)]
    for post in posts:
        await attach(client, manager, post["id"], tag["id"])
        await attach(client, manager, post["id"], kept["id"])

    async with event_recorder.watch() as events:
        response = await client.delete(f"{TAGS}/{tag['id']}", headers=manager)

    assert response.status_code == 204
    assert events.types == ["tag.detached", "tag.detached", "tag.deleted"]
    assert {e.payload.target_id for e in events.of_type("tag.detached")} == {
        uuid.UUID(p["id"]) for p in posts
    }
    assert events.one("tag.deleted").payload.tag_id == uuid.UUID(tag["id"])
    for post in posts:
        assert [t["id"] for t in (await read(client, manager, post["id"]))["tags"]] == [kept["id"]]
    assert (await client.get(f"{TAGS}/{tag['id']}", headers=manager)).status_code == 404
    assert await ids(client, NODES, manager, tag=tag["id"]) == []


async def test_customers_and_anonymous_callers_read_tags_but_do_not_write_them(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    post = await make_node(client, manager, title="Post", status="published")
    tag = await make_tag(client, manager, name="Python")
    path = f"{TAGS}/{tag['id']}"
    link = f"{NODES}/{post['id']}/tags/{tag['id']}"
    body = {"translations": [{"locale": "en", "name": "Mine"}]}

    for headers, refused in ((customer, 403), (anonymous(acme), 401)):
        assert (await client.get(path, headers=headers)).status_code == 200
        assert await ids(client, TAGS, headers) == [tag["id"]]
        writes = [
            await client.post(TAGS, json=body, headers=headers),
            await client.patch(path, json=body, headers=headers),
            await client.delete(path, headers=headers),
            await client.put(link, headers=headers),
            await client.delete(link, headers=headers),
        ]
        assert [w.status_code for w in writes] == [refused] * 5
    assert (await read(client, manager, post["id"]))["tags"] == []
    assert names_of(await got(client, path, manager)) == {"en": "Python"}


async def test_a_customer_cannot_tag_its_own_comment(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    post = await make_node(client, manager, title="Post", status="published")
    comment = await make_node(client, customer, kind="comment", title="Mine", parent_id=post["id"])
    tag = await make_tag(client, manager, name="Python")

    response = await client.put(f"{NODES}/{comment['id']}/tags/{tag['id']}", headers=customer)

    assert response.status_code == 403
    assert (await read(client, manager, comment["id"]))["tags"] == []


async def test_another_tenants_tags_are_out_of_reach(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    """Given a tag of tenant A on one of A's posts, when a manager of tenant B reads, renames or deletes
    the tag, attaches it to B's own post or lists tags and nodes by it, then every answer is a 404 or
    an empty list, and A's tag still has its name and its post."""
    acme = await new_tenant(make_uow, "acme")
    globex = await new_tenant(make_uow, "globex")
    owner = await login_as(client, app, acme, "manager")
    intruder = await login_as(client, app, globex, "manager")
    tag = await make_tag(client, owner, name="Secret", slug="secret")
    their_post = await make_node(client, owner, title="Post", status="published")
    await attach(client, owner, their_post["id"], tag["id"])
    own_post = await make_node(client, intruder, title="Mine", status="published")
    path = f"{TAGS}/{tag['id']}"

    async with event_recorder.watch() as events:
        answers = [
            await client.get(path, headers=intruder),
            await client.patch(
                path, json={"translations": [{"locale": "en", "name": "Pwned"}]}, headers=intruder
            ),
            await client.delete(path, headers=intruder),
            await client.put(f"{NODES}/{own_post['id']}/tags/{tag['id']}", headers=intruder),
            await client.delete(f"{NODES}/{their_post['id']}/tags/{tag['id']}", headers=intruder),
        ]

    assert [a.status_code for a in answers] == [404] * 5
    assert events.types == []
    assert await items(client, TAGS, intruder) == []
    assert await items(client, NODES, intruder, tag=tag["id"]) == []
    assert await items(client, NODES, intruder, tag="secret") == []
    assert (await read(client, intruder, own_post["id"]))["tags"] == []
    kept = await got(client, path, owner)
    assert (names_of(kept), kept["use_count"]) == ({"en": "Secret"}, 1)


async def test_a_slug_of_the_same_name_is_free_in_another_tenant(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    globex = await new_tenant(make_uow, "globex")
    await make_tag(client, await login_as(client, app, acme, "manager"), name="Python")
    await make_category(client, await login_as(client, app, acme, "manager"), name="News")
    theirs = await login_as(client, app, globex, "manager")

    tag = await make_tag(client, theirs, name="Python", slug="python")
    category = await make_category(client, theirs, name="News", slug="news")

    assert slugs_of(tag) == {"en": "python"}
    assert slugs_of(category) == {"en": "news"}
