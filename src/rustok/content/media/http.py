"""The media routes (``/api/media``).

``POST /api/media`` reads its multipart body as it arrives, with python-multipart's push parser: the ``file``
part goes chunk by chunk into storage (the service counts it against ``RUSTOK_MEDIA_MAX_BYTES``), the small
text fields (``alt``, ``title``, ``locale``) are kept, at most 4 KiB each. Nothing is spooled to memory or
to a temporary file first. The route opens its unit of work itself, once the file is stored, so an upload
holds no transaction (on SQLite: no write lock) while the client sends it.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from python_multipart.multipart import parse_options_header
from starlette.responses import StreamingResponse

from rustok.content.media import service
from rustok.content.media.multipart import FILE_FIELD, MultipartUpload, malformed
from rustok.content.media.schemas import MediaDetailOut, MediaOut, MediaTranslationOut
from rustok.content.media.sniff import content_disposition, etag_matches, inline_allowed, served_content_type
from rustok.content.media.storage import LocalMediaStorage, MediaStorage, StoredFileMissing
from rustok.core.deps import ContextDep, PageDep, SettingsDep
from rustok.core.errors import (
    NotFound,
    ProblemError,
    problem_responses,
)
from rustok.core.event_fields import Locale
from rustok.core.logging import get_logger
from rustok.core.pagination import Page
from rustok.core.request import streams_body
from rustok.core.routing import make_router
from rustok.core.security import Principal, requires

router = make_router(prefix="/api/media", tags=["media"])
log = get_logger("rustok.media")

# The multipart envelope and text fields allowed beside the file (as the body limit middleware allows them).
ENVELOPE_BYTES = 64 * 1024
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
# Media is public, but resolved per tenant: no shared cache may keep it; browsers revalidate (ETag).
CACHE_CONTROL = "private, no-cache"

LocaleQuery = Annotated[
    Locale | None, Query(description="Serve alt text and title in this locale (else the tenant's default).")
]


class UnsupportedMediaType(ProblemError):
    status = 415


async def get_storage(settings: SettingsDep) -> MediaStorage:
    """The media storage: the local directory of the settings."""
    return LocalMediaStorage(settings.effective_media_dir)


StorageDep = Annotated[MediaStorage, Depends(get_storage)]


def _fields_of(view: service.MediaView) -> dict[str, Any]:
    media, shown = view.media, view.shown
    return {
        "id": media.id,
        "filename": media.filename,
        "mime_type": media.mime_type,
        "size": media.size,
        "width": media.width,
        "height": media.height,
        "url": f"{router.prefix}/{media.id}/file",
        "locale": shown.locale if shown is not None else None,
        "alt": shown.alt if shown is not None else None,
        "title": shown.title if shown is not None else None,
        "uploaded_by": media.uploaded_by,
        "created_at": media.created_at,
        "updated_at": media.updated_at,
    }


def _out(view: service.MediaView) -> MediaOut:
    return MediaOut(**_fields_of(view))


def _detail_out(view: service.MediaView) -> MediaDetailOut:
    translations = [MediaTranslationOut.model_validate(t) for t in view.translations]
    return MediaDetailOut(**_fields_of(view), translations=translations)


_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [FILE_FIELD],
                "properties": {
                    FILE_FIELD: {"type": "string", "format": "binary"},
                    "alt": {"type": "string", "maxLength": 1000},
                    "title": {"type": "string", "maxLength": 500},
                    "locale": {"type": "string", "description": "Default: the tenant's default locale."},
                },
            }
        }
    },
}


@router.post(
    "",
    status_code=201,
    response_model=MediaDetailOut,
    summary="Upload a file (multipart: `file`, optional `alt`, `title`, `locale`)",
    description="The type is sniffed from the bytes; the client's Content-Type is ignored.",
    responses=problem_responses(400, 401, 403, 413, 415, 422),
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
@streams_body
async def upload_media(
    request: Request,
    ctx: ContextDep,
    _: Annotated[Principal, requires("media:create")],
    storage: StorageDep,
) -> MediaDetailOut:
    """The file streams to storage first; its record is written afterwards in a transaction of its own
    (``separate_uow``), so that a slow upload holds no write lock."""
    content_type, options = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data":
        raise UnsupportedMediaType(
            "An upload is sent as multipart/form-data, with the file in a `file` part."
        )
    boundary = options.get(b"boundary")
    if not boundary:
        raise malformed("The multipart/form-data Content-Type has no boundary.")
    upload = MultipartUpload(
        request.stream(), boundary, max_body=ctx.settings.media_max_bytes + ENVELOPE_BYTES
    )
    await upload.start()
    view = await service.upload_media(ctx, storage, upload)
    return _detail_out(view)


@router.get(
    "",
    response_model=Page[MediaOut],
    summary="The tenant's media, newest first",
    responses=problem_responses(400, 401, 403, 422),
)
async def list_media(
    ctx: ContextDep,
    _: Annotated[Principal, requires("media:list")],
    page: PageDep,
    locale: LocaleQuery = None,
) -> Page[MediaOut]:
    found = await service.list_media(ctx, page, locale=locale)
    return Page(items=[_out(view) for view in found.items], next_cursor=found.next_cursor)


@router.get(
    "/{media_id}",
    response_model=MediaDetailOut,
    summary="One media item, with its alt text and title in every locale",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_media(
    media_id: uuid.UUID,
    ctx: ContextDep,
    _: Annotated[Principal, requires("media:read")],
    locale: LocaleQuery = None,
) -> MediaDetailOut:
    view = await service.get_media(ctx, media_id, locale=locale)
    return _detail_out(view)


@router.get(
    "/{media_id}/file",
    response_class=Response,
    summary="Download the file",
    description="Served with its sniffed type, `nosniff`, a sandboxing CSP and an ETag (`If-None-Match` → "
    "304). Only raster images, audio and video are `inline`; everything else is an `attachment`.",
    responses={
        200: {"description": "The file's bytes", "content": {"application/octet-stream": {}}},
        304: {"description": "Not modified (`If-None-Match` names the current ETag)"},
        **problem_responses(401, 403, 404),
    },
)
async def download_media(
    media_id: uuid.UUID,
    request: Request,
    ctx: ContextDep,
    _: Annotated[Principal, requires("media:read")],
    storage: StorageDep,
) -> Response:
    media = await service.get_media_row(ctx, media_id)
    etag = f'"{media.sha256}"'
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": CACHE_CONTROL})
    try:
        chunks = await storage.open(media.storage_key)
    except StoredFileMissing:
        log.warning("media_file_missing", media_id=str(media.id), storage_key=media.storage_key)
        raise NotFound(f"The file of media item {media.id} is missing.", code="media_file_missing") from None
    headers = {
        **SECURITY_HEADERS,
        "Content-Length": str(media.size),
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
        "Content-Disposition": content_disposition(media.filename, inline=inline_allowed(media.mime_type)),
    }
    return StreamingResponse(chunks, media_type=served_content_type(media.mime_type), headers=headers)


@router.delete(
    "/{media_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a media item and its file",
    responses=problem_responses(401, 403, 404),
)
async def delete_media(
    media_id: uuid.UUID,
    ctx: ContextDep,
    _: Annotated[Principal, requires("media:delete")],
    storage: StorageDep,
) -> Response:
    await service.delete_media(ctx, storage, media_id)
    return Response(status_code=204)
