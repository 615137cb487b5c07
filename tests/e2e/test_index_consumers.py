"""The index's consumers: content and products written through the HTTP API, delivered by a real relay to
the index consumers, end up as search documents per locale, kept in step with every change."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from rustok.core.tenancy import TenantScope
from rustok.core.uow import SessionFactory, UnitOfWork
from rustok.index import consumers, documents, service
from rustok.index.consumers import CONSUMERS
from rustok.index.events import ReindexRequested
from rustok.index.models import ContentDocument, ProductDocument, Rebuild
from rustok.outbox.models import SysEvent
from rustok.outbox.registry import ConsumerRegistry
from rustok.outbox.relay import Relay, RelayConfig
from rustok.tenants.schemas import LocaleIn
from rustok.tenants.service import enable_locale
from rustok.testing import login_as, make_node, make_product, make_tag, make_variant, new_tenant
from tests.e2e.test_index_rebuild import verify

MakeUoW = Callable[..., UnitOfWork]
MakeRelay = Callable[..., Relay]


def index_registry() -> ConsumerRegistry:
    return ConsumerRegistry(CONSUMERS)


async def deliver(make_relay: MakeRelay) -> int:
    return await make_relay(index_registry()).run_until_idle()


async def content_docs(make_uow: MakeUoW, tenant_id: uuid.UUID, node_id: Any) -> dict[str, ContentDocument]:
    async with make_uow(TenantScope.of(tenant_id), write=False) as uow:
        rows = await uow.session.scalars(
            select(ContentDocument).where(ContentDocument.node_id == uuid.UUID(str(node_id)))
        )
        return {row.locale: row for row in rows}


async def product_docs(
    make_uow: MakeUoW, tenant_id: uuid.UUID, product_id: Any
) -> dict[str, ProductDocument]:
    async with make_uow(TenantScope.of(tenant_id), write=False) as uow:
        rows = await uow.session.scalars(
            select(ProductDocument).where(ProductDocument.product_id == uuid.UUID(str(product_id)))
        )
        return {row.locale: row for row in rows}


async def setup(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, slug: str
) -> tuple[uuid.UUID, dict[str, str]]:
    tenant_id = await new_tenant(make_uow, slug)
    async with make_uow(TenantScope.of(tenant_id)) as uow:
        await enable_locale(uow, tenant_id, LocaleIn(locale="de"))
    return tenant_id, await login_as(client, app, tenant_id, "admin")


async def bilingual_post(client: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> Any:
    return await make_node(
        client,
        headers,
        title="Hello world",
        body="# Greetings\n\nSome *bold* text &amp; more.",
        status="published",
        translations=[
            {"locale": "en", "title": "Hello world", "excerpt": "An excerpt"},
            {"locale": "de", "title": "Hallo Welt"},
        ],
        **fields,
    )


async def test_a_published_node_gets_a_document_per_locale(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, make_relay: MakeRelay
) -> None:
    tenant_id, headers = await setup(client, app, make_uow, "idx-one")
    node = await bilingual_post(client, headers)

    await deliver(make_relay)

    docs = await content_docs(make_uow, tenant_id, node["id"])
    assert set(docs) == {"en", "de"}
    en, de = docs["en"], docs["de"]
    assert (en.title, en.status, en.kind, en.excerpt) == ("Hello world", "published", "post", "An excerpt")
    assert en.slug == "hello-world"
    assert en.body_text is not None
    assert "Greetings" in en.body_text
    assert "<" not in en.body_text
    assert "bold text" in en.body_text
    assert de.title == "Hallo Welt"
    assert de.body_text is None
    assert en.published_at is not None
    assert en.source_updated_at >= en.published_at


async def test_a_translation_edit_unpublish_and_delete_follow(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, make_relay: MakeRelay
) -> None:
    tenant_id, headers = await setup(client, app, make_uow, "idx-two")
    node = await bilingual_post(client, headers)
    await deliver(make_relay)
    before = await content_docs(make_uow, tenant_id, node["id"])

    response = await client.patch(
        f"/api/content/nodes/{node['id']}",
        json={"translations": [{"locale": "de", "title": "Hallo Erde"}]},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    await deliver(make_relay)
    docs = await content_docs(make_uow, tenant_id, node["id"])
    assert docs["de"].title == "Hallo Erde"
    assert docs["en"].title == "Hello world"
    assert docs["de"].source_updated_at > before["de"].source_updated_at

    response = await client.post(f"/api/content/nodes/{node['id']}/unpublish", headers=headers)
    assert response.status_code == 200, response.text
    await deliver(make_relay)
    docs = await content_docs(make_uow, tenant_id, node["id"])
    assert {d.status for d in docs.values()} == {"draft"}

    response = await client.delete(f"/api/content/nodes/{node['id']}", headers=headers)
    assert response.status_code == 204, response.text
    await deliver(make_relay)
    assert await content_docs(make_uow, tenant_id, node["id"]) == {}


async def test_redelivery_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, make_relay: MakeRelay
) -> None:
    tenant_id, headers = await setup(client, app, make_uow, "idx-replay")
    node = await bilingual_post(client, headers)
    product = await make_product(client, headers, title="Mug", status="active")
    await make_variant(client, headers, product["id"], quantity=2)
    relay = make_relay(index_registry())
    await relay.run_until_idle()
    docs = {
        k: (v.id, v.title, v.source_updated_at, v.indexed_at)
        for k, v in (await content_docs(make_uow, tenant_id, node["id"])).items()
    }
    pdocs = {
        k: (v.id, v.prices, v.indexed_at)
        for k, v in (await product_docs(make_uow, tenant_id, product["id"])).items()
    }

    assert await relay.replay("index.content", tenant_id=tenant_id) > 0
    assert await relay.replay("index.products", tenant_id=tenant_id) > 0

    after = {
        k: (v.id, v.title, v.source_updated_at, v.indexed_at)
        for k, v in (await content_docs(make_uow, tenant_id, node["id"])).items()
    }
    pafter = {
        k: (v.id, v.prices, v.indexed_at)
        for k, v in (await product_docs(make_uow, tenant_id, product["id"])).items()
    }
    assert after == docs
    assert pafter == pdocs


async def test_a_tag_rename_updates_the_tagged_nodes(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, make_relay: MakeRelay
) -> None:
    tenant_id, headers = await setup(client, app, make_uow, "idx-tags")
    tag = await make_tag(client, headers, name="python")
    tagged = await bilingual_post(client, headers)
    untagged = await make_node(client, headers, title="Other", status="published")
    response = await client.put(f"/api/content/nodes/{tagged['id']}/tags/{tag['id']}", headers=headers)
    assert response.status_code in (200, 201, 204), response.text
    await deliver(make_relay)
    docs = await content_docs(make_uow, tenant_id, tagged["id"])
    assert docs["en"].tags == ["python"]
    assert docs["en"].tags_text == "python"
    assert docs["de"].tags == []  # the tag has no German name

    response = await client.patch(
        f"/api/content/tags/{tag['id']}",
        json={"translations": [{"locale": "en", "name": "Snakes"}, {"locale": "de", "name": "Schlangen"}]},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    await deliver(make_relay)

    docs = await content_docs(make_uow, tenant_id, tagged["id"])
    assert docs["en"].tags == ["Snakes"]
    assert docs["de"].tags == ["Schlangen"]
    assert docs["de"].tags_text == "Schlangen"
    assert (await content_docs(make_uow, tenant_id, untagged["id"]))["en"].tags == []

    response = await client.delete(f"/api/content/nodes/{tagged['id']}/tags/{tag['id']}", headers=headers)
    assert response.status_code == 204, response.text
    await deliver(make_relay)
    assert (await content_docs(make_uow, tenant_id, tagged["id"]))["en"].tags == []


async def test_products_with_prices_and_stock(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, make_relay: MakeRelay
) -> None:
    tenant_id, headers = await setup(client, app, make_uow, "idx-shop")
    shirt = await make_product(
        client,
        headers,
        title="Shirt",
        subtitle="Cotton",
        description="A *plain* shirt\n\n<script>alert(1)</script>",
        status="active",
        options=[{"name": "Size", "values": ["S", "M"]}],
    )
    small = await make_variant(
        client,
        headers,
        shirt["id"],
        options={"Size": "S"},
        prices=[{"currency": "EUR", "amount": 1000}, {"currency": "USD", "amount": 1200}],
    )
    await make_variant(client, headers, shirt["id"], options={"Size": "M"}, amount=1500, quantity=0)
    await deliver(make_relay)

    doc = (await product_docs(make_uow, tenant_id, shirt["id"]))["en"]
    assert (doc.title, doc.handle, doc.subtitle, doc.description) == (
        "Shirt",
        "shirt",
        "Cotton",
        "A plain shirt",  # the markdown description's rendered, sanitized text: no markup, no script
    )
    assert doc.status == "active"
    assert doc.published_at is not None
    assert doc.prices == {"EUR": {"min": 1000, "max": 1500}, "USD": {"min": 1200, "max": 1200}}
    assert doc.variant_count == 2
    assert doc.options == [{"name": "Size", "values": ["S", "M"]}]
    assert doc.in_stock is False

    response = await client.post(
        f"/api/commerce/variants/{small['id']}/inventory/set", json={"quantity": 3}, headers=headers
    )
    assert response.status_code == 200, response.text
    await deliver(make_relay)
    assert (await product_docs(make_uow, tenant_id, shirt["id"]))["en"].in_stock is True

    response = await client.post(f"/api/commerce/products/{shirt['id']}/unpublish", headers=headers)
    assert response.status_code == 200, response.text
    await deliver(make_relay)
    assert (await product_docs(make_uow, tenant_id, shirt["id"]))["en"].status != "active"

    response = await client.delete(f"/api/commerce/products/{shirt['id']}", headers=headers)
    assert response.status_code == 204, response.text
    await deliver(make_relay)
    assert await product_docs(make_uow, tenant_id, shirt["id"]) == {}


async def test_tenants_documents_are_separate(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, make_relay: MakeRelay
) -> None:
    acme, acme_headers = await setup(client, app, make_uow, "idx-acme")
    globex, globex_headers = await setup(client, app, make_uow, "idx-globex")
    a = await make_node(client, acme_headers, title="Acme news", status="published")
    b = await make_node(client, globex_headers, title="Globex news", status="published")
    await deliver(make_relay)

    async with make_uow(TenantScope.of(acme), write=False) as uow:
        acme_rows = (await uow.session.scalars(select(ContentDocument))).all()
    async with make_uow(TenantScope.of(globex), write=False) as uow:
        globex_rows = (await uow.session.scalars(select(ContentDocument))).all()
    assert {(r.node_id, r.tenant_id) for r in acme_rows} == {(uuid.UUID(a["id"]), acme)}
    assert {(r.node_id, r.tenant_id) for r in globex_rows} == {(uuid.UUID(b["id"]), globex)}


async def test_index_updated_is_recorded(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, make_relay: MakeRelay
) -> None:
    tenant_id, headers = await setup(client, app, make_uow, "idx-announce")
    node = await make_node(client, headers, title="Announced", status="published")
    product = await make_product(client, headers, title="Lamp")
    await deliver(make_relay)

    async with make_uow(TenantScope.of(tenant_id), write=False) as uow:
        rows = (
            await uow.session.scalars(select(SysEvent).where(SysEvent.event_type == "index.updated"))
        ).all()
    announced = {(r.payload["index_name"], r.payload["target_id"]) for r in rows}
    assert ("content", node["id"]) in announced
    assert ("products", product["id"]) in announced


async def test_a_nodes_events_in_one_delivery_build_its_documents_once(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    make_relay: MakeRelay,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The events of two new nodes, delivered together, build each node's documents once, announced as
    caused by the last event that concerned the node."""
    tenant_id, headers = await setup(client, app, make_uow, "idx-once")
    first = await bilingual_post(client, headers)
    second = await bilingual_post(client, headers)
    real = documents.content_documents
    built: list[list[uuid.UUID]] = []

    async def counted(uow: UnitOfWork, node_ids: Any) -> Any:
        built.append(list(node_ids))
        return await real(uow, node_ids)

    monkeypatch.setattr(documents, "content_documents", counted)
    async with make_uow(TenantScope.of(tenant_id), write=False) as uow:
        events = (
            await uow.session.scalars(
                select(SysEvent)
                .where(SysEvent.event_type.in_(consumers.index_content.event_types))
                .order_by(SysEvent.position)
            )
        ).all()
    assert len(events) >= 4  # created and published, at least, per node

    await deliver(make_relay)

    assert sorted(node_id for batch in built for node_id in batch) == sorted(
        uuid.UUID(n["id"]) for n in (first, second)
    )
    for node in (first, second):
        assert set(await content_docs(make_uow, tenant_id, node["id"])) == {"en", "de"}
    last = {str(e.payload["node_id"]): e.id for e in events}
    async with make_uow(TenantScope.of(tenant_id), write=False) as uow:
        announced = (
            await uow.session.scalars(select(SysEvent).where(SysEvent.event_type == "index.updated"))
        ).all()
    causes = {
        a.payload["target_id"]: a.causation_id for a in announced if a.payload["index_name"] == "content"
    }
    assert causes == {first["id"]: last[first["id"]], second["id"]: last[second["id"]]}


