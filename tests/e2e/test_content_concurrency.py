"""The content module under real concurrency: many requests at once on an app of its own, on a migrated
database of its own (`isolated_database_url`) whose transactions really commit, so concurrent requests run
on separate connections. (The ``client`` fixture shares one connection inside a rolled-back transaction,
which serializes everything.)

On PostgreSQL the requests' transactions overlap (READ COMMITTED). To make each race happen every time
rather than by luck, `at_once` lines the requests up: the test holds the tenant's outbox lock (the
advisory lock the ``sys_events`` trigger takes just before a writer commits, see migration 0002), so every
request does its reads and writes and then waits, until all of them are waiting on a lock; then it lets
them go. Every request has thus read the data before any other committed.

On SQLite a writing unit of work takes the write lock up front (``BEGIN IMMEDIATE``), so writers queue and
no barrier is needed (or possible). The outcomes the API promises are the same on both backends: every
reply counted once, generated slugs distinct, no 5xx.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rustok.api.app import create_app
from rustok.core.db import create_engine
from rustok.core.settings import Settings
from rustok.outbox.registry import ConsumerRegistry
from rustok.tenants.schemas import TenantCreate
from rustok.tenants.service import create_tenant
from rustok.testing import EventRecorder, http_client, login_as, make_comment, make_node, make_tag

NODES = "/api/content/nodes"
CUSTOMERS = 20
RACERS = 3
OUTBOX_LOCK_CLASS = 7201  # pg_advisory_xact_lock(7201, hashtext(tenant_id::text)) in migration 0002
LINE_UP_TIMEOUT = 60.0  # seconds for every request to reach the barrier; a guard, not a measurement


@dataclass(frozen=True, slots=True)
class Live:
    """An app on a database of its own, started, with a client on it and a tenant with a manager; on
    PostgreSQL also an engine of the test's own for the barrier."""

    app: FastAPI
    client: httpx.AsyncClient
    tenant_id: uuid.UUID
    manager: dict[str, str]
    barrier_engine: AsyncEngine | None

    @property
    def anonymous(self) -> dict[str, str]:
        return {"X-Tenant-ID": str(self.tenant_id)}

    def recorder(self) -> EventRecorder:
        return EventRecorder(self.app.state.runtime.sessions)

    async def node(self, node_id: str) -> Any:
        response = await self.client.get(f"{NODES}/{node_id}", headers=self.manager)
        assert response.status_code == 200, response.text
        return response.json()

    async def customers(self, count: int) -> list[dict[str, str]]:
        return [await login_as(self.client, self.app, self.tenant_id, "customer") for _ in range(count)]

    async def managers(self, count: int) -> list[dict[str, str]]:
        return [await login_as(self.client, self.app, self.tenant_id, "manager") for _ in range(count)]


async def _new_tenant(app: FastAPI, slug: str, **fields: Any) -> uuid.UUID:
    uow = app.state.runtime.platform(write=True)
    async with uow:
        tenant = await create_tenant(uow, TenantCreate(name=slug.title(), slug=slug, **fields))
    return tenant.id


async def _start(
    app: FastAPI, client: httpx.AsyncClient, slug: str, barrier: AsyncEngine | None, **fields: Any
) -> Live:
    tenant_id = await _new_tenant(app, slug, **fields)
    manager = await login_as(client, app, tenant_id, "manager")
    return Live(app, client, tenant_id, manager, barrier)


@pytest_asyncio.fixture(loop_scope="session")
async def live(settings: Settings, isolated_database_url: str, database_backend: str) -> AsyncIterator[Live]:
    """The real app on ``isolated_database_url`` (its own engine, with a pool big enough for every racer
    to hold a connection at once), a client on it, and a tenant ``acme`` with a manager signed in."""
    configured = settings.model_copy(update={"database_url": isolated_database_url, "database_pool_size": 40})
    application = create_app(configured, consumers=ConsumerRegistry(), configure_logs=False)
    barrier = create_engine(configured) if database_backend == "postgresql" else None
    try:
        async with application.router.lifespan_context(application), http_client(application) as client:
            yield await _start(application, client, "acme", barrier)
    finally:
        if barrier is not None:
            await barrier.dispose()


