"""The media routes: the API (``/api/media``) and the public file URLs (``/media/{tenant}/{id}/{filename}``).

``POST /api/media`` reads its multipart body as it arrives, with python-multipart's push parser: the ``file``
part goes chunk by chunk into storage (the service counts it against ``RUSTOK_MEDIA_MAX_BYTES``), the small
text fields (``alt``, ``title``, ``locale``) are kept, at most 4 KiB each. Nothing is spooled to memory or
to a temporary file first. The route opens its unit of work itself, once the file is stored, so an upload
holds no transaction (on SQLite: no write lock) while the client sends it.

The public URL carries its tenant in its path (resolved by the tenants module from there, not from a header
or the host), so a plain ``<img src>`` works; it serves the original or, with ``?w=&h=&fit=&format=``, a
rendition (`rustok.content.media.renditions`), with the headers of `rustok.content.media.serving`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Response
from python_multipart.multipart import parse_options_header

from rustok.content.media import service
from rustok.content.media.multipart import FILE_FIELD, MultipartUpload, malformed
from rustok.content.media.renditions import (
    MIME_TYPES,
    Fit,
    Format,
    ensure_rendition,
    rendition_etag,
    rendition_filename,
    rendition_key,
    rendition_spec,
)
from rustok.content.media.schemas import MediaDetailOut, MediaOut, MediaTranslationOut, MediaUpdate
from rustok.content.media.serving import Served, file_response
from rustok.content.media.storage import MediaStorage
from rustok.content.media.urls import PUBLIC_PREFIX, public_url
from rustok.content.models import Media
from rustok.core.deps import ContextDep, PageDep
from rustok.core.errors import ProblemError, problem_responses
from rustok.core.event_fields import Locale
from rustok.core.pagination import Page
from rustok.core.request import streams_body
from rustok.core.routing import make_router
from rustok.core.security import Principal, requires

router = make_router()
api = make_router(prefix="/api/media", tags=["media"])
public = make_router(prefix=PUBLIC_PREFIX, tags=["media"])

# The multipart envelope and text fields allowed beside the file (as the body limit middleware allows them).
ENVELOPE_BYTES = 64 * 1024

LocaleQuery = Annotated[
    Locale | None, Query(description="Serve alt text and title in this locale (else the tenant's default).")
]


class UnsupportedMediaType(ProblemError):
    status = 415


async def get_storage(request: Request) -> MediaStorage:
    """The media storage the composition root built (`rustok.bootstrap.Runtime.media_storage`)."""
    storage: MediaStorage = request.app.state.runtime.media_storage
    return storage


StorageDep = Annotated[MediaStorage, Depends(get_storage)]


def _fields_of(view: service.MediaView, tenant_slug: str) -> dict[str, Any]:
    media, shown = view.media, view.shown
    return {
        "id": media.id,
        "filename": media.filename,
        "mime_type": media.mime_type,
        "size": media.size,
        "width": media.width,
        "height": media.height,
        "url": public_url(tenant_slug, media.id, media.filename),
        "locale": shown.locale if shown is not None else None,
        "alt": shown.alt if shown is not None else None,
        "title": shown.title if shown is not None else None,
        "uploaded_by": media.uploaded_by,
        "created_at": media.created_at,
        "updated_at": media.updated_at,
    }


def _out(view: service.MediaView, tenant_slug: str) -> MediaOut:
    return MediaOut(**_fields_of(view, tenant_slug))


def _detail_out(view: service.MediaView, tenant_slug: str) -> MediaDetailOut:
    translations = [MediaTranslationOut.model_validate(t) for t in view.translations]
    return MediaDetailOut(**_fields_of(view, tenant_slug), translations=translations)


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


@api.post(
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
    return _detail_out(view, ctx.tenant.slug)


@api.get(
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
    return Page(items=[_out(view, ctx.tenant.slug) for view in found.items], next_cursor=found.next_cursor)


@api.get(
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
    return _detail_out(view, ctx.tenant.slug)


_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file's bytes", "content": {"application/octet-stream": {}}},
    206: {"description": "One byte range of the file (`Range`), with `Content-Range`"},
    304: {"description": "Not modified (`If-None-Match` names the current ETag)"},
}
_FILE_HEADERS = (
    "Served with its sniffed type, `nosniff`, a sandboxing CSP, a strong ETag (`If-None-Match` → 304), "
    "`Cache-Control: public, max-age=31536000, immutable` and `Accept-Ranges: bytes` (one range → 206, "
    "past the end → 416; several ranges → the whole file). Only raster images, audio and video are "
    "`inline`; everything else is an `attachment`. `HEAD` answers the headers alone."
)


def _original(media: Media) -> Served:
    return Served(media.storage_key, media.size, f'"{media.sha256}"', media.mime_type, media.filename)


_DOWNLOAD: dict[str, Any] = {
    "response_class": Response,
    "summary": "Download the file (tenant-resolved; the item's `url` needs no header)",
    "description": _FILE_HEADERS,
    "responses": {**_FILE_RESPONSES, **problem_responses(401, 403, 404, 416, 422)},
}


# GET and HEAD as two routes of one endpoint: each has an operation id of its own in the OpenAPI document.
@api.get("/{media_id}/file", **_DOWNLOAD)
@api.head("/{media_id}/file", **_DOWNLOAD)
async def download_media(
    media_id: uuid.UUID,
    request: Request,
    ctx: ContextDep,
    _: Annotated[Principal, requires("media:read")],
    storage: StorageDep,
) -> Response:
    media = await service.get_media_row(ctx, media_id)
    return await file_response(request, _original(media), storage, not_found=f"media item {media.id}")


_PUBLIC_FILE: dict[str, Any] = {
    "response_class": Response,
    "summary": "The public file URL, or a rendition of an image",
    "description": _FILE_HEADERS
    + " The tenant is the path's (a slug or an id), so no header is needed: this is the URL for `<img "
    "src>`. A filename that is not the item's is a 404. With any of `w`, `h`, `fit`, `format`, a rendition "
    "of a still raster image is served instead (sizes from the allow-list; never upscaled), made once and "
    "kept in storage.",
    "responses": {**_FILE_RESPONSES, **problem_responses(401, 403, 404, 416, 422)},
}


@public.get("/{tenant}/{media_id}/{filename}", **_PUBLIC_FILE)
@public.head("/{tenant}/{media_id}/{filename}", **_PUBLIC_FILE)
async def public_media_file(
    tenant: Annotated[str, Path(description="The tenant's slug or id.")],
    media_id: uuid.UUID,
    filename: str,
    request: Request,
    ctx: ContextDep,
    _: Annotated[Principal, requires("media:read")],
    storage: StorageDep,
    w: Annotated[int | None, Query(ge=1, le=8192, description="Width (an allowed one).")] = None,
    h: Annotated[int | None, Query(ge=1, le=8192, description="Height (an allowed one).")] = None,
    fit: Annotated[Fit | None, Query(description="Default: inside. cover and contain need w and h.")] = None,
    image_format: Annotated[
        Format | None, Query(alias="format", description="Default: the original's (PNG for others).")
    ] = None,
) -> Response:
    del tenant  # resolved from the path by the tenant middleware
    media = await service.get_media_row(ctx, media_id, filename=filename)
    spec = rendition_spec(ctx.settings, media, width=w, height=h, fit=fit, image_format=image_format)
    if spec is None:
        served = _original(media)
    else:
        size = await ensure_rendition(storage, media, spec)
        served = Served(
            rendition_key(media, spec),
            size,
            rendition_etag(media, spec),
            MIME_TYPES[spec.format],
            rendition_filename(media, spec),
        )
    return await file_response(request, served, storage, not_found=f"media item {media.id}")


@api.patch(
    "/{media_id}",
    response_model=MediaDetailOut,
    summary="Change alt text and title, per locale",
    description="`translations` are upserted per locale (a locale not named stays as it is; a field left "
    "out keeps its value). Each locale must be enabled (422 `locale_not_enabled`).",
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def update_media(
    media_id: uuid.UUID,
    body: MediaUpdate,
    ctx: ContextDep,
    _: Annotated[Principal, requires("media:update")],
) -> MediaDetailOut:
    view = await service.update_media(ctx, media_id, body)
    return _detail_out(view, ctx.tenant.slug)


@api.delete(
    "/{media_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a media item, its file and its renditions",
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


router.include_router(api)
router.include_router(public)
