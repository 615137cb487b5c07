"""Where a media item's file is fetched: the one place other modules (the catalog's product images) and the
media routes take its URL from, so that a change of the URL scheme is made here once."""

from __future__ import annotations

import uuid

from rustok.core.request import RequestTenant


def media_file_url(tenant: RequestTenant, media_id: uuid.UUID, filename: str) -> str:
    """The URL of the item's file, relative to the API's origin. Today it is the tenant-resolved
    ``GET /api/media/{id}/file`` (the tenant from the request); ``tenant`` and ``filename`` are what a
    public URL that carries the tenant (``/media/{tenant}/{id}/{filename}``) is made of."""
    del tenant, filename  # not part of today's URL
    return f"/api/media/{media_id}/file"
