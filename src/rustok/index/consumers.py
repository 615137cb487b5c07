"""What the index does on events: rebuild the documents the event may have changed, from their source's
current state (so redelivery, replay and reordering change nothing), and announce ``index.updated``.

The relay hands a consumer a tenant's due events in one transaction. The content and product consumers
collect the ids those events concern and rebuild each once, just before the transaction commits
(`_reindex_at_commit`): the several events of a new node (created, translations, bodies, published) build
its documents once, not once each. A rebuild reads the source as it is now, so building once at the end
writes what the last of several builds would have."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from rustok.content import service as content
from rustok.core.events import Envelope, caused_by
from rustok.core.logging import get_logger
from rustok.core.uow import UnitOfWork
from rustok.index import metrics, service
from rustok.index.repository import Target
from rustok.outbox import Consumer, consumer

log = get_logger("rustok.index")

CONTENT = "index.content"
PRODUCTS = "index.products"
REINDEX = "index.reindex"
REBUILD_BATCH_SIZE = service.BATCH_SIZE  # source ids per delivery of a whole-tenant request
_PENDING = "rustok.index.pending"  # in a unit of work's session.info, per target: id -> its last event


async def _affected_nodes(event: Envelope[Any], uow: UnitOfWork) -> list[uuid.UUID]:
    payload = event.payload
    if event.event_type in ("tag.attached", "tag.detached"):
        return [payload.target_id] if payload.target_type == "node" else []
    if event.event_type in ("tag.updated", "tag.deleted"):
        return await content.node_ids_tagged(uow, payload.tag_id)
    if event.event_type in ("category.updated", "category.deleted"):
        # A deleted category's nodes were uncategorized, each announced as node.updated.
        return await content.node_ids_in_category(uow, payload.category_id)
    return [payload.node_id]


def _reindex_at_commit(
    uow: UnitOfWork, target: Target, ids: Sequence[uuid.UUID], event: Envelope[Any]
) -> None:
    """Have the documents of ``ids`` rebuilt once, just before ``uow`` commits, however many of its events
    concern them. Each id's ``index.updated`` is caused by the last of those events."""
    key = (_PENDING, target)
    pending: dict[uuid.UUID, Envelope[Any]] | None = uow.session.info.get(key)
    if pending is None:
        pending = uow.session.info[key] = {}

        async def rebuild(done: UnitOfWork) -> None:
            by_cause: dict[uuid.UUID, tuple[Envelope[Any], list[uuid.UUID]]] = {}
            for owner_id, cause in pending.items():
                by_cause.setdefault(cause.id, (cause, []))[1].append(owner_id)
            for cause, owner_ids in by_cause.values():
                with caused_by(cause):
                    await service.reindex(done, target, owner_ids)

        uow.before_commit(rebuild)
    for owner_id in ids:
        pending[owner_id] = event


def _observe_lag_after_commit(uow: UnitOfWork, name: str) -> None:
    """Refresh the consumer's lag gauge once its transaction is durable (throttled)."""
    if not metrics.due(name):
        return

    async def refresh(done: UnitOfWork) -> None:
        try:
            await metrics.observe_lag(done.sibling, [CONSUMERS_BY_NAME[name]])
        except Exception as exc:  # a metric never fails the delivery it follows
            log.warning("index_lag_not_observed", consumer=name, error=str(exc))

    uow.after_commit(refresh)


@consumer(
    CONTENT,
    "node.created",
    "node.updated",
    "node.translation.updated",
    "node.published",
    "node.unpublished",
    "node.deleted",
    "body.updated",
    "tag.attached",
    "tag.detached",
    "tag.updated",
    "tag.deleted",
    "category.updated",
    "category.deleted",
)
async def index_content(event: Envelope[Any], uow: UnitOfWork) -> None:
    """Re-build the documents of the nodes the event concerns (at commit)."""
    _reindex_at_commit(uow, "content", await _affected_nodes(event, uow), event)
    _observe_lag_after_commit(uow, CONTENT)


@consumer(
    PRODUCTS,
    "product.created",
    "product.updated",
    "product.published",
    "product.unpublished",
    "product.deleted",
    "variant.created",
    "variant.updated",
    "variant.deleted",
    "price.updated",
    "inventory.updated",
)
async def index_products(event: Envelope[Any], uow: UnitOfWork) -> None:
    """Re-build the documents of the product the event concerns (at commit)."""
    _reindex_at_commit(uow, "products", [event.payload.product_id], event)
    _observe_lag_after_commit(uow, PRODUCTS)


@consumer(REINDEX, "index.reindex_requested")
async def reindex_requested(event: Envelope[Any], uow: UnitOfWork) -> None:
    """One document (``target_id``), or the whole tenant's read model, one checkpointed batch per delivery
    (`rustok.index.service.rebuild_requested`): a batch commits with its ``Rebuild`` checkpoint and, unless
    it was the last, a continuation request, so a crash loses nothing and the tenant's live events are
    delivered between batches. A continuation goes on with the rebuild that recorded it (nothing, if that
    rebuild is done); any other request joins the running rebuild of its target, takes it over if no
    continuation drives it (a CLI run's), or starts one."""
    payload = event.payload
    target: Target = "content" if payload.target_type == "content" else "products"
    if payload.target_id is not None:
        await service.reindex(uow, target, [payload.target_id])
    else:
        row = await service.rebuild_requested(uow, target, event.id, batch_size=REBUILD_BATCH_SIZE)
        if row is not None and row.finished_at is not None:
            log.info("index_rebuilt", target=target, tenant_id=str(event.tenant_id), processed=row.processed)
    _observe_lag_after_commit(uow, REINDEX)


CONSUMERS: list[Consumer] = [index_content, index_products, reindex_requested]
CONSUMERS_BY_NAME = {c.name: c for c in CONSUMERS}
