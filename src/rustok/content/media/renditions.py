"""Renditions: an image resized and re-encoded for a page, made with Pillow once and kept in storage.

A rendition is asked for with ``?w=&h=&fit=&format=`` on a media item's public URL. Widths and heights come
from an allow-list in the settings (``RUSTOK_MEDIA_RENDITION_WIDTHS``, ``..._HEIGHTS``), so the number of
renditions per image is bounded and a client cannot make the server render (and store) any size it likes.

Fits, in a box of ``w`` by ``h``:

- ``inside`` (the default): scaled to fit inside the box, its aspect ratio kept; either side may be left out
  (both left out: the largest allowed box, so that ``?format=`` alone cannot ask for a huge encode);
- ``cover``: scaled to cover the box and cropped to it, centred: exactly the box;
- ``contain``: scaled to fit inside the box and padded to it, centred (transparent, or white in JPEG).

Never upscaled: a box larger than the (oriented) original shrinks, keeping its aspect ratio, until it fits,
so ``cover`` and ``contain`` still give the box's shape. The EXIF orientation is applied first, and no
metadata is copied (a photo's GPS position stays in the original). Animated images, SVG and anything that is
not a raster image are a 422 ``rendition_unsupported``; an image over Pillow's decompression-bomb limit a 422
``image_too_large``.

A rendition is stored under ``<tenant>/renditions/<media id>/<w>x<h>-<fit>.<format>`` (0 for a side not
asked) and served from there afterwards, with an ETag made of the original's SHA-256 and that name. The first
requests for one rendition that arrive together make it once, in this process (`SingleFlight`); the
decoding and encoding run in a worker thread, at most `RENDER_THREADS` at a time.
"""

from __future__ import annotations

import io
import tempfile
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from typing import IO

import anyio
from anyio import to_thread
from PIL import Image, ImageOps

from rustok.content.media.storage import MediaStorage, StoredFileMissing, rendition_prefix
from rustok.content.models import Media
from rustok.core.errors import NotFound, Unprocessable
from rustok.core.settings import Settings
from rustok.core.singleflight import SingleFlight

# Bump when the encoder's parameters change, so cached renditions are not confused with new ones.
RENDITION_VERSION = "r1"
RENDER_THREADS = 2
SPOOL_BYTES = 8 * 1024 * 1024  # an original larger than this is spooled to a temporary file to decode


class Fit(StrEnum):
    INSIDE = "inside"
    COVER = "cover"
    CONTAIN = "contain"


class Format(StrEnum):
    WEBP = "webp"
    AVIF = "avif"
    JPEG = "jpeg"
    PNG = "png"


MIME_TYPES = {
    Format.WEBP: "image/webp",
    Format.AVIF: "image/avif",
    Format.JPEG: "image/jpeg",
    Format.PNG: "image/png",
}
_PILLOW_NAMES = {Format.WEBP: "WEBP", Format.AVIF: "AVIF", Format.JPEG: "JPEG", Format.PNG: "PNG"}
_SAVE_OPTIONS: dict[Format, dict[str, object]] = {
    Format.WEBP: {"quality": 82, "method": 4},
    Format.AVIF: {"quality": 60, "speed": 8},
    Format.JPEG: {"quality": 85, "optimize": True, "progressive": True},
    Format.PNG: {"optimize": True},
}
# The formats a rendition of an original keeps by default; other originals become PNG.
_SAME_FORMAT = {mime: fmt for fmt, mime in MIME_TYPES.items()}
# The raster types a rendition can be made of (not SVG, which is text), with the one Pillow decoder each
# may be opened with: the type was sniffed at upload, so no other decoder ever sees the bytes.
RENDERABLE: dict[str, str] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/bmp": "BMP",
    "image/tiff": "TIFF",
    "image/avif": "AVIF",
}


def _unsupported(detail: str) -> Unprocessable:
    return Unprocessable(detail, code="rendition_unsupported")


@dataclass(frozen=True, slots=True)
class RenditionSpec:
    """A rendition as asked: the box (None: that side is free), the fit and the output format."""

    width: int | None
    height: int | None
    fit: Fit
    format: Format

    @property
    def name(self) -> str:
        return f"{self.width or 0}x{self.height or 0}-{self.fit}.{self.format}"


def rendition_spec(
    settings: Settings,
    media: Media,
    *,
    width: int | None,
    height: int | None,
    fit: Fit | None,
    image_format: Format | None,
) -> RenditionSpec | None:
    """The rendition a request asks of ``media``, checked against the allow-list; None when it asks for
    none (the original is served). 422 ``rendition_size_not_allowed`` for a size off the list, 422
    ``validation_error`` for ``cover``/``contain`` without both sides, 422 ``rendition_unsupported`` for a
    file that is not a still raster image."""
    if width is None and height is None and fit is None and image_format is None:
        return None
    errors = []
    if width is not None and width not in settings.media_rendition_widths:
        errors.append(("w", width, settings.media_rendition_widths))
    if height is not None and height not in settings.media_rendition_heights:
        errors.append(("h", height, settings.media_rendition_heights))
    if errors:
        raise Unprocessable(
            "; ".join(
                f"{name}={value} is not an allowed size (allowed: {', '.join(map(str, allowed))})"
                for name, value, allowed in errors
            ),
            code="rendition_size_not_allowed",
            errors=[
                {"loc": ["query", name], "msg": f"not one of {list(allowed)}", "type": "size_not_allowed"}
                for name, _, allowed in errors
            ],
        )
    fit = fit or Fit.INSIDE
    if width is None and height is None:
        # A change of format alone keeps within the largest allowed box: no rendition is larger than that.
        width, height = max(settings.media_rendition_widths), max(settings.media_rendition_heights)
    if fit is not Fit.INSIDE and (width is None or height is None):
        raise Unprocessable(
            f"fit={fit} needs both w and h.",
            code="validation_error",
            errors=[{"loc": ["query", "fit"], "msg": f"{fit} needs both w and h", "type": "missing_size"}],
        )
    if media.mime_type not in RENDERABLE:
        raise _unsupported(f"A rendition is made of raster images only; this file is {media.mime_type}.")
    chosen = image_format or _SAME_FORMAT.get(media.mime_type, Format.PNG)
    return RenditionSpec(width, height, fit, chosen)


