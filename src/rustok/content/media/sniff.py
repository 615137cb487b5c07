"""What an uploaded file is, judged from its bytes alone, and how it may be served.

The client's Content-Type and filename are never asked. `sniff` looks at the first bytes of a file (and its
last ones, for the signatures that sit at the end):

1. Content that is UTF-8 text (no byte that never occurs in text, such as NUL) is classified as text, whatever
   signature it happens to start with: markup with an ``<svg`` root is ``image/svg+xml``; anything that
   carries an HTML tag a browser would act on (``<script``, ``<html``, ``<iframe``, ``<b>``, ...) is
   ``text/html``; the rest (XML, JSON, Markdown, CSV) is ``text/plain``.
2. Other content goes to puremagic. A raster image type Pillow knows (PNG, JPEG, GIF, WebP, BMP, TIFF, ICO,
   AVIF) must then open in Pillow, restricted to that format, which checks its header and gives the width
   and height; a complete file (all of it in the head) is also ``verify()``-ed. Pixels are never decoded. An
   image that fails is not an image; other puremagic types are taken as they are, except textual ones (the
   bytes are not UTF-8 text: UTF-16, say); nothing left is ``application/octet-stream``.

Images larger than Pillow's decompression-bomb limit (``Image.MAX_IMAGE_PIXELS``, about 89 megapixels) are
refused with `ImageTooLarge`: no browser should be handed one to decode. Pillow's warning for them is caught
here, so it neither reaches the log nor, under pytest's ``filterwarnings = error``, fails a test.

The serving rules live here too, since they follow from the type: `inline_allowed` (only types a browser
renders without running anything), `content_disposition` (RFC 6266 / 5987) and `safe_filename`.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

import puremagic
from PIL import Image

HEAD_BYTES = 256 * 1024
"""How much of the start of a file is kept for sniffing (at least puremagic's longest header signature)."""
TAIL_BYTES: int = puremagic.main.max_foot
"""How much of the end of a file is kept for puremagic's trailer signatures."""

OCTET_STREAM = "application/octet-stream"

# Raster formats Pillow verifies, by the MIME types puremagic names them with.
_PILLOW_FORMATS: dict[str, str] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/bmp": "BMP",
    "image/x-ms-bmp": "BMP",
    "image/tiff": "TIFF",
    "image/x-icon": "ICO",
    "image/vnd.microsoft.icon": "ICO",
    "image/avif": "AVIF",
}
# Pillow's name for a type, where it differs from the one served (a multi-picture JPEG is a JPEG).
_FORMAT_MIME = {"MPO": "image/jpeg"}
# When puremagic ranks several types equally, the generic container is the honest answer.
_GENERIC = ("application/zip",)