@pytest.mark.parametrize("target", ["content", "product"])
async def test_a_reindex_request_rebuilds_the_tenants_documents(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    make_relay: MakeRelay,
    target: Literal["content", "product"],
) -> None:
    tenant_id, headers = await setup(client, app, make_uow, f"idx-req-{target}")
    node = await make_node(client, headers, title="Lost", status="published")
    product = await make_product(client, headers, title="Lost too")
    await deliver(make_relay)
    async with make_uow(TenantScope.of(tenant_id)) as uow:  # the index loses its documents
        for row in (await uow.session.scalars(select(ContentDocument))).all():
            await uow.session.delete(row)
        for prow in (await uow.session.scalars(select(ProductDocument))).all():
            await uow.session.delete(prow)

    async with make_uow(TenantScope.of(tenant_id)) as uow:
        uow.record(ReindexRequested(target_type=target))
    await deliver(make_relay)

    if target == "content":
        assert set(await content_docs(make_uow, tenant_id, node["id"])) == {"en"}
        assert await product_docs(make_uow, tenant_id, product["id"]) == {}
    else:
        assert set(await product_docs(make_uow, tenant_id, product["id"])) == {"en"}
        assert await content_docs(make_uow, tenant_id, node["id"]) == {}


async def lose_content_documents(make_uow: MakeUoW, tenant_id: uuid.UUID) -> None:
    async with make_uow(TenantScope.of(tenant_id)) as uow:
        for row in (await uow.session.scalars(select(ContentDocument))).all():
            await uow.session.delete(row)


