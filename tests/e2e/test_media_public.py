"""Media fit for ``<img>`` (docs/media.md, Serving and Renditions): the public URL that carries its tenant,
fetched as a browser fetches an image (no header, no token), with its caching headers, ``If-None-Match``,
``HEAD`` and ``Range``; renditions from the allow-list, made once and served from storage; deletes that take
the renditions along; and all of it on both storage backends, the local directory and S3 (moto's real S3 API
server, `tests.media_s3`)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from collections.abc import AsyncIterable, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from rustok.api.app import create_app
from rustok.bootstrap import open_runtime
from rustok.content.media.storage import MediaStorage, build_storage, rendition_prefix
from rustok.core.settings import Settings
from rustok.core.uow import UnitOfWork
from rustok.testing import login_as, new_tenant
from rustok.testing.http import app_client
from rustok.testing.media import PNG_BYTES, image_bytes, upload_media
from tests.media_s3 import S3Server, moto_server

MakeUoW = Callable[..., UnitOfWork]
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    with moto_server() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The test kit's settings, with the media on the local directory or on S3 (the app builds either)."""
    if request.param == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        return server.settings_for(settings)
    return settings


def storage_of(app: FastAPI) -> MediaStorage:
    storage: MediaStorage = app.state.runtime.media_storage
    return storage


async def uploaded(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, **kwargs: Any
) -> dict[str, Any]:
    """A tenant ``acme`` and an item its manager uploaded."""
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    return await upload_media(client, manager, **kwargs)


def picture(response: httpx.Response) -> Image.Image:
    return Image.open(io.BytesIO(response.content))


# -------------------------------------------------------------------------------------- the public URL


async def test_an_img_src_fetch_needs_no_header_and_may_be_cached_for_good(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    # Given an uploaded PNG, whose item names its public URL
    media = await uploaded(client, app, make_uow, filename="red pixel.png")
    assert media["url"] == f"/media/acme/{media['id']}/red%20pixel.png"

    # When it is fetched as <img src> fetches: no tenant header, no token
    response = await client.get(media["url"])

    # Then the bytes come with their type, a strong ETag and a year of caching by anyone
    assert response.status_code == 200
    assert response.content == PNG_BYTES
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(PNG_BYTES))
    assert response.headers["etag"] == f'"{hashlib.sha256(PNG_BYTES).hexdigest()}"'
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith('inline; filename="red pixel.png"')


