"""The media tables' SQL. Every statement runs in the request's tenant-scoped session, so each one is limited
to the tenant's rows without naming it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select

from rustok.content.models import Media, MediaTranslation
from rustok.core.repository import Repository


class MediaRepository(Repository[Media]):
    model = Media
    noun = "media item"


class MediaTranslationRepository(Repository[MediaTranslation]):
    model = MediaTranslation
    noun = "media translation"

    async def of(self, media_id: uuid.UUID) -> Sequence[MediaTranslation]:
        statement = (
            select(MediaTranslation)
            .where(MediaTranslation.media_id == media_id)
            .order_by(MediaTranslation.locale)
        )
        return (await self.session.scalars(statement)).all()

    async def of_many(self, media_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[MediaTranslation]]:
        """The translations of several items in one query, by item (items without any are absent)."""
        ids = list(media_ids)
        found: dict[uuid.UUID, list[MediaTranslation]] = {}
        if not ids:
            return found
        statement = (
            select(MediaTranslation)
            .where(MediaTranslation.media_id.in_(ids))
            .order_by(MediaTranslation.media_id, MediaTranslation.locale)
        )
        for row in await self.session.scalars(statement):
            found.setdefault(row.media_id, []).append(row)
        return found

    async def delete_of(self, media_id: uuid.UUID) -> None:
        """Delete an item's translations (the foreign key cascades too; this keeps the session right)."""
        statement = delete(MediaTranslation).where(MediaTranslation.media_id == media_id)
        await self.session.execute(statement.execution_options(synchronize_session="fetch"))
