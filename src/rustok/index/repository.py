"""The index's SQL: the documents of nodes and products, and rebuild checkpoints. Every statement runs in a
tenant-scoped session (the tenant is added to each one; see `rustok.core.tenancy`).

Writes take the documents' row locks (``FOR UPDATE``, reading the latest committed version) before
comparing ``source_updated_at``, so of two writers of one document (a consumer and a rebuild batch) the one
that read the newer source wins whichever commits last. A concurrent first insert of one document is
settled by the unique (owner, locale) key inside a SAVEPOINT: the loser re-reads and compares."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rustok.index.documents import Document
from rustok.index.models import ContentDocument, ProductDocument, Rebuild, RebuildStatus

Target = Literal["content", "products"]
Document_ = ContentDocument | ProductDocument


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

    async def write(self, owner_id: uuid.UUID, documents: dict[str, Document], existing: list[Any]) -> int:
        """Upsert the owner's ``documents`` (per locale), skipping each whose stored ``source_updated_at`` is
        newer, and delete its documents of other locales. ``existing``: its stored documents, locked.
        Returns how many documents were written or deleted."""
        stored = {row.locale: row for row in existing}
        changed = 0
        for locale, fields in documents.items():
            row = stored.get(locale)
            if row is None:
                row = await self._insert(owner_id, locale, fields)
                if row is None:
                    changed += 1
                    continue
            if _newer(row.source_updated_at, fields["source_updated_at"]):
                continue
            for key, value in fields.items():
                setattr(row, key, value)
            changed += 1
        stale = [locale for locale in stored if locale not in documents]
        if stale:
            await self.session.execute(
                delete(self.model)
                .where(self._owner == owner_id, self.model.locale.in_(stale))
                .execution_options(synchronize_session="fetch")
            )
            changed += len(stale)
        await self.session.flush()
        return changed

    async def _insert(self, owner_id: uuid.UUID, locale: str, fields: Document) -> Any:
        """Insert the document; None when done, else the row a concurrent writer inserted first (locked)."""
        row = self.model(**{self.owner: owner_id, "locale": locale, **fields})
        try:
            async with self.session.begin_nested():
                self.session.add(row)
                await self.session.flush()
        except IntegrityError:
            statement = (
                select(self.model)
                .where(self._owner == owner_id, self.model.locale == locale)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            return (await self.session.scalars(statement)).one()
        return None

    async def delete_of(self, owner_ids: Sequence[uuid.UUID]) -> int:
        if not owner_ids:
            return 0
        result: Any = await self.session.execute(
            delete(self.model)
            .where(self._owner.in_(list(owner_ids)))
            .execution_options(synchronize_session="fetch")
        )
        return int(result.rowcount or 0)


def _newer(stored: datetime, incoming: datetime) -> bool:
    return stored > incoming


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

    async def get(self, rebuild_id: uuid.UUID, *, lock: bool = False) -> Rebuild | None:
        statement = select(Rebuild).where(Rebuild.id == rebuild_id)
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return (await self.session.scalars(statement)).one_or_none()

    async def add(self, row: Rebuild) -> Rebuild:
        self.session.add(row)
        await self.session.flush()
        return row