async def _moderated(live: Live) -> Live:
    """A second tenant of the same app, moderating comments, with a manager of its own."""
    return await _start(
        live.app, live.client, "moderated", live.barrier_engine, settings={"comments_moderation": True}
    )


async def _waiting_on_locks(connection: AsyncConnection) -> int:
    await connection.execute(text("SELECT pg_stat_clear_snapshot()"))  # the view is cached per transaction
    found = await connection.execute(
        text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
    )
    return int(found.scalar_one())


async def at_once(live: Live, requests: Sequence[Awaitable[httpx.Response]]) -> list[httpx.Response]:
    """Send ``requests`` concurrently. On PostgreSQL, hold them all at their commit (the tenant's outbox
    lock) until each one waits on a lock, then let them go: each read the data before any committed."""
    if live.barrier_engine is None:
        return list(await asyncio.gather(*requests))
    lined_up = False
    async with live.barrier_engine.connect() as connection:
        transaction = await connection.begin()
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:lock_class, hashtext(:tenant))"),
            {"lock_class": OUTBOX_LOCK_CLASS, "tenant": str(live.tenant_id)},
        )
        running = asyncio.gather(*requests)
        try:
            async with asyncio.timeout(LINE_UP_TIMEOUT):
                while True:
                    if await _waiting_on_locks(connection) >= len(requests):
                        break
                    await asyncio.sleep(0.02)
            lined_up = True
        except TimeoutError:
            pass
        finally:
            await transaction.rollback()  # releases the lock
    responses = list(await running)
    assert lined_up, f"the requests did not all reach the barrier: {[r.status_code for r in responses]}"
    return responses


def statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


def comment_json(parent_id: str, title: str) -> dict[str, Any]:
    return {"kind": "comment", "parent_id": parent_id, "translations": [{"locale": "en", "title": title}]}


# ---------------------------------------------------------------------------------------------- replies


async def test_twenty_customers_commenting_at_once_are_all_counted(live: Live) -> None:
    """Given a published post and 20 signed-in customers, when they all comment at the same time, then
    all 20 comments are created and published, and the post's ``reply_count`` is 20 (atomic
    increments: no reply lost to a concurrent one)."""
    post = await make_node(live.client, live.manager, title="Hot topic", status="published")
    customers = await live.customers(CUSTOMERS)

    responses = await at_once(
        live,
        [
            live.client.post(NODES, json=comment_json(post["id"], f"Comment {n}"), headers=headers)
            for n, headers in enumerate(customers)
        ],
    )

    assert statuses(responses) == [201] * CUSTOMERS, [r.text for r in responses if r.status_code != 201]
    assert {r.json()["status"] for r in responses} == {"published"}
    assert (await live.node(post["id"]))["reply_count"] == CUSTOMERS
    listed = await live.client.get(
        NODES, params={"parent_id": post["id"], "limit": 100}, headers=live.anonymous
    )
    assert len(listed.json()["items"]) == CUSTOMERS


async def test_a_comment_published_by_several_moderators_at_once_is_counted_once(live: Live) -> None:
    """Given a moderated tenant and a customer's draft comment on a published post, when several
    moderators publish it at the same time, then exactly one publication succeeds (the others are 409
    ``invalid_transition``), one ``node.published`` is recorded, and the post counts one reply."""
    shop = await _moderated(live)
    post = await make_node(shop.client, shop.manager, title="Post", status="published")
    customer = await login_as(shop.client, shop.app, shop.tenant_id, "customer")
    comment = await make_comment(shop.client, customer, post["id"])
    assert comment["status"] == "draft"
    moderators = await shop.managers(RACERS)

    async with shop.recorder().watch() as events:
        responses = await at_once(
            shop, [shop.client.post(f"{NODES}/{comment['id']}/publish", headers=h) for h in moderators]
        )

    assert statuses(responses) == [200] + [409] * (RACERS - 1), [r.text for r in responses]
    assert events.types == ["node.published"]
    assert (await shop.node(post["id"]))["reply_count"] == 1


