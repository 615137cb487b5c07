"""The index's use cases: bring the documents of some nodes or products up to date with their source,
rebuild a tenant's read model from its source in checkpointed batches, and verify it against the source.

- **From the current state.** A document is always built from what the source is now (see
  `rustok.index.documents`), never from an event's payload, so applying an event twice, late or out of
  order leaves the same documents.
- **Newer wins.** A write whose ``source_updated_at`` is older than the stored document's is skipped, so a
  rebuild batch that read the source before a live event changed it does not undo the event's update.
- **Rebuilds resume.** Each batch of source ids is written in its own unit of work together with the
  ``Rebuild`` row's checkpoint (the last id done); a rebuild that died resumes after it. Documents whose
  source is gone are dropped along the way (those in each batch's id range), and at the end (those after
  the last source id).
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
from rustok.core.uow import SessionFactory, UnitOfWork
from rustok.index import documents as builder
from rustok.index.events import IndexUpdated
from rustok.index.models import Rebuild, RebuildStatus
from rustok.index.repository import RebuildRepository, Target, documents_of

TARGETS: tuple[Target, ...] = ("content", "products")

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


async def reindex(uow: UnitOfWork, target: Target, ids: Sequence[uuid.UUID], *, announce: bool = True) -> int:
    """Bring the documents of ``ids`` up to date (a source that is gone loses its documents); with
    ``announce``, record ``index.updated`` for each. Returns how many documents were written or deleted."""
    ids = sorted(set(ids))
    if not ids:
        return 0
    source = source_of(target)
    built = await source.build(uow, ids)
    repository = documents_of(uow.session, target)
    existing: dict[uuid.UUID, list[Any]] = {}
    for row in await repository.of(ids, lock=True):
        existing.setdefault(getattr(row, repository.owner), []).append(row)
    changed = 0
    gone = [owner_id for owner_id in ids if owner_id not in built]
    changed += await repository.delete_of(gone)
    for owner_id, documents in built.items():
        changed += await repository.write(owner_id, documents, existing.get(owner_id, []))
    if announce:
        for owner_id in ids:
            uow.record(IndexUpdated(index_name=target, target_id=owner_id))
    return changed


async def reindex_all_within(uow: UnitOfWork, target: Target, *, batch_size: int = 500) -> int:
    """Bring every document of the tenant's ``target`` up to date inside ``uow`` (one transaction), and
    drop the documents whose source is gone; the number of source ids walked."""
    source = source_of(target)
    walked = 0
    after: uuid.UUID | None = None
    while True:
        ids = await source.ids_after(uow, after, batch_size)
        if not ids:
            break
        await reindex(uow, target, ids, announce=False)
        await _drop_orphans(uow, target, after, ids[-1])
        walked += len(ids)
        after = ids[-1]
    await _drop_orphans(uow, target, after, None)
    return walked


async def _drop_orphans(
    uow: UnitOfWork, target: Target, after: uuid.UUID | None, upto: uuid.UUID | None
) -> int:
    """Delete the documents in the owner range (``after``, ``upto``] whose source no longer exists (checked
    now, so a source created since the batch read its ids keeps its documents)."""
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


async def rebuild(
    session_factory: SessionFactory, tenant_id: uuid.UUID, target: Target, *, batch_size: int = 500
) -> RebuildResult:
    """Rebuild the tenant's ``target`` read model from its source: the running rebuild's checkpoint is
    resumed, else a new rebuild starts from the first id. Each batch commits with its checkpoint."""
    scope = TenantScope.of(tenant_id)
    async with UnitOfWork(session_factory, scope) as uow:
        rebuilds = RebuildRepository(uow.session)
        row = await rebuilds.running(target, lock=True)
        resumed = row is not None
        if row is None:
            row = await rebuilds.add(Rebuild(target=target, status=RebuildStatus.RUNNING.value, processed=0))
        rebuild_id = row.id
    processed = 0
    while True:
        async with UnitOfWork(session_factory, scope) as uow:
            row = await RebuildRepository(uow.session).get(rebuild_id, lock=True)
            if row is None or row.status != RebuildStatus.RUNNING.value:
                raise RuntimeError(f"rebuild {rebuild_id} is no longer running")
            source = source_of(target)
            ids = await source.ids_after(uow, row.after_id, batch_size)
            if not ids:
                await _drop_orphans(uow, target, row.after_id, None)
                row.status = RebuildStatus.DONE.value
                row.finished_at = clock.now()
                return RebuildResult(tenant_id, target, rebuild_id, resumed, processed, row.processed)
            await reindex(uow, target, ids, announce=False)
            await _drop_orphans(uow, target, row.after_id, ids[-1])
            row.after_id = ids[-1]
            row.processed += len(ids)
            row.updated_at = clock.now()
            processed += len(ids)


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
