"""Where a media item's file is fetched: the one place the media routes and other modules (the catalog's
product images) take its URL from, so that a change of the URL scheme is made here once."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from rustok.core.request import RequestTenant

PUBLIC_PREFIX = "/media"  # tenant-resolved from the path (`rustok.tenants.resolution.tenant_named_in_path`)


def public_url(tenant_slug: str, media_id: uuid.UUID, filename: str) -> str:
    """The public URL of a media item's file, relative to the API's origin: ``/media/{tenant}/{id}/{name}``
    (the name percent-encoded as one path segment). It needs no header, so ``<img src>`` can use it."""
    return f"{PUBLIC_PREFIX}/{tenant_slug}/{media_id}/{quote(filename, safe='')}"


def media_file_url(tenant: RequestTenant, media_id: uuid.UUID, filename: str) -> str:
    """The public URL of the item's file for the request's tenant."""
    return public_url(tenant.slug, media_id, filename)