# Bytes that never occur in text (WHATWG MIME Sniffing, "binary data byte").
_BINARY_BYTE = re.compile("[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
_UTF8_BOM = codecs.BOM_UTF8
_SVG_START = re.compile(r"<svg[\s/>]", re.I)
_HTML_TAG = re.compile(
    r"<(?:!doctype\s+html|html|head|body|script|iframe|frame|frameset|object|embed|applet|style|link|meta"
    r"|base|form|input|button|img|image|video|audio|svg|math|template|title|div|span|table|a|p|b|i|u|br"
    r"|h[1-6]|font|center)(?=[\s/>])|<!--",
    re.I,
)
_HTML_ROOT = re.compile(r"<(?:!doctype\s+html|html|head|body)(?=[\s/>])", re.I)


class ImageTooLarge(ValueError):
    """An image with more pixels than Pillow's decompression-bomb limit."""


@dataclass(frozen=True, slots=True)
class Sniffed:
    mime_type: str
    width: int | None = None
    height: int | None = None


def sniff(head: bytes, *, size: int | None = None, tail: bytes = b"") -> Sniffed:
    """The type of a file from its first bytes ``head`` (up to `HEAD_BYTES`) and, when the file is longer than
    the head, its last bytes ``tail`` (up to `TAIL_BYTES`). ``size`` is the file's full length (default: the
    head is the whole file). Raises `ImageTooLarge` for a decompression bomb."""
    complete = size is None or size <= len(head)
    text = _as_text(head, complete=complete)
    if text is not None:
        return Sniffed(_text_type(text))
    probe = head if complete else head[: puremagic.main.max_head] + tail[-TAIL_BYTES:]
    candidates = _candidates(probe)
    for mime in candidates:
        image_format = _PILLOW_FORMATS.get(mime)
        if image_format is not None:
            image = _open_image(head, image_format, complete=complete)
            if image is not None:
                return image
    # A text type for bytes that are not UTF-8 text (UTF-16, say) would be served as the wrong text.
    others = [mime for mime in candidates if mime not in _PILLOW_FORMATS and not _is_textual(mime)]
    return Sniffed(others[0] if others else OCTET_STREAM)


def _is_textual(mime: str) -> bool:
    return mime.startswith("text/") or mime.endswith(("xml", "json", "html", "javascript", "ecmascript"))


def _as_text(data: bytes, *, complete: bool) -> str | None:
    """``data`` as text when it is UTF-8 with no binary byte; a sequence cut by the end of an incomplete
    head is not held against it."""
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    try:
        text = codecs.getincrementaldecoder("utf-8")("strict").decode(data, final=complete)
    except UnicodeDecodeError:
        return None
    return None if _BINARY_BYTE.search(text) else text


def _text_type(text: str) -> str:
    if _SVG_START.match(text, _root_start(text)) and not _HTML_ROOT.search(text):
        return "image/svg+xml"
    if _HTML_TAG.search(text):
        return "text/html"
    return "text/plain"


def _root_start(text: str) -> int:
    """Where the first element of a markup document starts: after whitespace, the XML declaration,
    processing instructions, comments and a doctype (a plain scan: no regex to backtrack on hostile input)."""
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        for opener, closer in (("<?", "?>"), ("<!--", "-->"), ("<!", ">")):
            if text.startswith(opener, at):
                end = text.find(closer, at + len(opener))
                if end < 0:
                    return len(text)
                at = end + len(closer)
                break
        else:
            return at


def _candidates(probe: bytes) -> list[str]:
    """puremagic's MIME types for ``probe``, best first, without blanks or repeats."""
    if not probe:
        return []
    try:
        matches = puremagic.magic_string(probe)
    except (puremagic.PureError, ValueError):
        return []
    ranked = [m for m in matches if m.mime_type]
    if not ranked:
        return []
    top = {m.mime_type for m in ranked if m.confidence == ranked[0].confidence}
    preferred = [mime for mime in _GENERIC if mime in top] if len(top) > 1 else []
    return list(dict.fromkeys([*preferred, *(m.mime_type for m in ranked)]))


def _open_image(head: bytes, image_format: str, *, complete: bool) -> Sniffed | None:
    """The image in ``head`` when Pillow accepts it as ``image_format``; None when it does not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's remarks on odd metadata say nothing about the type
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(head), formats=[image_format]) as image:
                width, height = image.size
                found = image.format or image_format
                if complete:
                    image.verify()
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise ImageTooLarge(str(exc)) from exc
        except Exception:  # Pillow raises many types (OSError, SyntaxError, struct.error, ...) on bad data
            return None
    mime = _FORMAT_MIME.get(found) or Image.MIME.get(found) or OCTET_STREAM
    return Sniffed(mime, width=width, height=height)


# ------------------------------------------------------------------------------------------ serving rules

INLINE_TYPES = frozenset(
    {
        # Raster images: a browser decodes them and runs nothing.
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        # Audio and video play in the browser's media player.
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/wave",
        "audio/x-wav",
        "audio/flac",
        "audio/webm",
        "video/mp4",
        "video/webm",
        "video/ogg",
    }
)
"""Types served ``inline``; every other type (HTML, SVG, XML, any text, PDF, ...) is an ``attachment``."""


def inline_allowed(mime_type: str) -> bool:
    return mime_type in INLINE_TYPES


FALLBACK_FILENAME = "upload"
MAX_FILENAME_LENGTH = 255
_PATH_SEPARATORS = re.compile(r"[/\\]")


def safe_filename(name: str | None) -> str:
    """The client's filename fit to store and to show: the last path component, in NFC, without control or
    formatting characters (bidirectional overrides included), trimmed, at most 255 characters; names with
    nothing left, or only dots, become ``upload``."""
    base = _PATH_SEPARATORS.split(name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    base = base.strip()
    if not base.strip("."):
        return FALLBACK_FILENAME
    return base[:MAX_FILENAME_LENGTH].rstrip() or FALLBACK_FILENAME


# RFC 5987 attr-char, beside letters and digits (which `quote` always keeps, with "_.-~").
_ATTR_CHARS = "!#$&+^`|"
_UNSAFE_IN_QUOTES = re.compile(r'[^\x20-\x7e]|["\\%;]')


def content_disposition(filename: str, *, inline: bool) -> str:
    """``inline`` or ``attachment`` with the filename twice (RFC 6266): an ASCII fallback in quotes for old
    clients, and the exact name as UTF-8 in ``filename*`` (RFC 5987)."""
    kind = "inline" if inline else "attachment"
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = _UNSAFE_IN_QUOTES.sub("_", ascii_name).strip() or FALLBACK_FILENAME
    encoded = quote(filename, safe=_ATTR_CHARS)
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"


def served_content_type(mime_type: str) -> str:
    """The Content-Type a stored type is served with: text (which sniffing found to be UTF-8) says so."""
    return f"{mime_type}; charset=utf-8" if mime_type.startswith("text/") else mime_type


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (a quoted strong tag), with the weak comparison
    RFC 9110 prescribes for it; ``*`` matches any."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in _split_tags(if_none_match):
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def _split_tags(header: str) -> Sequence[str]:
    return [part.strip() for part in header.split(",") if part.strip()]
