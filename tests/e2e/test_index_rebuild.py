"""Rebuilding and verifying the search index: a rebuild builds every document from the source in
checkpointed batches, resumes after dying, never overwrites a newer live update with a stale batch (not
even one racing it on separate connections), and ``verify`` reports drift; the ``rustok index`` commands
do the same for an operator."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select

from rustok.content import service as content_service
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import SessionFactory, UnitOfWork
from rustok.index import documents as builder
from rustok.index import service
from rustok.index.consumers import CONSUMERS
from rustok.index.models import ContentDocument, ProductDocument, Rebuild
from rustok.outbox.registry import ConsumerRegistry
from rustok.outbox.relay import Relay
from rustok.testing import (
    LiveApp,
    live_app,
    login_as,
    make_node,
    make_product,
    make_tag,
    make_variant,
    new_tenant,
)
from tests.e2e.test_cli import clean_env
from tests.e2e.test_cli import rustok as run_cli

MakeUoW = Callable[..., UnitOfWork]
MakeRelay = Callable[..., Relay]


async def content_rows(make_uow: MakeUoW, tenant_id: uuid.UUID) -> list[ContentDocument]:
    async with make_uow(TenantScope.of(tenant_id), write=False) as uow:
        return list(
            (await uow.session.scalars(select(ContentDocument).order_by(ContentDocument.node_id))).all()
        )


async def nodes(client: httpx.AsyncClient, headers: dict[str, str], count: int) -> list[uuid.UUID]:
    made = [await make_node(client, headers, title=f"Post {i}", status="published") for i in range(count)]
    return sorted(uuid.UUID(n["id"]) for n in made)


async def verify(make_uow: MakeUoW, tenant_id: uuid.UUID, target: Any = "content") -> service.Drift:
    async with make_uow(TenantScope.of(tenant_id), write=False) as uow:
        return await service.verify(uow, target)


@pytest_asyncio.fixture(loop_scope="session")
async def committed(isolated_settings: Settings) -> AsyncIterator[LiveApp]:
    """The app and a relay of the index consumers on a database of the test's own, where every unit of
    work really commits on its own connection: for races between transactions."""
    async with live_app(isolated_settings, consumers=ConsumerRegistry(CONSUMERS)) as live:
        yield live


async def test_a_rebuild_builds_every_document(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, session_factory: SessionFactory
) -> None:
    tenant_id = await new_tenant(make_uow, "rb-all")
    headers = await login_as(client, app, tenant_id, "admin")
    ids = await nodes(client, headers, 5)
    product = await make_product(client, headers, title="Kettle", status="active")
    await make_variant(client, headers, product["id"], quantity=4)
    assert not (await verify(make_uow, tenant_id)).clean  # nothing was delivered: all missing

    content = await service.rebuild(make_uow, tenant_id, "content", batch_size=2)
    products = await service.rebuild(make_uow, tenant_id, "products", batch_size=2)

    assert (content.processed, content.total, content.resumed) == (5, 5, False)
    assert products.total == 1
    assert [r.node_id for r in await content_rows(make_uow, tenant_id)] == ids
    assert (await verify(make_uow, tenant_id)).clean
    assert (await verify(make_uow, tenant_id, "products")).clean
    async with make_uow(TenantScope.of(tenant_id), write=False) as uow:
        rebuilds = (await uow.session.scalars(select(Rebuild))).all()
        doc = (await uow.session.scalars(select(ProductDocument))).one()
    assert {(r.target, r.status, r.processed) for r in rebuilds} == {
        ("content", "done", 5),
        ("products", "done", 1),
    }
    assert doc.in_stock is True
    assert doc.prices == {"EUR": {"min": 1000, "max": 1000}}


async def test_a_rebuild_that_died_resumes_from_its_checkpoint(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    session_factory: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant_id = await new_tenant(make_uow, "rb-resume")
    headers = await login_as(client, app, tenant_id, "admin")
    ids = await nodes(client, headers, 5)
    real = builder.content_documents
    calls: list[Sequence[uuid.UUID]] = []

    async def dies_on_the_second_batch(uow: UnitOfWork, node_ids: Sequence[uuid.UUID]) -> Any:
        calls.append(list(node_ids))
        if len(calls) == 2:
            raise RuntimeError("the process died")
        return await real(uow, node_ids)

    monkeypatch.setattr(builder, "content_documents", dies_on_the_second_batch)
    with pytest.raises(RuntimeError, match="died"):
        await service.rebuild(make_uow, tenant_id, "content", batch_size=2)

    async with make_uow(TenantScope.of(tenant_id), write=False) as uow:
        checkpoint = (await uow.session.scalars(select(Rebuild))).one()
    assert (checkpoint.status, checkpoint.after_id, checkpoint.processed) == ("running", ids[1], 2)
    assert [r.node_id for r in await content_rows(make_uow, tenant_id)] == ids[:2]

    monkeypatch.setattr(builder, "content_documents", real)
    result = await service.rebuild(make_uow, tenant_id, "content", batch_size=2)

    assert (result.resumed, result.rebuild_id, result.processed, result.total) == (True, checkpoint.id, 3, 5)
    assert [r.node_id for r in await content_rows(make_uow, tenant_id)] == ids
    drift = await verify(make_uow, tenant_id)
    assert drift.clean, drift.as_dict()


async def test_a_live_change_during_a_rebuild_is_not_overwritten_by_a_stale_batch(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    make_relay: MakeRelay,
    session_factory: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant_id = await new_tenant(make_uow, "rb-live")
    headers = await login_as(client, app, tenant_id, "admin")
    node = await make_node(client, headers, title="Before", status="published")
    node_id = uuid.UUID(node["id"])
    async with make_uow(TenantScope.of(tenant_id), write=False) as uow:  # what a slow batch read
        stale = await builder.content_documents(uow, [node_id])
    response = await client.patch(
        f"/api/content/nodes/{node_id}",
        json={"translations": [{"locale": "en", "title": "After"}]},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    await make_relay(ConsumerRegistry(CONSUMERS)).run_until_idle()  # the live update
    assert [r.title for r in await content_rows(make_uow, tenant_id)] == ["After"]

    async def read_before_the_change(uow: UnitOfWork, node_ids: Sequence[uuid.UUID]) -> Any:
        return {k: v for k, v in stale.items() if k in node_ids}

    monkeypatch.setattr(builder, "content_documents", read_before_the_change)
    await service.rebuild(make_uow, tenant_id, "content")

    rows = await content_rows(make_uow, tenant_id)
    assert [r.title for r in rows] == ["After"]
    assert rows[0].source_updated_at > stale[node_id]["en"]["source_updated_at"]


# The two races below need the batch and the live change in separate transactions (``committed``). The
# batch pauses inside its transaction, after it read the source, while a concurrent task makes the live
# change through the HTTP API and delivers its events through the relay to the index consumers. The task is
# started, never awaited, inside the batch: on PostgreSQL its consumer waits for the index writers' lock
# the batch holds, on SQLite its request waits for the batch's write lock (``BEGIN IMMEDIATE``).
PAUSE_SECONDS = 0.5


async def test_a_tag_attached_during_a_rebuild_batch_stays_in_the_document(
    committed: LiveApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attaching a tag leaves ``source_updated_at`` as it was, so "newer wins" cannot tell the batch's
    stale document from the consumer's. On PostgreSQL this fails without the writers' lock (the consumer
    writes during the pause, the batch overwrites it); on SQLite the live write waits for the batch's write
    lock, so it passes either way."""
    client = committed.client
    tenant_id = await new_tenant(committed.uow, "race-tag")
    headers = await login_as(client, committed.app, tenant_id, "admin")
    node_id = uuid.UUID((await make_node(client, headers, title="Racing", status="published"))["id"])
    tag = await make_tag(client, headers, name="python")
    await committed.deliver()
    real = builder.content_documents
    live: list[asyncio.Task[None]] = []

    async def attach_the_tag() -> None:
        response = await client.put(f"/api/content/nodes/{node_id}/tags/{tag['id']}", headers=headers)
        assert response.status_code in (200, 201, 204), response.text
        await committed.deliver()

    async def reads_then_pauses(uow: UnitOfWork, node_ids: Sequence[uuid.UUID]) -> Any:
        built = await real(uow, node_ids)
        if not live:  # the batch's read (the live consumer's comes later)
            live.append(asyncio.create_task(attach_the_tag()))
            await asyncio.sleep(PAUSE_SECONDS)
        return built

    monkeypatch.setattr(builder, "content_documents", reads_then_pauses)
    await service.rebuild(committed.uow, tenant_id, "content")
    await live[0]

    rows = await content_rows(committed.uow, tenant_id)
    assert [(r.node_id, r.tags) for r in rows] == [(node_id, ["python"])]
    drift = await verify(committed.uow, tenant_id)
    assert drift.clean, drift.as_dict()


