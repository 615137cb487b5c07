"""Serving stored bytes over HTTP: conditional requests, single byte ranges, ``HEAD``, and the headers that
make a file safe to open and cheap to cache.

One function, `file_response`, answers for an original and for a rendition alike, from what is known of the
object before storage is touched (`Served`: its key, size, ETag, type and name). The body is streamed from
storage, a chunk at a time; nothing is read whole into memory.

Ranges (RFC 9110 §14): one range of ``bytes`` (``a-b``, ``a-``, ``-n``) answers 206 with ``Content-Range``;
a range that starts past the end (or ``-0``) answers 416 with ``Content-Range: bytes */<size>``. A request
for several ranges, a malformed header, another unit, or an ``If-Range`` that does not name the current
ETag is answered with the whole file (200), as RFC 9110 allows a server to: no multipart/byteranges.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from rustok.content.media.sniff import content_disposition, etag_matches, inline_allowed, served_content_type
from rustok.content.media.storage import MediaStorage, StoredFileMissing
from rustok.core.errors import NotFound, ProblemError
from rustok.core.logging import get_logger

log = get_logger("rustok.media")


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
# Safe for every cache to keep for a year: a media id names one upload's bytes forever (a file is never
# replaced under its id; alt text and title are not in the file), and a rendition's URL names the original
# and every parameter it is made from.
CACHE_CONTROL = "public, max-age=31536000, immutable"


class RangeNotSatisfiable(ProblemError):
    status = 416
    code = "range_not_satisfiable"


@dataclass(frozen=True, slots=True)
class Served:
    """What is served: the storage key, the size in bytes, the quoted strong ETag, the type and the name."""

    key: str
    size: int
    etag: str
    mime_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # exclusive

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end - 1}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one byte range ``header`` asks of a file of ``size`` bytes; None to serve the whole file (no
    header, several ranges, another unit, bad syntax, or a range that covers it all). Raises
    `RangeNotSatisfiable` for a range that starts at or past the end."""
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    if not dash or not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
        return None
    if first == "":
        if last == "":
            return None
        length = int(last)
        if length == 0 or size == 0:
            raise _unsatisfiable(size)
        found = ByteRange(max(size - length, 0), size)
    else:
        start = int(first)
        if last != "" and int(last) < start:
            return None  # syntactically invalid (RFC 9110 §14.1.1): ignored
        if start >= size:
            raise _unsatisfiable(size)
        found = ByteRange(start, size if last == "" else min(int(last) + 1, size))
    return None if (found.start, found.end) == (0, size) else found


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"The range starts past the end of the file ({size} bytes).",
        headers={"Content-Range": f"bytes */{size}"},
    )


def _range_applies(request: Request, etag: str) -> bool:
    """``If-Range``: the range holds only while the file is the one the client has (a strong match)."""
    if_range = request.headers.get("if-range")
    return if_range is None or if_range.strip() == etag


async def file_response(
    request: Request, served: Served, storage: MediaStorage, *, not_found: str
) -> Response:
    """The answer to a GET or HEAD of ``served``: 304 when ``If-None-Match`` names its ETag, 206 for one
    satisfiable range, 416 for an unsatisfiable one, else 200, streamed. ``not_found`` names the object in
    the 404 ``media_file_missing`` answered when storage has lost it."""
    headers = {"ETag": served.etag, "Cache-Control": CACHE_CONTROL}
    if etag_matches(request.headers.get("if-none-match"), served.etag):
        return Response(status_code=304, headers=headers)
    byte_range = parse_range(request.headers.get("range"), served.size)
    if byte_range is not None and not _range_applies(request, served.etag):
        byte_range = None
    headers.update(SECURITY_HEADERS)
    headers["Accept-Ranges"] = "bytes"
    headers["Content-Disposition"] = content_disposition(
        served.filename, inline=inline_allowed(served.mime_type)
    )
    status, start, end = 200, 0, served.size
    if byte_range is not None:
        status, start, end = 206, byte_range.start, byte_range.end
        headers["Content-Range"] = byte_range.content_range(served.size)
    headers["Content-Length"] = str(end - start)
    media_type = served_content_type(served.mime_type)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    try:
        chunks = await storage.open(served.key, start=start, end=end)
    except StoredFileMissing:
        log.warning("media_file_missing", storage_key=served.key)
        raise NotFound(f"The file of {not_found} is missing.", code="media_file_missing") from None
    return StreamingResponse(chunks, status_code=status, media_type=media_type, headers=headers)