def rendition_key(media: Media, spec: RenditionSpec) -> str:
    return f"{rendition_prefix(media.tenant_id, media.id)}/{spec.name}"


def rendition_etag(media: Media, spec: RenditionSpec) -> str:
    return f'"{media.sha256}-{RENDITION_VERSION}-{spec.name}"'


def rendition_filename(media: Media, spec: RenditionSpec) -> str:
    stem = PurePosixPath(media.filename).stem or "image"
    return f"{stem}.{'jpg' if spec.format is Format.JPEG else spec.format.value}"


# ------------------------------------------------------------------------------------------- making them

_flights: SingleFlight[str, int] = SingleFlight()
"""The renditions being made in this process, by storage key: concurrent first requests share one."""
_limiter: anyio.CapacityLimiter | None = None


def _render_limiter() -> anyio.CapacityLimiter:
    global _limiter  # made on first use: a limiter belongs to a running event loop
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(RENDER_THREADS)
    return _limiter


async def ensure_rendition(storage: MediaStorage, media: Media, spec: RenditionSpec) -> int:
    """The size of the stored rendition, made and stored first when it is not there yet."""
    key = rendition_key(media, spec)

    async def make() -> int:
        size = await storage.size(key)
        if size is not None:
            return size
        encoded = await _render_original(storage, media, spec)
        return await storage.write(key, _one(encoded))

    return await _flights.do(key, make)


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _render_original(storage: MediaStorage, media: Media, spec: RenditionSpec) -> bytes:
    try:
        chunks = await storage.open(media.storage_key)
    except StoredFileMissing:
        raise NotFound(f"The file of media item {media.id} is missing.", code="media_file_missing") from None
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed below
    try:
        async_spool = anyio.wrap_file(spool)
        async for chunk in chunks:
            await async_spool.write(chunk)
        decoder = RENDERABLE[media.mime_type]
        return await to_thread.run_sync(render, spool, decoder, spec, limiter=_render_limiter())
    finally:
        spool.close()


def render(source: IO[bytes], decoder: str, spec: RenditionSpec) -> bytes:
    """Decode the image in ``source`` (with Pillow's ``decoder`` only), orient, resize and encode it as
    ``spec`` says, with no metadata but its colour profile (in a worker thread)."""
    source.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(source, formats=[decoder]) as opened:
                if getattr(opened, "is_animated", False):
                    raise _unsupported("A rendition is made of still images; this one is animated.")
                image = ImageOps.exif_transpose(opened)
                image.load()
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise Unprocessable(
                "The image has more pixels than this server decodes.", code="image_too_large"
            ) from exc
        except (OSError, ValueError, SyntaxError) as exc:
            raise _unsupported(f"The image cannot be decoded: {exc}") from exc
    image = _resized(_normalized(image, spec.format), spec)
    profile = image.info.get("icc_profile")
    image.info = {"icc_profile": profile} if profile else {}  # no EXIF, XMP or comments: GPS stays behind
    out = io.BytesIO()
    image.save(out, format=_PILLOW_NAMES[spec.format], **_SAVE_OPTIONS[spec.format])
    return out.getvalue()


def _normalized(image: Image.Image, target: Format) -> Image.Image:
    """The image in a mode the target format writes: RGB or RGBA (JPEG: RGB on white), or L."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if has_alpha else "RGB")
    if target is Format.JPEG and image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image = background
    return image


def _box(spec: RenditionSpec, size: tuple[int, int]) -> tuple[int, int]:
    """The box to fit into, never larger than the original: a larger one shrinks, keeping its shape."""
    width, height = size
    box_w = spec.width or width
    box_h = spec.height or height
    if spec.fit is Fit.INSIDE:  # `thumbnail` keeps the aspect ratio inside this and never enlarges
        return min(box_w, width), min(box_h, height)
    shrink = min(1.0, width / box_w, height / box_h)
    return max(1, round(box_w * shrink)), max(1, round(box_h * shrink))


def _resized(image: Image.Image, spec: RenditionSpec) -> Image.Image:
    box = _box(spec, image.size)
    if spec.fit is Fit.COVER:
        return ImageOps.fit(image, box, method=Image.Resampling.LANCZOS)
    if spec.fit is Fit.CONTAIN:
        if spec.format is Format.JPEG:
            fill: int | tuple[int, ...] = 255 if image.mode == "L" else (255, 255, 255)
        else:  # padded with transparency
            image = image.convert("RGBA")
            fill = (0, 0, 0, 0)
        return ImageOps.pad(image, box, method=Image.Resampling.LANCZOS, color=fill)
    scaled = image.copy()
    scaled.thumbnail(box, Image.Resampling.LANCZOS)
    return scaled
