"""Media for tests: small valid images made with Pillow, and uploads through the real API::

headers = await login_as(client, app, tenant_id, "manager")
media = await upload_media(client, headers, alt="A red pixel")
response = await client.get(media["url"], headers=headers)
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import httpx
from PIL import Image


def image_bytes(
    width: int = 2, height: int = 1, *, image_format: str = "PNG", color: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    """A valid image of that size in a Pillow format (``PNG``, ``JPEG``, ``GIF``, ``WEBP``, ...)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format=image_format)
    return out.getvalue()


PNG_BYTES = image_bytes()
"""A PNG of 2 by 1 pixels."""


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(width: int, height: int) -> bytes:
    """The start of a PNG that claims ``width`` by ``height`` pixels: enough for Pillow to read its size, a
    few dozen bytes whatever the size (a decompression bomb, when large)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b""))


async def post_media(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    content: bytes = PNG_BYTES,
    filename: str = "pixel.png",
    content_type: str = "image/png",
    alt: str | None = None,
    title: str | None = None,
    locale: str | None = None,
) -> httpx.Response:
    """``POST /api/media`` with ``content`` as the ``file`` part (``content_type`` is what the client claims;
    the server ignores it) and the text fields that are not None; the response, whatever it is."""
    fields = {
        name: value
        for name, value in (("alt", alt), ("title", title), ("locale", locale))
        if value is not None
    }
    files: dict[str, Any] = {"file": (filename, content, content_type)}
    files.update({name: (None, value) for name, value in fields.items()})
    return await client.post("/api/media", files=files, headers=headers)


async def upload_media(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    content: bytes = PNG_BYTES,
    filename: str = "pixel.png",
    content_type: str = "image/png",
    alt: str | None = None,
    title: str | None = None,
    locale: str | None = None,
) -> dict[str, Any]:
    """Upload a file through the API (as `post_media`), assert the 201, and return the media item's JSON."""
    response = await post_media(
        client,
        headers,
        content=content,
        filename=filename,
        content_type=content_type,
        alt=alt,
        title=title,
        locale=locale,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