async def test_a_node_deleted_during_a_rebuild_batch_keeps_no_document(
    committed: LiveApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch reads the node (its documents, lost by the index, are missing), then checks which
    sources still exist to drop orphans: its last read of the source. The node is deleted right after,
    and ``node.deleted`` is delivered while the batch has not committed its new documents. On PostgreSQL
    this fails without the writers' lock (the consumer finds nothing to delete, the batch then commits the
    documents of a node that is gone); on SQLite the deletion waits for the batch's write lock, so it passes
    either way."""
    client = committed.client
    tenant_id = await new_tenant(committed.uow, "race-delete")
    headers = await login_as(client, committed.app, tenant_id, "admin")
    node_id = uuid.UUID((await make_node(client, headers, title="Doomed", status="published"))["id"])
    await committed.deliver()
    async with committed.uow(TenantScope.of(tenant_id)) as uow:  # the index loses its documents
        for row in (await uow.session.scalars(select(ContentDocument))).all():
            await uow.session.delete(row)
    real = content_service.existing_node_ids
    live: list[asyncio.Task[None]] = []

    async def delete_the_node() -> None:
        response = await client.delete(f"/api/content/nodes/{node_id}", headers=headers)
        assert response.status_code == 204, response.text
        await committed.deliver()

    async def reads_then_pauses(uow: UnitOfWork, node_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        alive = await real(uow, node_ids)
        if not live:
            live.append(asyncio.create_task(delete_the_node()))
            await asyncio.sleep(PAUSE_SECONDS)
        return alive

    monkeypatch.setattr(content_service, "existing_node_ids", reads_then_pauses)
    await service.rebuild(committed.uow, tenant_id, "content")
    await live[0]

    assert await content_rows(committed.uow, tenant_id) == []
    drift = await verify(committed.uow, tenant_id)
    assert drift.clean, drift.as_dict()


async def test_verify_reports_drift_and_a_rebuild_repairs_it(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    make_relay: MakeRelay,
    session_factory: SessionFactory,
) -> None:
    tenant_id = await new_tenant(make_uow, "rb-drift")
    headers = await login_as(client, app, tenant_id, "admin")
    ids = await nodes(client, headers, 3)
    await make_relay(ConsumerRegistry(CONSUMERS)).run_until_idle()
    assert (await verify(make_uow, tenant_id)).clean
    ghost = uuid.UUID("01900000-0000-7000-8000-0000000000ff")  # a node that never existed

    async with make_uow(TenantScope.of(tenant_id)) as uow:
        rows = {r.node_id: r for r in (await uow.session.scalars(select(ContentDocument))).all()}
        rows[ids[0]].title = "Tampered"
        await uow.session.delete(rows[ids[1]])
        template = rows[ids[2]]
        uow.session.add(
            ContentDocument(
                node_id=ghost,
                locale="en",
                **{name: getattr(template, name) for name in builder.CONTENT_FIELDS},
            )
        )

    drift = await verify(make_uow, tenant_id)
    assert (drift.missing, drift.extra, drift.different, drift.clean) == (1, 1, 1, False)
    assert {"problem": "different", "id": str(ids[0]), "locale": "en", "fields": ["title"]} in drift.examples
    assert {"problem": "missing", "id": str(ids[1]), "locale": "en"} in drift.examples
    assert {"problem": "extra", "id": str(ghost), "locale": "en"} in drift.examples

    await service.rebuild(make_uow, tenant_id, "content")
    after = await verify(make_uow, tenant_id)
    assert after.clean, after.as_dict()
    assert ghost not in {r.node_id for r in await content_rows(make_uow, tenant_id)}


async def test_the_cli_rebuilds_and_verifies(
    isolated_settings: Settings, isolated_database_url: str, tmp_path: Path
) -> None:
    """``rustok index verify`` exits 1 on drift; ``rustok index rebuild`` builds the documents (for one
    tenant by slug, then all), after which ``verify`` exits 0."""
    async with live_app(isolated_settings) as live:
        tenant_id = await new_tenant(live.uow, "cli-index")
        headers = await login_as(live.client, live.app, tenant_id, "admin")
        await make_node(live.client, headers, title="From the CLI", status="published")
        await make_product(live.client, headers, title="Cli product")
    env = clean_env(tmp_path / "data", RUSTOK_DATABASE_URL=isolated_database_url)

    drifted = run_cli("index", "verify", "--tenant", "cli-index", env=env, cwd=tmp_path)
    assert drifted.returncode == 1, drifted.stderr
    report = json.loads(drifted.stdout)
    assert report["clean"] is False
    assert {(r["target"], r["missing"]) for r in report["reports"]} == {("content", 1), ("products", 1)}

    rebuilt = run_cli(
        "index", "rebuild", "--tenant", "cli-index", "--target", "content", env=env, cwd=tmp_path
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert [(r["target"], r["processed"]) for r in json.loads(rebuilt.stdout)["rebuilds"]] == [("content", 1)]

    rebuilt = run_cli("index", "rebuild", env=env, cwd=tmp_path)  # every tenant, both targets
    assert rebuilt.returncode == 0, rebuilt.stderr

    clean = run_cli("index", "verify", "--tenant", str(tenant_id), env=env, cwd=tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout)["clean"] is True

    unknown = run_cli("index", "verify", "--tenant", "nobody", env=env, cwd=tmp_path)
    assert unknown.returncode == 1
    assert "no tenant" in unknown.stderr
    bad = run_cli("index", "rebuild", "--target", "everything", env=env, cwd=tmp_path)
    assert bad.returncode == 2
