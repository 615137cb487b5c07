"""The index's SQL: the documents of nodes and products, rebuild checkpoints, and the writers' lock. Every
statement runs in a tenant-scoped session (the tenant is added to each one; see `rustok.core.tenancy`).

Every transaction that writes a read model first takes its writers' lock (`lock_writers`), before it reads
the source: see `rustok.index.service` for why. Writes also take the documents' row locks (``FOR UPDATE``,
reading the latest committed version) before comparing ``source_updated_at``, so a write of an older
source never replaces a newer one. New documents go in as one bulk INSERT: under the writers' lock no
other transaction inserts the same (owner, locale), and should one that skipped the lock do so, the unique
key fails this transaction (a delivery is then retried) rather than leaving two documents."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.core.tenancy import TenantScopeError, scope_of
from rustok.index.documents import Document
from rustok.index.models import ContentDocument, ProductDocument, Rebuild, RebuildStatus

Target = Literal["content", "products"]
Document_ = ContentDocument | ProductDocument

# Namespace (first key) of the index writers' advisory locks on (tenant, read model); the outbox writer's
# trigger uses 7201 and the relay 7202.
WRITERS_LOCK_NAMESPACE = 7203
_LOCK_WRITERS = text("SELECT pg_advisory_xact_lock(:ns, hashtext(:key))")
_LOCKED = "rustok.index_writers_locked"


async def lock_writers(session: AsyncSession, tenant_id: uuid.UUID, target: Target) -> None:
    """Take the writers' lock of the tenant's ``target`` read model until the transaction ends; waits while
    another transaction holds it. Once per session (a unit of work's session is one transaction).

    PostgreSQL: a transaction-scoped advisory lock on (tenant, target). SQLite: nothing to do, a writing
    unit of work began with ``BEGIN IMMEDIATE`` (`rustok.core.db`), so it already holds the database's
    write lock, taken before it read anything."""
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return
    locked: set[tuple[uuid.UUID, str]] = session.info.setdefault(_LOCKED, set())
    if (tenant_id, target) in locked:
        return
    await session.execute(_LOCK_WRITERS, {"ns": WRITERS_LOCK_NAMESPACE, "key": f"{tenant_id}:{target}"})
    locked.add((tenant_id, target))


class DocumentRepository:
    """The documents of one read model, keyed by (owner id, locale)."""

    def __init__(self, session: AsyncSession, model: type[Document_], owner: str) -> None:
        self.session = session
        self.model: Any = model
        self.owner = owner

    @property
    def _owner(self) -> Any:
        return getattr(self.model, self.owner)

    async def of(self, owner_ids: Sequence[uuid.UUID], *, lock: bool = False) -> list[Any]:
        if not owner_ids:
            return []
        statement = (
            select(self.model)
            .where(self._owner.in_(list(owner_ids)))
            .order_by(self._owner, self.model.locale)
        )
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return list((await self.session.scalars(statement)).all())

    async def owners_between(self, after_id: uuid.UUID | None, upto_id: uuid.UUID | None) -> list[uuid.UUID]:
        """Owner ids of documents in (``after_id``, ``upto_id``] (open ends allowed), in order."""
        statement = select(self._owner).distinct().order_by(self._owner)
        if after_id is not None:
            statement = statement.where(self._owner > after_id)
        if upto_id is not None:
            statement = statement.where(self._owner <= upto_id)
        return list((await self.session.scalars(statement)).all())

    async def owners_after(self, after_id: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
        statement = select(self._owner).distinct().order_by(self._owner).limit(limit)
        if after_id is not None:
            statement = statement.where(self._owner > after_id)
        return list((await self.session.scalars(statement)).all())

    async def write(self, built: dict[uuid.UUID, dict[str, Document]], existing: Sequence[Any]) -> int:
        """Bring the documents of the owners in ``built`` to what it holds (per owner, per locale): insert
        the new, update those that differ unless the stored one's ``source_updated_at`` is newer, delete
        those of locales no longer built. ``existing``: the owners' stored documents, read in this
        transaction. One flush: the inserts and the updates go as batches. Returns how many documents
        were written or deleted."""
        stored = {(getattr(row, self.owner), row.locale): row for row in existing}
        scope = scope_of(self.session)
        if scope is None or scope.tenant_id is None:
            raise TenantScopeError("index documents are written in a tenant's unit of work")
        new: list[dict[str, Any]] = []
        changed = 0
        for owner_id, documents in built.items():
            for locale, fields in documents.items():
                row = stored.get((owner_id, locale))
                if row is None:
                    new.append(
                        {"tenant_id": scope.tenant_id, self.owner: owner_id, "locale": locale, **fields}
                    )
                    changed += 1
                elif _replaces(row, fields):
                    for key, value in fields.items():
                        setattr(row, key, value)
                    changed += 1
        stale = [
            row.id for (owner, locale), row in stored.items() if owner in built and locale not in built[owner]
        ]
        if stale:
            await self.session.execute(
                delete(self.model)
                .where(self.model.id.in_(stale))
                .execution_options(synchronize_session="fetch")
            )
            changed += len(stale)
        if new:
            await self.session.execute(insert(self.model), new)
        await self.session.flush()
        return changed

    async def delete_of(self, owner_ids: Sequence[uuid.UUID]) -> int:
        if not owner_ids:
            return 0
        result: Any = await self.session.execute(
            delete(self.model)
            .where(self._owner.in_(list(owner_ids)))
            .execution_options(synchronize_session="fetch")
        )
        return int(result.rowcount or 0)


def _replaces(row: Any, fields: Document) -> bool:
    """Whether ``fields`` should replace the stored document ``row``: they differ, and were not built from
    an older source."""
    if row.source_updated_at > fields["source_updated_at"]:
        return False
    return any(getattr(row, key) != value for key, value in fields.items())


def documents_of(session: AsyncSession, target: Target) -> DocumentRepository:
    if target == "content":
        return DocumentRepository(session, ContentDocument, "node_id")
    return DocumentRepository(session, ProductDocument, "product_id")


class RebuildRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def running(self, target: Target, *, lock: bool = False) -> Rebuild | None:
        """The tenant's running rebuild of ``target`` (the oldest, should there be several)."""
        statement = (
            select(Rebuild)
            .where(Rebuild.target == target, Rebuild.status == RebuildStatus.RUNNING.value)
            .order_by(Rebuild.started_at, Rebuild.id)
            .limit(1)
        )
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return (await self.session.scalars(statement)).first()

    async def continued_by(self, event_id: uuid.UUID, *, lock: bool = False) -> Rebuild | None:
        """The rebuild whose last recorded continuation request is ``event_id``."""
        statement = select(Rebuild).where(Rebuild.continuation_id == event_id)
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return (await self.session.scalars(statement)).first()

    async def get(self, rebuild_id: uuid.UUID, *, lock: bool = False) -> Rebuild | None:
        statement = select(Rebuild).where(Rebuild.id == rebuild_id)
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return (await self.session.scalars(statement)).one_or_none()

    async def add(self, row: Rebuild) -> Rebuild:
        self.session.add(row)
        await self.session.flush()
        return row
