"""Media as other modules read it (the catalog's product images, through `rustok.content.service`): which of
some ids are the tenant's media items, with their size, alt text per locale and file URL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from rustok.content.media.repository import MediaRepository, MediaTranslationRepository
from rustok.content.media.urls import media_file_url
from rustok.content.models import Media
from rustok.core.request import RequestTenant
from rustok.core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class MediaSource:
    """A media item as another module shows it: ``alt`` is its alt text by locale (locales without any are
    absent); ``width`` and ``height`` are None for files that are not images."""

    id: uuid.UUID
    filename: str
    mime_type: str
    width: int | None
    height: int | None
    url: str
    alt: dict[str, str]


async def existing_media_ids(uow: UnitOfWork, media_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``media_ids`` that are media items of the unit of work's tenant (one statement)."""
    return await MediaRepository(uow.session).existing_ids(media_ids)


async def media_sources(
    uow: UnitOfWork, tenant: RequestTenant, media_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, MediaSource]:
    """The tenant's media items among ``media_ids``, by id, in two statements whatever their number."""
    if not media_ids:
        return {}
    rows = await MediaRepository(uow.session).list(Media.id.in_(list(media_ids)))
    translations = await MediaTranslationRepository(uow.session).of_many(row.id for row in rows)
    return {
        row.id: MediaSource(
            id=row.id,
            filename=row.filename,
            mime_type=row.mime_type,
            width=row.width,
            height=row.height,
            url=media_file_url(tenant, row.id, row.filename),
            alt={t.locale: t.alt for t in translations.get(row.id, []) if t.alt},
        )
        for row in rows
    }
