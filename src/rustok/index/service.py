"""The index's use cases: bring the documents of some nodes or products up to date with their source,
rebuild a tenant's read model from its source in checkpointed batches, and verify it against the source.

- **From the current state.** A document is always built from what the source is now (see
  `rustok.index.documents`), never from an event's payload, so applying an event twice, late or out of
  order leaves the same documents.
- **One writer at a time, reading after the last one.** Every transaction that writes a tenant's read model
  (a consumer's `reindex`, a rebuild batch, with its dropping of orphans) takes the writers' lock of that
  tenant and read model before it reads the source (`lock_writers`), and keeps it until it commits. So the
  last writer read the source after the previous one committed: a rebuild batch that read a node before a
  live change (a tag attached, a price or stock changed: ``source_updated_at`` does not move) or before
  its deletion cannot write its stale documents over the consumer's, since the one of the two that runs
  second re-reads. Live consumers pay nothing for it (the relay delivers a tenant's events one at a time);
  a rebuild and live deliveries interleave batch by batch.
- **Newer wins.** Besides, a write whose ``source_updated_at`` is older than the stored document's is
  skipped.
- **Rebuilds resume.** Each batch of source ids is written in its own unit of work together with the
  ``Rebuild`` row's checkpoint (the last id done); a rebuild that died resumes after it. Documents whose
  source is gone are dropped along the way (those in each batch's id range), and at the end (those after
  the last source id). `rebuild` runs the batches in a loop (the CLI); ``index.reindex_requested`` runs
  one per delivery (`rustok.index.consumers.reindex_requested`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rustok.commerce import service as catalog
from rustok.content import service as content
from rustok.core import clock
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork, UnitOfWorkFactory
from rustok.index import documents as builder
from rustok.index.events import IndexUpdated, ReindexRequested
from rustok.index.models import Rebuild, RebuildStatus
from rustok.index.repository import RebuildRepository, Target, documents_of, lock_writers

TARGETS: tuple[Target, ...] = ("content", "products")
BATCH_SIZE = 500  # source ids per rebuild batch

Built = dict[uuid.UUID, dict[str, builder.Document]]
Builder = Callable[[UnitOfWork, Sequence[uuid.UUID]], Awaitable[Built]]
IdsAfter = Callable[[UnitOfWork, uuid.UUID | None, int], Awaitable[list[uuid.UUID]]]
Existing = Callable[[UnitOfWork, Sequence[uuid.UUID]], Awaitable[set[uuid.UUID]]]


@dataclass(frozen=True, slots=True)
class Source:
    """How the index reads one read model's source, through the source module's public functions."""

    build: Builder
    ids_after: IdsAfter
    existing: Existing


def source_of(target: Target) -> Source:
    # Looked up at call time (not bound at import), so a test can wrap a builder.
    if target == "content":
        return Source(builder.content_documents, content.node_ids_after, content.existing_node_ids)
    return Source(builder.product_documents, catalog.product_ids_after, catalog.existing_product_ids)


# ------------------------------------------------------------------------------------------------ writing


async def serialize_writers(uow: UnitOfWork, target: Target) -> None:
    """Wait for, then hold until commit, the writers' lock of the tenant's ``target`` read model. Take it
    before reading the source and before locking a ``Rebuild`` row (one order everywhere)."""
    scope = uow.scope
    if scope is None or scope.tenant_id is None:
        raise RuntimeError("the index is written in a tenant's unit of work")
    await lock_writers(uow.session, scope.tenant_id, target)


async def reindex(uow: UnitOfWork, target: Target, ids: Sequence[uuid.UUID], *, announce: bool = True) -> int:
    """Bring the documents of ``ids`` up to date (a source that is gone loses its documents); with
    ``announce``, record ``index.updated`` for each. Returns how many documents were written or deleted."""
    ids = sorted(set(ids))
    if not ids:
        return 0
    await serialize_writers(uow, target)
    source = source_of(target)
    built = await source.build(uow, ids)
    repository = documents_of(uow.session, target)
    existing = await repository.of(ids, lock=True)
    changed = await repository.delete_of([owner_id for owner_id in ids if owner_id not in built])
    changed += await repository.write(built, existing)
    if announce:
        for owner_id in ids:
            uow.record(IndexUpdated(index_name=target, target_id=owner_id))
    return changed


async def _drop_orphans(
    uow: UnitOfWork, target: Target, after: uuid.UUID | None, upto: uuid.UUID | None
) -> int:
    """Delete the documents in the owner range (``after``, ``upto``] whose source no longer exists (checked
    now, so a source created since the batch read its ids keeps its documents)."""
    await serialize_writers(uow, target)
    repository = documents_of(uow.session, target)
    owners = await repository.owners_between(after, upto)
    if not owners:
        return 0
    alive = await source_of(target).existing(uow, owners)
    return await repository.delete_of([o for o in owners if o not in alive])


# ------------------------------------------------------------------------------------------------ rebuild


@dataclass(slots=True)
class RebuildResult:
    tenant_id: uuid.UUID
    target: Target
    rebuild_id: uuid.UUID
    resumed: bool
    processed: int  # source ids walked by this run
    total: int  # by the rebuild, over all its runs

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": str(self.tenant_id),
            "target": self.target,
            "rebuild_id": str(self.rebuild_id),
            "resumed": self.resumed,
            "processed": self.processed,
            "total": self.total,
        }


async def advance(uow: UnitOfWork, row: Rebuild, batch_size: int = BATCH_SIZE) -> bool:
    """Do the next batch of the running rebuild ``row`` (locked) in ``uow``, with its checkpoint and the
    dropping of the orphans in the batch's range; True when the rebuild is done. The caller took the
    writers' lock (`serialize_writers`) before locking ``row``."""
    target: Target = "content" if row.target == "content" else "products"
    await serialize_writers(uow, target)
    ids = await source_of(target).ids_after(uow, row.after_id, batch_size)
    last = len(ids) < batch_size  # the source had no more ids: the batch ends the rebuild
    if ids:
        await reindex(uow, target, ids, announce=False)
    await _drop_orphans(uow, target, row.after_id, None if last else ids[-1])
    row.processed += len(ids)
    row.updated_at = clock.now()
    if ids:
        row.after_id = ids[-1]
    if last:
        row.status = RebuildStatus.DONE.value
        row.finished_at = row.updated_at
    return last