async def test_the_tenant_in_the_path_may_be_its_id_and_a_header_does_not_change_it(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    media = await uploaded(client, app, make_uow)
    other = await new_tenant(make_uow, "other")
    acme = (await client.get("/api/tenant", headers={"X-Tenant-ID": "acme"})).json()["id"]

    by_id = await client.get(f"/media/{acme}/{media['id']}/pixel.png")
    with_other_header = await client.get(media["url"], headers={"X-Tenant-ID": str(other)})

    assert (by_id.status_code, by_id.content) == (200, PNG_BYTES)
    assert (with_other_header.status_code, with_other_header.content) == (200, PNG_BYTES)


async def test_a_url_that_names_anything_else_is_a_404(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    media = await uploaded(client, app, make_uow)
    other = await new_tenant(make_uow, "other")
    theirs = await upload_media(client, await login_as(client, app, other, "manager"))

    wrong_name = await client.get(f"/media/acme/{media['id']}/other.png")
    unknown_tenant = await client.get(f"/media/nobody/{media['id']}/pixel.png")
    unknown_id = await client.get(f"/media/acme/{uuid.uuid4()}/pixel.png")
    another_tenants = await client.get(f"/media/acme/{theirs['id']}/pixel.png")

    assert (wrong_name.status_code, wrong_name.json()["code"]) == (404, "not_found")
    assert (unknown_tenant.status_code, unknown_tenant.json()["code"]) == (404, "tenant_not_found")
    assert (unknown_id.status_code, unknown_id.json()["code"]) == (404, "not_found")
    assert (another_tenants.status_code, another_tenants.json()["code"]) == (404, "not_found")
    assert (await client.get(theirs["url"])).status_code == 200


async def test_a_disabled_tenants_media_is_not_served(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    media = await uploaded(client, app, make_uow)
    super_admin = await login_as(client, app, await new_tenant(make_uow, "platform"), "super_admin")
    acme = (await client.get("/api/tenant", headers={"X-Tenant-ID": "acme"})).json()["id"]
    disabled = await client.patch(
        f"/api/admin/tenants/{acme}", json={"is_active": False}, headers=super_admin
    )
    assert disabled.status_code == 200, disabled.text

    response = await client.get(media["url"])

    assert (response.status_code, response.json()["code"]) == (403, "tenant_disabled")


async def test_a_client_that_has_the_file_gets_a_304(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    media = await uploaded(client, app, make_uow)
    etag = (await client.get(media["url"])).headers["etag"]

    same = await client.get(media["url"], headers={"If-None-Match": etag})
    other = await client.get(media["url"], headers={"If-None-Match": '"something-else"'})

    assert (same.status_code, same.content) == (304, b"")
    assert (same.headers["etag"], same.headers["cache-control"]) == (etag, IMMUTABLE)
    assert (other.status_code, other.content) == (200, PNG_BYTES)


async def test_head_answers_the_headers_without_the_bytes(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    media = await uploaded(client, app, make_uow)
    get = await client.get(media["url"])

    head = await client.head(media["url"])
    head_api = await client.head(f"/api/media/{media['id']}/file", headers={"X-Tenant-ID": "acme"})

    assert (head.status_code, head.content) == (200, b"")
    for name in ("content-type", "content-length", "etag", "cache-control", "content-disposition"):
        assert head.headers[name] == get.headers[name] == head_api.headers[name]


# ------------------------------------------------------------------------------------------------- ranges

DATA = bytes(range(256)) * 40  # 10 240 bytes of binary: served as an attachment, whole or in part


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-3", 0, 4),
        ("bytes=-100", len(DATA) - 100, len(DATA)),
        ("bytes=10000-", 10000, len(DATA)),
        ("bytes=500-999999", 500, len(DATA)),
    ],
    ids=["first-bytes", "suffix", "open", "past-the-end-clipped"],
)
async def test_one_range_answers_206_with_just_those_bytes(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, header: str, start: int, end: int
) -> None:
    media = await uploaded(client, app, make_uow, content=DATA, filename="data.bin")

    response = await client.get(media["url"], headers={"Range": header})

    assert response.status_code == 206
    assert response.content == DATA[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{len(DATA)}"
    assert response.headers["content-length"] == str(end - start)
    assert response.headers["etag"] == f'"{hashlib.sha256(DATA).hexdigest()}"'


@pytest.mark.parametrize(
    "header", [f"bytes={len(DATA)}-", f"bytes={len(DATA) + 5}-{len(DATA) + 9}", "bytes=-0"]
)
async def test_a_range_past_the_end_is_a_416_naming_the_size(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, header: str
) -> None:
    media = await uploaded(client, app, make_uow, content=DATA, filename="data.bin")

    response = await client.get(media["url"], headers={"Range": header})

    assert response.status_code == 416
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "range_not_satisfiable"
    assert response.headers["content-range"] == f"bytes */{len(DATA)}"


@pytest.mark.parametrize(
    "headers",
    [
        {"Range": "bytes=0-1,5-6"},
        {"Range": "bytes=5-2"},
        {"Range": "items=0-1"},
        {"Range": "bytes=0-"},
        {"Range": "bytes=0-3", "If-Range": '"an-older-version"'},
    ],
    ids=["several-ranges", "backwards", "other-unit", "all-of-it", "if-range-stale"],
)
async def test_what_is_not_one_fresh_range_gets_the_whole_file(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, headers: dict[str, str]
) -> None:
    media = await uploaded(client, app, make_uow, content=DATA, filename="data.bin")

    response = await client.get(media["url"], headers=headers)

    assert (response.status_code, response.content) == (200, DATA)
    assert "content-range" not in response.headers
    assert response.headers["content-disposition"].startswith("attachment;")


async def test_if_range_with_the_current_etag_keeps_the_range(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    media = await uploaded(client, app, make_uow, content=DATA, filename="data.bin")
    etag = (await client.head(media["url"])).headers["etag"]

    response = await client.get(media["url"], headers={"Range": "bytes=2-5", "If-Range": etag})

    assert (response.status_code, response.content) == (206, DATA[2:6])


# --------------------------------------------------------------------------------------------- renditions

PHOTO = image_bytes(400, 300, image_format="JPEG")


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("w=160&h=160&fit=cover", (160, 160)),
        ("w=160&h=160&fit=contain", (160, 160)),
        ("w=160&h=160&fit=inside", (160, 120)),
        ("w=160&h=160", (160, 120)),
        ("w=320", (320, 240)),
        ("h=160", (213, 160)),
    ],
)
async def test_a_rendition_fits_the_asked_box(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, query: str, size: tuple[int, int]
) -> None:
    media = await uploaded(client, app, make_uow, content=PHOTO, filename="photo.jpg")

    response = await client.get(f"{media['url']}?{query}")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == IMMUTABLE
    assert picture(response).size == size
    assert response.headers["etag"] != f'"{hashlib.sha256(PHOTO).hexdigest()}"'


@pytest.mark.parametrize(
    ("image_format", "pillow_format", "mime_type", "extension"),
    [
        ("webp", "WEBP", "image/webp", "webp"),
        ("avif", "AVIF", "image/avif", "avif"),
        ("jpeg", "JPEG", "image/jpeg", "jpg"),
        ("png", "PNG", "image/png", "png"),
    ],
)
async def test_a_rendition_is_encoded_in_the_asked_format(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    image_format: str,
    pillow_format: str,
    mime_type: str,
    extension: str,
) -> None:
    media = await uploaded(client, app, make_uow, content=PHOTO, filename="photo.jpg")

    response = await client.get(f"{media['url']}?w=160&h=160&fit=cover&format={image_format}")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == mime_type
    assert picture(response).format == pillow_format
    assert picture(response).size == (160, 160)
    assert f'filename="photo.{extension}"' in response.headers["content-disposition"]
    assert response.headers["content-disposition"].startswith("inline;")


async def test_a_rendition_is_never_larger_than_the_original(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    media = await uploaded(client, app, make_uow, content=image_bytes(200, 100), filename="small.png")

    inside = await client.get(f"{media['url']}?w=320")
    cover = await client.get(f"{media['url']}?w=320&h=320&fit=cover")

    assert picture(inside).size == (200, 100)
    assert picture(cover).size == (100, 100)  # the box's shape, shrunk to fit in the original


async def test_a_change_of_format_alone_keeps_within_the_largest_allowed_box(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, settings: Settings
) -> None:
    media = await uploaded(client, app, make_uow, content=image_bytes(2000, 100), filename="banner.png")

    response = await client.get(f"{media['url']}?format=webp")

    assert max(settings.media_rendition_widths) == 1600
    assert (picture(response).format, picture(response).size) == ("WEBP", (1600, 80))


async def test_a_rendition_applies_the_exif_orientation_and_drops_the_metadata(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    # A JPEG stored 40 wide and 20 high, whose EXIF says to turn it a quarter (orientation 6) and names
    # the camera
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "RusToK Camera"
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 120, 200)).save(out, format="JPEG", exif=exif.tobytes())
    media = await uploaded(client, app, make_uow, content=out.getvalue(), filename="turned.jpg")

    as_png = await client.get(f"{media['url']}?format=png")
    as_jpeg = await client.get(f"{media['url']}?h=160")
    original = await client.get(media["url"])

    assert picture(as_png).size == (20, 40)
    assert picture(as_jpeg).size == (20, 40)  # upright, and not upscaled to 160 high
    assert dict(picture(as_png).getexif()) == dict(picture(as_jpeg).getexif()) == {}
    assert picture(original).getexif()[0x010F] == "RusToK Camera"


async def test_a_size_off_the_allow_list_is_a_422_naming_the_allowed_ones(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, settings: Settings
) -> None:
    media = await uploaded(client, app, make_uow, content=PHOTO, filename="photo.jpg")

    off_list = await client.get(f"{media['url']}?w=150")
    cover_without_height = await client.get(f"{media['url']}?w=160&fit=cover")
    unknown_fit = await client.get(f"{media['url']}?w=160&fit=stretch")
    unknown_format = await client.get(f"{media['url']}?format=tiff")

    assert (off_list.status_code, off_list.json()["code"]) == (422, "rendition_size_not_allowed")
    assert off_list.json()["errors"][0]["loc"] == ["query", "w"]
    assert ", ".join(map(str, settings.media_rendition_widths)) in off_list.json()["detail"]
    assert (cover_without_height.status_code, cover_without_height.json()["code"]) == (
        422,
        "validation_error",
    )
    assert (unknown_fit.status_code, unknown_fit.json()["code"]) == (422, "validation_error")
    assert (unknown_format.status_code, unknown_format.json()["code"]) == (422, "validation_error")


async def test_the_allow_list_comes_from_the_settings(
    settings: Settings, db_engine: Any, session_factory: Any, make_uow: MakeUoW
) -> None:
    custom = settings.model_copy(update={"media_rendition_widths": (150,), "media_rendition_heights": (90,)})
    application = create_app(custom, engine=db_engine, session_factory=session_factory, configure_logs=False)
    async with app_client(application) as client:
        media = await uploaded(client, application, make_uow, content=PHOTO, filename="photo.jpg")

        allowed = await client.get(f"{media['url']}?w=150&h=90&fit=cover")
        default_size = await client.get(f"{media['url']}?w=160")

    assert picture(allowed).size == (150, 90)
    assert (default_size.status_code, default_size.json()["code"]) == (422, "rendition_size_not_allowed")


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"just some notes\n", "notes.txt"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "icon.svg"),
        (None, "animated.gif"),
    ],
    ids=["text", "svg", "animated-gif"],
)
async def test_what_is_not_a_still_raster_image_has_no_renditions(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, content: bytes | None, filename: str
) -> None:
    if content is None:
        frames = [Image.new("RGB", (20, 20), color) for color in ((255, 0, 0), (0, 255, 0))]
        out = io.BytesIO()
        frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
        content = out.getvalue()
    media = await uploaded(client, app, make_uow, content=content, filename=filename)

    rendition = await client.get(f"{media['url']}?w=160")
    original = await client.get(media["url"])

    assert (rendition.status_code, rendition.json()["code"]) == (422, "rendition_unsupported")
    assert (original.status_code, original.content) == (200, content)