# SQLAlchemy only warns when a DELETE matches no row; the test run turns warnings into errors, which would
# hide what a server does (it goes on and commits), so this test lets that warning pass as production does.
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
async def test_a_comment_deleted_by_several_moderators_at_once_is_uncounted_once(live: Live) -> None:
    """Given two published comments on a post, when several moderators delete the first one at the same
    time, then one deletion is a 204 and the others 404 (never a 5xx), one ``node.deleted`` is recorded,
    and the post counts the one comment left."""
    post = await make_node(live.client, live.manager, title="Post", status="published")
    doomed = await make_comment(live.client, live.manager, post["id"], text="Doomed")
    await make_comment(live.client, live.manager, post["id"], text="Kept")
    moderators = await live.managers(RACERS)

    async with live.recorder().watch() as events:
        responses = await at_once(
            live, [live.client.delete(f"{NODES}/{doomed['id']}", headers=h) for h in moderators]
        )

    assert statuses(responses) == [204] + [404] * (RACERS - 1), [r.text for r in responses]
    assert events.types == ["node.deleted"]
    assert (await live.node(post["id"]))["reply_count"] == 1


# ------------------------------------------------------------------------------------------------- slugs


async def test_two_posts_created_at_once_with_the_same_title_get_distinct_slugs(live: Live) -> None:
    """Given no post yet, when two posts titled "Breaking news" are created at the same time (the second
    finds the slug free, then loses it to the first at the insert), then both succeed, one with
    ``breaking-news`` and one with ``breaking-news-2``."""
    data = {"kind": "post", "translations": [{"locale": "en", "title": "Breaking news"}]}

    responses = await at_once(
        live, [live.client.post(NODES, json=data, headers=live.manager) for _ in range(2)]
    )

    assert statuses(responses) == [201, 201], [r.text for r in responses]
    slugs = sorted(r.json()["translations"][0]["slug"] for r in responses)
    assert slugs == ["breaking-news", "breaking-news-2"]


async def test_many_comments_created_at_once_with_the_same_text_all_get_a_slug(live: Live) -> None:
    """Given a published post, when 20 customers post the same comment text at the same time (the
    slugs are generated: "Nice" for all), then every comment is created, each with its own slug, and
    the post counts 20 replies (api.md: a generated slug gets a suffix; only a given one is a 409)."""
    post = await make_node(live.client, live.manager, title="Post", status="published")
    customers = await live.customers(CUSTOMERS)

    responses = await at_once(
        live, [live.client.post(NODES, json=comment_json(post["id"], "Nice"), headers=h) for h in customers]
    )

    assert statuses(responses) == [201] * CUSTOMERS, [r.text for r in responses if r.status_code != 201]
    slugs = {r.json()["translations"][0]["slug"] for r in responses}
    assert slugs == {"nice", *(f"nice-{n}" for n in range(2, CUSTOMERS + 1))}
    assert (await live.node(post["id"]))["reply_count"] == CUSTOMERS


# -------------------------------------------------------------------------------------------------- tags


async def test_attaching_one_tag_from_several_requests_at_once_attaches_it_once(live: Live) -> None:
    """Given a post and a tag, when the tag is attached by several requests at the same time, then
    every one is a 204 (attaching is idempotent), one ``tag.attached`` is recorded and the post shows
    the tag once."""
    post = await make_node(live.client, live.manager, title="Post", status="published")
    tag = await make_tag(live.client, live.manager, name="Python")

    async with live.recorder().watch() as events:
        responses = await at_once(
            live,
            [
                live.client.put(f"{NODES}/{post['id']}/tags/{tag['id']}", headers=live.manager)
                for _ in range(RACERS)
            ],
        )

    assert statuses(responses) == [204] * RACERS, [r.text for r in responses]
    assert events.types == ["tag.attached"]
    assert [t["id"] for t in (await live.node(post["id"]))["tags"]] == [tag["id"]]