async def rebuild(
    uows: UnitOfWorkFactory, tenant_id: uuid.UUID, target: Target, *, batch_size: int = BATCH_SIZE
) -> RebuildResult:
    """Rebuild the tenant's ``target`` read model from its source: the running rebuild's checkpoint is
    resumed, else a new rebuild starts from the first id. Each batch commits with its checkpoint. Should a
    rebuild driven by ``index.reindex_requested`` finish it meanwhile, this run stops there."""
    scope = TenantScope.of(tenant_id)
    async with uows(scope) as uow:
        await serialize_writers(uow, target)
        rebuilds = RebuildRepository(uow.session)
        row = await rebuilds.running(target, lock=True)
        resumed = row is not None
        if row is None:
            row = await rebuilds.add(Rebuild(target=target, status=RebuildStatus.RUNNING.value, processed=0))
        rebuild_id = row.id
    processed = 0
    while True:
        async with uows(scope) as uow:
            await serialize_writers(uow, target)
            row = await RebuildRepository(uow.session).get(rebuild_id, lock=True)
            if row is None:
                raise RuntimeError(f"rebuild {rebuild_id} is gone")
            if row.status == RebuildStatus.RUNNING.value:
                before = row.processed
                done = await advance(uow, row, batch_size)
                processed += row.processed - before
            else:
                done = True
            if done:
                return RebuildResult(tenant_id, target, rebuild_id, resumed, processed, row.processed)


