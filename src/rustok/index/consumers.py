"""What the index does on events: rebuild the documents the event may have changed, from their source's
current state (so redelivery, replay and reordering change nothing), and announce ``index.updated``.

The relay hands a consumer a tenant's due events in one transaction. The content and product consumers
collect the ids those events concern and rebuild each once, just before the transaction commits
(`PendingReindex`, collected on the unit of work): the several events of a new node (created, translations,
bodies, published) build its documents once, not once each. A rebuild reads the source as it is now, so
building once at the end writes what the last of several builds would have.

Handlers dispatch on the payload's type (``match event.payload``), the types they subscribe to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from rustok.commerce.events import (
    InventoryUpdated,
    PriceUpdated,
    ProductCreated,
    ProductDeleted,
    ProductPublished,
    ProductUnpublished,
    ProductUpdated,
    VariantCreated,
    VariantDeleted,
    VariantUpdated,
)
from rustok.content import service as content
from rustok.content.events import (
    BodyUpdated,
    CategoryDeleted,
    CategoryUpdated,
    NodeCreated,
    NodeDeleted,
    NodePublished,
    NodeTranslationUpdated,
    NodeUnpublished,
    NodeUpdated,
    TagAttached,
    TagDeleted,
    TagDetached,
    TagUpdated,
)
from rustok.core.events import DomainEvent, Envelope, caused_by
from rustok.core.logging import get_logger
from rustok.core.uow import TransactionWork, UnitOfWork
from rustok.index import metrics, service
from rustok.index.events import ReindexRequested
from rustok.index.repository import Target
from rustok.outbox import Consumer, consumer

log = get_logger("rustok.index")

CONTENT = "index.content"
PRODUCTS = "index.products"
REINDEX = "index.reindex"
REBUILD_BATCH_SIZE = service.BATCH_SIZE  # source ids per delivery of a whole-tenant request

NODE_EVENTS = (
    NodeCreated,
    NodeUpdated,
    NodeTranslationUpdated,
    NodePublished,
    NodeUnpublished,
    NodeDeleted,
    BodyUpdated,
)
TERM_EVENTS = (TagAttached, TagDetached, TagUpdated, TagDeleted, CategoryUpdated, CategoryDeleted)
PRODUCT_EVENTS = (
    ProductCreated,
    ProductUpdated,
    ProductPublished,
    ProductUnpublished,
    ProductDeleted,
    VariantCreated,
    VariantUpdated,
    VariantDeleted,
    PriceUpdated,
    InventoryUpdated,
)


async def _affected_nodes(payload: DomainEvent, uow: UnitOfWork) -> list[uuid.UUID]:
    match payload:
        case (
            TagAttached(target_type="node", target_id=node_id)
            | TagDetached(target_type="node", target_id=node_id)
        ):
            return [node_id]
        case TagAttached() | TagDetached():
            return []
        case TagUpdated(tag_id=tag_id) | TagDeleted(tag_id=tag_id):
            return await content.node_ids_tagged(uow, tag_id)
        case CategoryUpdated(category_id=category_id) | CategoryDeleted(category_id=category_id):
            # A deleted category's nodes were uncategorized, each announced as node.updated.
            return await content.node_ids_in_category(uow, category_id)
        case (
            NodeCreated(node_id=node_id)
            | NodeUpdated(node_id=node_id)
            | NodeTranslationUpdated(node_id=node_id)
            | NodePublished(node_id=node_id)
            | NodeUnpublished(node_id=node_id)
            | NodeDeleted(node_id=node_id)
            | BodyUpdated(node_id=node_id)
        ):
            return [node_id]
    raise TypeError(f"the content index does not handle {type(payload).__name__}")


def _product_of(payload: DomainEvent) -> uuid.UUID:
    match payload:
        case (
            ProductCreated(product_id=product_id)
            | ProductUpdated(product_id=product_id)
            | ProductPublished(product_id=product_id)
            | ProductUnpublished(product_id=product_id)
            | ProductDeleted(product_id=product_id)
            | VariantCreated(product_id=product_id)
            | VariantUpdated(product_id=product_id)
            | VariantDeleted(product_id=product_id)
            | PriceUpdated(product_id=product_id)
            | InventoryUpdated(product_id=product_id)
        ):
            return product_id
    raise TypeError(f"the product index does not handle {type(payload).__name__}")


class PendingReindex(TransactionWork):
    """The documents a delivery's events touched, per target, rebuilt once just before the unit of work
    commits however many of its events concern them. Each id's ``index.updated`` is caused by the last of
    those events."""

    def __init__(self, uow: UnitOfWork) -> None:
        super().__init__(uow)
        self.pending: dict[Target, dict[uuid.UUID, Envelope[Any]]] = {}
        uow.before_commit(self._rebuild)

    def add(self, target: Target, ids: Sequence[uuid.UUID], event: Envelope[Any]) -> None:
        pending = self.pending.setdefault(target, {})
        for owner_id in ids:
            pending[owner_id] = event

    async def _rebuild(self, done: UnitOfWork) -> None:
        for target, pending in self.pending.items():
            by_cause: dict[uuid.UUID, tuple[Envelope[Any], list[uuid.UUID]]] = {}
            for owner_id, cause in pending.items():
                by_cause.setdefault(cause.id, (cause, []))[1].append(owner_id)
            for cause, owner_ids in by_cause.values():
                with caused_by(cause):
                    await service.reindex(done, target, owner_ids)


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


@consumer(CONTENT, *NODE_EVENTS, *TERM_EVENTS)
async def index_content(event: Envelope[Any], uow: UnitOfWork) -> None:
    """Re-build the documents of the nodes the event concerns (at commit)."""
    uow.work(PendingReindex).add("content", await _affected_nodes(event.payload, uow), event)
    _observe_lag_after_commit(uow, CONTENT)


@consumer(PRODUCTS, *PRODUCT_EVENTS)
async def index_products(event: Envelope[Any], uow: UnitOfWork) -> None:
    """Re-build the documents of the product the event concerns (at commit)."""
    uow.work(PendingReindex).add("products", [_product_of(event.payload)], event)
    _observe_lag_after_commit(uow, PRODUCTS)


@consumer(REINDEX, ReindexRequested)
async def reindex_requested(event: Envelope[ReindexRequested], uow: UnitOfWork) -> None:
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