async def request_content_rebuild(make_uow: MakeUoW, tenant_id: uuid.UUID) -> None:
    async with make_uow(TenantScope.of(tenant_id)) as uow:
        uow.record(ReindexRequested(target_type="content"))


async def rebuilds_and_requests(make_uow: MakeUoW, tenant_id: uuid.UUID) -> tuple[list[Rebuild], int]:
    async with make_uow(TenantScope.of(tenant_id), write=False) as uow:
        rebuilds = list((await uow.session.scalars(select(Rebuild))).all())
        requests = (
            await uow.session.scalars(
                select(SysEvent).where(SysEvent.event_type == "index.reindex_requested")
            )
        ).all()
    return rebuilds, len(requests)


async def five_lost_posts(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, make_relay: MakeRelay, slug: str
) -> tuple[uuid.UUID, dict[str, str], list[uuid.UUID]]:
    """A tenant with five published posts whose documents the index lost."""
    tenant_id, headers = await setup(client, app, make_uow, slug)
    made = [await make_node(client, headers, title=f"Post {i}", status="published") for i in range(5)]
    await deliver(make_relay)
    await lose_content_documents(make_uow, tenant_id)
    return tenant_id, headers, sorted(uuid.UUID(n["id"]) for n in made)


async def test_a_whole_tenant_request_rebuilds_in_batches_between_live_events(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    make_relay: MakeRelay,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each delivery does one batch and records a continuation; a live change committed between two
    deliveries is applied and kept."""
    monkeypatch.setattr(consumers, "REBUILD_BATCH_SIZE", 2)
    tenant_id, headers, ids = await five_lost_posts(client, app, make_uow, make_relay, "idx-chain")
    await request_content_rebuild(make_uow, tenant_id)
    relay = make_relay(index_registry())

    await relay.run_batch()  # the first batch
    (running,), requests = await rebuilds_and_requests(make_uow, tenant_id)
    assert (running.status, running.processed, running.after_id, requests) == ("running", 2, ids[1], 2)
    assert sorted(await content_docs_of(make_uow, tenant_id)) == ids[:2]
    for node_id, title in ((ids[0], "Rebuilt, then changed"), (ids[4], "Changed, then rebuilt")):
        response = await client.patch(
            f"/api/content/nodes/{node_id}",
            json={"translations": [{"locale": "en", "title": title}]},
            headers=headers,
        )
        assert response.status_code == 200, response.text
    await relay.run_until_idle()

    (done,), requests = await rebuilds_and_requests(make_uow, tenant_id)
    assert (done.id, done.status, done.processed, requests) == (running.id, "done", 5, 3)
    titles = {k: v.title for k, v in (await content_docs_of(make_uow, tenant_id)).items()}
    assert sorted(titles) == ids
    assert (titles[ids[0]], titles[ids[4]]) == ("Rebuilt, then changed", "Changed, then rebuilt")
    drift = await verify(make_uow, tenant_id)
    assert drift.clean, drift.as_dict()


async def test_a_whole_tenant_request_survives_a_crashed_delivery(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    make_relay: MakeRelay,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A delivery that dies after its batch wrote (before it committed) leaves the checkpoint where it
    was; its retry does the batch again and the chain goes on to the end."""
    monkeypatch.setattr(consumers, "REBUILD_BATCH_SIZE", 2)
    tenant_id, _headers, ids = await five_lost_posts(client, app, make_uow, make_relay, "idx-crash")
    real = service.advance
    batches: list[int] = []

    async def dies_after_the_second_batch(uow: UnitOfWork, row: Rebuild, batch_size: int = 500) -> bool:
        done = await real(uow, row, batch_size)
        batches.append(row.processed)
        if len(batches) == 2:
            raise RuntimeError("the process died")
        return done

    monkeypatch.setattr(service, "advance", dies_after_the_second_batch)
    await request_content_rebuild(make_uow, tenant_id)
    await make_relay(index_registry(), config=RelayConfig(retry_base_seconds=0.0)).run_until_idle()

    assert batches == [2, 4, 4, 5]  # the second batch twice: its first try rolled back
    (done,), requests = await rebuilds_and_requests(make_uow, tenant_id)
    assert (done.status, done.processed, requests) == ("done", 5, 3)
    assert sorted(await content_docs_of(make_uow, tenant_id)) == ids
    drift = await verify(make_uow, tenant_id)
    assert drift.clean, drift.as_dict()


async def test_a_request_while_a_rebuild_runs_joins_it(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    make_relay: MakeRelay,
    session_factory: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A second request while a chain runs starts no second rebuild; a continuation of a rebuild the CLI
    finished meanwhile does nothing."""
    monkeypatch.setattr(consumers, "REBUILD_BATCH_SIZE", 2)
    tenant_id, _headers, ids = await five_lost_posts(client, app, make_uow, make_relay, "idx-dup")
    await request_content_rebuild(make_uow, tenant_id)
    relay = make_relay(index_registry())
    await relay.run_batch()  # the chain runs

    await request_content_rebuild(make_uow, tenant_id)  # a duplicate
    await relay.run_until_idle()

    (done,), requests = await rebuilds_and_requests(make_uow, tenant_id)
    assert (done.status, done.processed, requests) == ("done", 5, 4)
    assert sorted(await content_docs_of(make_uow, tenant_id)) == ids

    await request_content_rebuild(make_uow, tenant_id)  # a new chain, which the CLI overtakes
    await relay.run_batch()
    result = await service.rebuild(make_uow, tenant_id, "content", batch_size=2)
    assert (result.resumed, result.processed, result.total) == (True, 3, 5)
    await relay.run_until_idle()

    rebuilds, requests = await rebuilds_and_requests(make_uow, tenant_id)
    assert sorted((r.status, r.processed) for r in rebuilds) == [("done", 5), ("done", 5)]
    assert requests == 6  # the second chain's continuation found its rebuild done and stopped


async def test_a_request_takes_over_a_rebuild_whose_cli_run_died(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    make_relay: MakeRelay,
    session_factory: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rebuild left running by a CLI run that died has no continuation to drive it: a request does not
    wait for it, it finishes it from its checkpoint."""
    monkeypatch.setattr(consumers, "REBUILD_BATCH_SIZE", 2)
    tenant_id, _headers, ids = await five_lost_posts(client, app, make_uow, make_relay, "idx-orphan")
    real = service.advance

    async def dies_on_the_second_batch(uow: UnitOfWork, row: Rebuild, batch_size: int = 500) -> bool:
        if row.processed:
            raise RuntimeError("the process died")
        return await real(uow, row, batch_size)

    monkeypatch.setattr(service, "advance", dies_on_the_second_batch)
    with pytest.raises(RuntimeError, match="died"):
        await service.rebuild(make_uow, tenant_id, "content", batch_size=2)
    monkeypatch.setattr(service, "advance", real)
    (left,), _ = await rebuilds_and_requests(make_uow, tenant_id)
    assert (left.status, left.processed, left.continuation_id) == ("running", 2, None)

    await request_content_rebuild(make_uow, tenant_id)
    await make_relay(index_registry()).run_until_idle()

    (done,), requests = await rebuilds_and_requests(make_uow, tenant_id)
    assert (done.id, done.status, done.processed, requests) == (left.id, "done", 5, 2)
    assert sorted(await content_docs_of(make_uow, tenant_id)) == ids
    drift = await verify(make_uow, tenant_id)
    assert drift.clean, drift.as_dict()


async def content_docs_of(make_uow: MakeUoW, tenant_id: uuid.UUID) -> dict[uuid.UUID, ContentDocument]:
    async with make_uow(TenantScope.of(tenant_id), write=False) as uow:
        rows = await uow.session.scalars(select(ContentDocument).where(ContentDocument.locale == "en"))
        return {row.node_id: row for row in rows}


async def test_the_index_lag_gauge_follows_the_consumers(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    make_relay: MakeRelay,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rustok.index import metrics

    monkeypatch.setattr(metrics, "_last", {})
    metrics.INDEX_LAG.labels("index.content").set(-1)
    _tenant_id, headers = await setup(client, app, make_uow, "idx-lag")
    await make_node(client, headers, title="Lagging", status="published")

    await deliver(make_relay)

    response = await client.get("/metrics")
    assert 'rustok_index_lag_events{consumer="index.content"} 0.0' in response.text