async def rebuild_requested(
    uow: UnitOfWork, target: Target, request_id: uuid.UUID, *, batch_size: int = BATCH_SIZE
) -> Rebuild | None:
    """Handle a whole-tenant ``index.reindex_requested`` (``request_id``) in ``uow``: one batch of the
    rebuild it drives, and, unless that finished it, a continuation request recorded in the same
    transaction. The rebuild that recorded ``request_id`` is continued (if still running). Another request
    joins the running rebuild of ``target`` that its continuations drive; takes over one that none drives
    (the CLI's, whose run may have died: should it still run, the two advance it batch by batch, each from
    the checkpoint the other left); or else starts one. Returns the rebuild advanced, None when there was
    nothing to do."""
    await serialize_writers(uow, target)
    rebuilds = RebuildRepository(uow.session)
    row = await rebuilds.continued_by(request_id, lock=True)
    if row is None:
        row = await rebuilds.running(target, lock=True)
        if row is not None and row.continuation_id is not None:
            return None  # its continuations will cover this request
        if row is None:
            row = await rebuilds.add(Rebuild(target=target, status=RebuildStatus.RUNNING.value, processed=0))
    elif row.status != RebuildStatus.RUNNING.value:
        return None  # finished meanwhile (by `rebuild`)
    if not await advance(uow, row, batch_size):
        more = ReindexRequested(target_type="content" if target == "content" else "product")
        row.continuation_id = uow.record(more).id
    return row


# ------------------------------------------------------------------------------------------------- verify


@dataclass(slots=True)
class Drift:
    target: Target
    checked: int = 0  # source ids compared
    missing: int = 0  # documents the source has and the index lacks
    extra: int = 0  # documents the index has and the source does not
    different: int = 0  # documents whose stored fields differ from the source's
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.different)

    def note(
        self, kind: str, owner_id: uuid.UUID, locale: str, fields: Sequence[str] = (), limit: int = 10
    ) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples) < limit:
            example: dict[str, Any] = {"problem": kind, "id": str(owner_id), "locale": locale}
            if fields:
                example["fields"] = list(fields)
            self.examples.append(example)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "checked": self.checked,
            "missing": self.missing,
            "extra": self.extra,
            "different": self.different,
            "clean": self.clean,
            "examples": self.examples,
        }


def _fields(target: Target) -> tuple[str, ...]:
    return builder.CONTENT_FIELDS if target == "content" else builder.PRODUCT_FIELDS


async def verify(uow: UnitOfWork, target: Target, *, batch_size: int = 500) -> Drift:
    """Compare every document of the unit of work's tenant with what the source builds now."""
    source = source_of(target)
    repository = documents_of(uow.session, target)
    drift = Drift(target)
    names = _fields(target)
    after: uuid.UUID | None = None
    while True:
        ids = await source.ids_after(uow, after, batch_size)
        upto = ids[-1] if ids else None
        expected = await source.build(uow, ids) if ids else {}
        stored: dict[uuid.UUID, dict[str, Any]] = {}
        for owner_id in await repository.owners_between(after, upto):
            stored.setdefault(owner_id, {})
        for row in await repository.of(list(stored)):
            stored[getattr(row, repository.owner)][row.locale] = row
        drift.checked += len(ids)
        for owner_id in sorted(set(expected) | set(stored)):
            want = expected.get(owner_id, {})
            have = stored.get(owner_id, {})
            for locale in sorted(set(want) | set(have)):
                if locale not in have:
                    drift.note("missing", owner_id, locale)
                elif locale not in want:
                    drift.note("extra", owner_id, locale)
                else:
                    differ = [n for n in names if getattr(have[locale], n) != want[locale][n]]
                    if differ:
                        drift.note("different", owner_id, locale, differ)
        if upto is None:
            return drift
        after = upto