async def test_a_rendition_is_stored_once_and_served_from_storage_with_its_own_etag(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    media = await uploaded(client, app, make_uow, content=PHOTO, filename="photo.jpg")
    url = f"{media['url']}?w=320&h=320&fit=cover&format=webp"

    first = await client.get(url)
    again = await client.get(url)
    revalidated = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    head = await client.head(url)
    part = await client.get(url, headers={"Range": "bytes=0-11"})

    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert first.headers["content-length"] == str(len(first.content)) == head.headers["content-length"]
    assert revalidated.status_code == 304
    assert (part.status_code, part.content) == (206, first.content[:12])
    assert part.content[8:12] == b"WEBP"


async def test_deleting_an_item_deletes_its_renditions(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    media = await upload_media(client, manager, content=PHOTO, filename="photo.jpg")
    kept = await upload_media(client, manager, content=PHOTO, filename="kept.jpg")
    for item in (media, kept):
        for query in ("w=160", "w=320&h=320&fit=cover&format=webp"):
            assert (await client.get(f"{item['url']}?{query}")).status_code == 200
    storage = storage_of(app)
    # (What is left under a prefix is counted by deleting it: the storage's own count.)
    prefix = rendition_prefix(acme, uuid.UUID(media["id"]))

    deleted = await client.delete(f"/api/media/{media['id']}", headers=manager)

    assert deleted.status_code == 204
    assert await storage.delete_prefix(prefix) == 0
    assert not await storage.exists(f"{acme}/{media['id']}")
    assert (await client.get(f"{media['url']}?w=160")).status_code == 404
    assert await storage.delete_prefix(rendition_prefix(acme, uuid.UUID(kept["id"]))) == 2


# ------------------------------------------------------------------- made once, under concurrent requests


class CountingStorage:
    """The configured backend, counting the writes it is asked for (the seam the composition root takes)."""

    def __init__(self, inner: MediaStorage) -> None:
        self.inner = inner
        self.writes: list[str] = []

    async def write(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        self.writes.append(key)
        return await self.inner.write(key, chunks)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


async def test_concurrent_first_requests_make_a_rendition_once(isolated_settings: Settings) -> None:
    # Given the app on a runtime whose media storage counts its writes (its units of work really commit)
    storage = CountingStorage(build_storage(isolated_settings))
    async with open_runtime(isolated_settings, media_storage=storage) as runtime:  # type: ignore[arg-type]
        application = create_app(runtime=runtime, configure_logs=False)
        async with app_client(application) as client:
            acme = await new_tenant(runtime.uow, "acme")
            manager = await login_as(client, application, acme, "manager")
            media = await upload_media(client, manager, content=PHOTO, filename="photo.jpg")
            url = f"{media['url']}?w=640&h=320&fit=cover&format=avif"

            # When eight browsers ask for the same new rendition at once, and one more afterwards
            answers = await asyncio.gather(*(client.get(url) for _ in range(8)))
            later = await client.get(url)

    # Then it was made and stored once, and every answer is the same image
    renditions = [key for key in storage.writes if "/renditions/" in key]
    assert len(renditions) == 1
    assert {answer.status_code for answer in answers} == {200}
    assert {answer.content for answer in [*answers, later]} == {later.content}
    assert {answer.headers["etag"] for answer in [*answers, later]} == {later.headers["etag"]}
    assert picture(later).size == (400, 200)


# ---------------------------------------------------------------------------------------------- readiness


async def test_readiness_checks_the_s3_bucket_when_media_is_on_s3(
    client: httpx.AsyncClient, settings: Settings, s3_server: S3Server, db_engine: Any, session_factory: Any
) -> None:
    ready = await client.get("/health/ready")
    missing = s3_server.settings_for(settings, bucket="no-such-bucket")
    application = create_app(missing, engine=db_engine, session_factory=session_factory, configure_logs=False)
    async with app_client(application) as other:
        not_ready = await other.get("/health/ready")

    assert ready.status_code == 200
    assert ("media_storage" in ready.json()["checks"]) is (settings.media_storage == "s3")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["media_storage"].startswith("error")
