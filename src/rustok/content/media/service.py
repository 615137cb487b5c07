"""Media use cases: upload (streamed to storage, sniffed, then recorded), list, read, change alt text and
title, serve (the original and its renditions) and delete.

An upload writes its file before its row: the bytes stream into storage (counted against the limit, hashed,
their head kept for sniffing) with no transaction open, so a slow client holds no database lock; only then
does a unit of work check the locale and insert the row, its translation and ``media.uploaded``. Whatever
fails after the file was written (the sniff, the fields, the locale, the commit) removes the file, so no file
outlives a failed upload. A delete removes the row in the request's unit of work and the file once that has
committed (``after_commit``), its renditions with it: a rolled-back delete keeps its files.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import anyio
from pydantic import ValidationError

from rustok.content.events import MediaDeleted, MediaUpdated, MediaUploaded
from rustok.content.media.repository import MediaRepository, MediaTranslationRepository
from rustok.content.media.schemas import MediaUpdate, MediaUploadFields
from rustok.content.media.sniff import HEAD_BYTES, TAIL_BYTES, ImageTooLarge, safe_filename, sniff
from rustok.content.media.storage import MediaStorage, media_key, rendition_prefix
from rustok.content.models import Media, MediaTranslation
from rustok.content.permissions import MEDIA
from rustok.core import clock
from rustok.core.deps import RequestContext
from rustok.core.errors import NotFound, PayloadTooLarge, Unprocessable, field_errors
from rustok.core.ids import new_id
from rustok.core.logging import get_logger
from rustok.core.pagination import PageParams, Slice
from rustok.core.permissions import Action, Permission
from rustok.core.translations import pick_locale
from rustok.core.uow import UnitOfWork
from rustok.tenants.service import tenant_locales

log = get_logger("rustok.media")


class UploadSource(Protocol):
    """An upload as the transport delivers it: the file's name as the client gave it, its bytes, and the text
    fields beside it, which are complete once ``chunks()`` is exhausted."""

    @property
    def filename(self) -> str | None: ...

    def chunks(self) -> AsyncIterator[bytes]: ...

    @property
    def fields(self) -> Mapping[str, str]: ...


@dataclass(frozen=True, slots=True)
class MediaView:
    """A media item with its translations, and the one a read serves (None when it has none)."""

    media: Media
    translations: Sequence[MediaTranslation]
    shown: MediaTranslation | None


class _Intake:
    """Passes an upload's chunks through to storage, counting them against the limit, hashing them, and
    keeping the first `HEAD_BYTES` and last `TAIL_BYTES` for sniffing (never the whole file)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.sha256 = hashlib.sha256()
        self.head = bytearray()
        self.tail = b""

    async def through(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            self.size += len(chunk)
            if self.size > self.max_bytes:
                raise PayloadTooLarge(
                    f"The file is larger than the {self.max_bytes} bytes this server accepts."
                )
            self.sha256.update(chunk)
            if len(self.head) < HEAD_BYTES:
                self.head += chunk[: HEAD_BYTES - len(self.head)]
            self.tail = chunk[-TAIL_BYTES:] if len(chunk) >= TAIL_BYTES else (self.tail + chunk)[-TAIL_BYTES:]
            yield chunk


def _file_error(detail: str, *, code: str, type_: str) -> Unprocessable:
    return Unprocessable(detail, code=code, errors=[{"loc": ["body", "file"], "msg": detail, "type": type_}])


def _fields(raw: Mapping[str, str]) -> MediaUploadFields:
    try:
        return MediaUploadFields.model_validate(dict(raw))
    except ValidationError as exc:
        errors = [{**error, "loc": ["body", *error["loc"]]} for error in field_errors(exc.errors())]
        raise Unprocessable(
            "The upload's fields did not pass validation; see `errors`.",
            code="validation_error",
            errors=errors,
        ) from exc


async def upload_media(ctx: RequestContext, storage: MediaStorage, source: UploadSource) -> MediaView:
    """Store an upload and record it, by the caller. The record is written in a unit of work of its own
    (``ctx.separate_uow``), opened only once the file is stored, so that a slow upload holds no write lock.
    413 past ``RUSTOK_MEDIA_MAX_BYTES``; 422 for an empty file, an image too large to decode, an invalid
    field or a locale the tenant has not enabled."""
    ctx.authorize(Permission(MEDIA, Action.CREATE))
    media_id = new_id()
    key = media_key(ctx.tenant_id, media_id)
    intake = _Intake(ctx.settings.media_max_bytes)
    await storage.write(key, intake.through(source.chunks()))
    try:
        if intake.size == 0:
            raise _file_error("The file is empty.", code="validation_error", type_="empty_file")
        try:
            sniffed = sniff(bytes(intake.head), size=intake.size, tail=intake.tail)
        except ImageTooLarge as exc:
            raise _file_error(
                "The image has more pixels than this server accepts.",
                code="image_too_large",
                type_="image_too_large",
            ) from exc
        fields = _fields(source.fields)
        async with ctx.separate_uow() as uow:
            locales = await tenant_locales(uow)
            locale = locales.require(fields.locale or locales.default)
            media = await MediaRepository(uow.session).add(
                Media(
                    id=media_id,
                    filename=safe_filename(source.filename),
                    mime_type=sniffed.mime_type,
                    size=intake.size,
                    width=sniffed.width,
                    height=sniffed.height,
                    storage_key=key,
                    sha256=intake.sha256.hexdigest(),
                    uploaded_by=ctx.principal.user_id,
                )
            )
            translations: list[MediaTranslation] = []
            if fields.alt is not None or fields.title is not None:
                translation = MediaTranslation(
                    media_id=media.id, locale=locale, alt=fields.alt, title=fields.title
                )
                translations.append(await MediaTranslationRepository(uow.session).add(translation))
            uow.record(MediaUploaded(media_id=media.id, mime_type=media.mime_type, size=media.size))
    except BaseException:
        with anyio.CancelScope(shield=True):
            await _remove_file(storage, key)
        raise
    return MediaView(media, translations, translations[0] if translations else None)


async def _remove_file(storage: MediaStorage, key: str) -> None:
    try:
        await storage.delete(key)
    except Exception:
        # The row is gone (or was never written): a file left behind wastes space and harms nothing.
        log.exception("media_file_not_removed", storage_key=key)


def _view(
    media: Media, translations: Sequence[MediaTranslation], locale: str | None, default: str
) -> MediaView:
    chosen = pick_locale((t.locale for t in translations), locale, default)
    shown = next((t for t in translations if t.locale == chosen), None)
    return MediaView(media, translations, shown)


async def list_media(ctx: RequestContext, params: PageParams, *, locale: str | None) -> Slice[MediaView]:
    """The tenant's media, newest first, each with its alt text and title in ``locale`` (else the default)."""
    ctx.authorize(Permission(MEDIA, Action.LIST))
    session = ctx.uow.session
    page = await MediaRepository(session).page(params, descending=True)
    translations = await MediaTranslationRepository(session).of_many(m.id for m in page.items)
    views = [_view(m, translations.get(m.id, []), locale, ctx.default_locale) for m in page.items]
    return Slice(views, page.next_cursor)


async def get_media(ctx: RequestContext, media_id: uuid.UUID, *, locale: str | None) -> MediaView:
    ctx.authorize(Permission(MEDIA, Action.READ))
    media = await MediaRepository(ctx.uow.session).get_or_404(media_id)
    translations = await MediaTranslationRepository(ctx.uow.session).of(media.id)
    return _view(media, translations, locale, ctx.default_locale)


async def get_media_row(ctx: RequestContext, media_id: uuid.UUID, *, filename: str | None = None) -> Media:
    """The item whose file is to be served (a 404 for another tenant's id, as for an unknown one). Given
    the ``filename`` of a public URL, a name that is not the item's is a 404 too: an item has one URL."""
    ctx.authorize(Permission(MEDIA, Action.READ))
    media = await MediaRepository(ctx.uow.session).get_or_404(media_id)
    if filename is not None and filename != media.filename:
        raise NotFound(f"Media item {media_id} has no file named {filename!r}.", code="not_found")
    return media


async def update_media(ctx: RequestContext, media_id: uuid.UUID, data: MediaUpdate) -> MediaView:
    """Upsert alt text and title per locale (each locale enabled: else 422 ``locale_not_enabled``) and
    record ``media.updated`` with the locales that changed; nothing changed records nothing."""
    ctx.authorize(Permission(MEDIA, Action.UPDATE))
    uow = ctx.uow
    media = await MediaRepository(uow.session).get_or_404(media_id)
    locales = await tenant_locales(uow)
    locales.require_all((t.locale for t in data.translations), field="translations")
    repository = MediaTranslationRepository(uow.session)
    existing = {t.locale: t for t in await repository.of(media.id)}
    changed: list[str] = []
    for given in data.translations:
        row = existing.get(given.locale)
        if row is None:
            row = MediaTranslation(media_id=media.id, locale=given.locale, alt=None, title=None)
            existing[given.locale] = await repository.add(row)
            changed.append(given.locale)
        before = (row.alt, row.title)
        if "alt" in given.model_fields_set:
            row.alt = given.alt
        if "title" in given.model_fields_set:
            row.title = given.title
        if (row.alt, row.title) != before and given.locale not in changed:
            changed.append(given.locale)
    if changed:
        media.updated_at = clock.now()
        await uow.session.flush()
        uow.record(MediaUpdated(media_id=media.id, locales=changed))
    translations = sorted(existing.values(), key=lambda t: t.locale)
    return _view(media, translations, None, ctx.default_locale)


async def delete_media(ctx: RequestContext, storage: MediaStorage, media_id: uuid.UUID) -> None:
    ctx.authorize(Permission(MEDIA, Action.DELETE))
    uow = ctx.uow
    media = await MediaRepository(uow.session).get_or_404(media_id)
    await MediaTranslationRepository(uow.session).delete_of(media.id)
    await MediaRepository(uow.session).delete(media)
    uow.record(MediaDeleted(media_id=media.id))
    key = media.storage_key
    renditions = rendition_prefix(media.tenant_id, media.id)

    async def remove_file(_: UnitOfWork) -> None:
        await _remove_file(storage, key)
        try:
            await storage.delete_prefix(renditions)
        except Exception:
            log.exception("media_renditions_not_removed", storage_prefix=renditions)

    uow.after_commit(remove_file)
