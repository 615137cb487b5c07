"""Media over HTTP (api.md "Content", Media): streamed uploads with sniffed types and a size limit, per-locale
alt text and title, downloads served safely, deletes, events, permissions and tenant isolation."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from rustok.api.app import create_app
from rustok.core.settings import Settings
from rustok.core.uow import SessionFactory, UnitOfWork
from rustok.testing import EventRecorder, http_client, login_as, new_tenant, sign_in_as
from rustok.testing.media import PNG_BYTES, image_bytes, png_header, post_media, upload_media

MakeUoW = Callable[..., UnitOfWork]
BOUNDARY = "rustok-test-boundary-7d9f"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def stored_files(settings: Settings) -> list[Path]:
    root = settings.effective_media_dir
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    """A multipart/form-data body of (name, filename, content) parts, delimited by `BOUNDARY`."""
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def multipart_headers(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


class Chunked:
    """A request body sent in pieces with no Content-Length, counting the pieces the server asked for."""

    def __init__(self, body: bytes, size: int) -> None:
        self.pieces = [body[start : start + size] for start in range(0, len(body), size)]
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            self.sent += 1
            yield piece


@asynccontextmanager
async def app_with_limit(
    settings: Settings, db_engine: AsyncEngine, session_factory: SessionFactory, media_max_bytes: int
) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the test's database whose uploads are limited to ``media_max_bytes``."""
    limited = settings.model_copy(update={"media_max_bytes": media_max_bytes})
    application = create_app(limited, engine=db_engine, session_factory=session_factory, configure_logs=False)
    async with application.router.lifespan_context(application), http_client(application) as http:
        yield http


# ---------------------------------------------------------------------------------------------- uploads


async def test_a_manager_uploads_a_png_whose_type_is_sniffed_not_claimed(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    settings: Settings,
    event_recorder: EventRecorder,
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await sign_in_as(client, app, acme, "manager")

    async with event_recorder.watch() as events:
        response = await post_media(
            client, manager.headers, filename="pixel.png", content_type="text/plain", alt="A red pixel"
        )

    assert response.status_code == 201, response.text
    media = response.json()
    assert (media["mime_type"], media["width"], media["height"], media["size"]) == (
        "image/png",
        2,
        1,
        len(PNG_BYTES),
    )
    assert media["filename"] == "pixel.png"
    assert media["url"] == f"/media/acme/{media['id']}/pixel.png"
    assert media["uploaded_by"] == str(manager.user_id)
    assert (media["locale"], media["alt"], media["title"]) == ("en", "A red pixel", None)
    assert media["translations"] == [{"locale": "en", "alt": "A red pixel", "title": None}]
    uploaded = events.one("media.uploaded")
    assert uploaded.payload.media_id == uuid.UUID(media["id"])
    assert (uploaded.payload.mime_type, uploaded.payload.size) == ("image/png", len(PNG_BYTES))
    assert (uploaded.tenant_id, uploaded.actor_id) == (acme, manager.user_id)
    # Stored under a name the server made, never the client's.
    assert stored_files(settings) == [settings.effective_media_dir / str(acme) / media["id"]]


@pytest.mark.parametrize(
    ("image_format", "mime_type"),
    [("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
async def test_other_raster_images_are_recognised_with_their_size(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, image_format: str, mime_type: str
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    media = await upload_media(
        client, manager, content=image_bytes(7, 5, image_format=image_format), filename="photo.bin"
    )

    assert (media["mime_type"], media["width"], media["height"]) == (mime_type, 7, 5)


async def test_anonymous_callers_list_read_and_download_media(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    media = await upload_media(client, manager, title="Pixel")
    anonymous = {"X-Tenant-ID": str(acme)}

    listed = await client.get("/api/media", headers=anonymous)
    read = await client.get(f"/api/media/{media['id']}", headers=anonymous)
    download = await client.get(f"/api/media/{media['id']}/file", headers=anonymous)

    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [media["id"]]
    assert listed.json()["next_cursor"] is None
    assert read.status_code == 200
    assert read.json() == media
    assert download.status_code == 200
    assert download.content == PNG_BYTES
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-length"] == str(len(PNG_BYTES))
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert download.headers["etag"] == f'"{hashlib.sha256(PNG_BYTES).hexdigest()}"'
    assert download.headers["content-disposition"] == (
        "inline; filename=\"pixel.png\"; filename*=UTF-8''pixel.png"
    )
    assert download.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert download.headers["accept-ranges"] == "bytes"


async def test_a_download_is_not_sent_again_when_the_client_has_it(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    media = await upload_media(client, manager)
    anonymous = {"X-Tenant-ID": str(acme)}
    etag = (await client.get(media["url"], headers=anonymous)).headers["etag"]

    same = await client.get(media["url"], headers={**anonymous, "If-None-Match": etag})
    among_others = await client.get(media["url"], headers={**anonymous, "If-None-Match": f'"abc", W/{etag}'})
    other = await client.get(media["url"], headers={**anonymous, "If-None-Match": '"abc"'})

    assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", etag)
    assert among_others.status_code == 304
    assert (other.status_code, other.content) == (200, PNG_BYTES)


@pytest.mark.parametrize(
    ("content", "mime_type", "content_type"),
    [
        (HTML, "text/html", "text/html; charset=utf-8"),
        (SVG, "image/svg+xml", "image/svg+xml"),
        (b"just some notes\n", "text/plain", "text/plain; charset=utf-8"),
        (b"\x00\x01\x02binary\xff", "application/octet-stream", "application/octet-stream"),
    ],
    ids=["html", "svg", "text", "binary"],
)
async def test_anything_a_browser_could_run_or_misread_is_an_attachment(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    content: bytes,
    mime_type: str,
    content_type: str,
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    # The client claims a harmless image; the bytes decide.
    media = await upload_media(client, manager, content=content, filename="cat.png", content_type="image/png")
    download = await client.get(media["url"], headers={"X-Tenant-ID": str(acme)})

    assert (media["mime_type"], media["width"], media["height"]) == (mime_type, None, None)
    assert download.content == content
    assert download.headers["content-type"] == content_type
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize(
    ("sent", "kept", "ascii_fallback"),
    [
        ("../../../etc/passwd", "passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini", "win.ini"),
        ("..", "upload", "upload"),
        ("résumé \u202egnp.exe", "résumé gnp.exe", "resume gnp.exe"),
        ('say "hi"; x.png', 'say "hi"; x.png', "say _hi__ x.png"),
    ],
)
async def test_the_clients_filename_is_reduced_to_a_safe_name(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    settings: Settings,
    sent: str,
    kept: str,
    ascii_fallback: str,
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    response = await client.post(
        "/api/media",
        content=multipart(("file", sent, PNG_BYTES)),
        headers=multipart_headers(manager),
    )

    assert response.status_code == 201, response.text
    media = response.json()
    assert media["filename"] == kept
    disposition = (await client.get(media["url"], headers=manager)).headers["content-disposition"]
    assert disposition.startswith(f"inline; filename=\"{ascii_fallback}\"; filename*=UTF-8''")
    assert stored_files(settings) == [settings.effective_media_dir / str(acme) / media["id"]]


async def test_a_file_over_the_limit_is_a_413_and_leaves_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    settings: Settings,
    db_engine: AsyncEngine,
    session_factory: SessionFactory,
    event_recorder: EventRecorder,
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    async with (
        app_with_limit(settings, db_engine, session_factory, 1000) as limited,
        event_recorder.watch() as events,
    ):
        at_limit = await post_media(limited, manager, content=b"a" * 1000, filename="fits.txt")
        over = await post_media(limited, manager, content=b"a" * 5000, filename="big.txt")

    assert at_limit.status_code == 201, at_limit.text
    assert over.status_code == 413
    assert over.headers["content-type"] == "application/problem+json"
    assert over.json()["code"] == "payload_too_large"
    listed = (await client.get("/api/media", headers=manager)).json()["items"]
    assert [item["filename"] for item in listed] == ["fits.txt"]
    assert stored_files(settings) == [settings.effective_media_dir / str(acme) / at_limit.json()["id"]]
    assert events.types == ["media.uploaded"]


async def test_a_chunked_upload_is_streamed_and_stopped_at_the_limit(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    settings: Settings,
    db_engine: AsyncEngine,
    session_factory: SessionFactory,
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    small = image_bytes(4, 3)
    fitting = Chunked(multipart(("file", "small.png", small), ("alt", None, b"Small")), size=16)
    big = Chunked(multipart(("alt", None, b"too big"), ("file", "big.bin", b"\x00" * 100_000)), size=700)

    async with app_with_limit(settings, db_engine, session_factory, 1000) as limited:
        fits = await limited.post("/api/media", content=fitting, headers=multipart_headers(manager))
        over = await limited.post("/api/media", content=big, headers=multipart_headers(manager))

    assert "content-length" not in fits.request.headers
    assert fits.request.headers["transfer-encoding"] == "chunked"
    assert fitting.sent == len(fitting.pieces)
    # The server stopped reading soon after the limit: the rest of the body was never asked for.
    assert big.sent <= 4 < len(big.pieces)
    assert fits.status_code == 201, fits.text
    assert (fits.json()["size"], fits.json()["width"], fits.json()["alt"]) == (len(small), 4, "Small")
    assert over.status_code == 413
    assert over.json()["code"] == "payload_too_large"
    assert stored_files(settings) == [settings.effective_media_dir / str(acme) / fits.json()["id"]]
    listed = (await client.get("/api/media", headers=manager)).json()["items"]
    assert [item["id"] for item in listed] == [fits.json()["id"]]


async def test_an_upload_without_a_file_part_is_a_422(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    response = await client.post("/api/media", files={"alt": (None, "No file here")}, headers=manager)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert problem["errors"] == [{"loc": ["body", "file"], "msg": "Field required", "type": "missing"}]


@pytest.mark.parametrize(
    ("parts", "loc", "type_"),
    [
        ([("file", "a.png", PNG_BYTES), ("owner", None, b"me")], ["body", "owner"], "extra_forbidden"),
        ([("file", "a.png", PNG_BYTES), ("file", "b.png", PNG_BYTES)], ["body", "file"], "duplicate_field"),
        ([("alt", None, b"x" * 5000), ("file", "a.png", PNG_BYTES)], ["body", "alt"], "string_too_long"),
        ([("file", "a.png", PNG_BYTES), ("alt", None, b"x" * 1001)], ["body", "alt"], "string_too_long"),
        ([("file", "a.png", PNG_BYTES), ("title", None, b"a\x00b")], ["body", "title"], "value_error"),
        (
            [("file", "a.png", PNG_BYTES), ("locale", None, b"Not a locale")],
            ["body", "locale"],
            "string_pattern_mismatch",
        ),
        ([("file", "empty.txt", b"")], ["body", "file"], "empty_file"),
    ],
    ids=[
        "unknown-field",
        "two-files",
        "field-over-4k",
        "alt-too-long",
        "control-char",
        "bad-locale",
        "empty",
    ],
)
async def test_invalid_uploads_are_a_422_and_store_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    settings: Settings,
    parts: list[tuple[str, str | None, bytes]],
    loc: list[str],
    type_: str,
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    response = await client.post("/api/media", content=multipart(*parts), headers=multipart_headers(manager))

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert [(e["loc"], e["type"]) for e in problem["errors"]] == [(loc, type_)]
    assert stored_files(settings) == []
    assert (await client.get("/api/media", headers=manager)).json()["items"] == []


async def test_an_image_too_large_to_decode_safely_is_refused(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, settings: Settings
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    response = await post_media(client, manager, content=png_header(20_000, 20_000), filename="bomb.png")

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "image_too_large"
    assert problem["errors"][0]["loc"] == ["body", "file"]
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"file": "aGVsbG8="}', "application/json"),
        (b"hello", "text/plain"),
        (b"alt=url-encoded", "application/x-www-form-urlencoded"),
        (PNG_BYTES, "image/png"),
        (b"--x\r\n", "multipart/mixed; boundary=x"),
        (b"", None),
    ],
    ids=["json", "text", "urlencoded", "raw-image", "multipart-mixed", "none"],
)
async def test_a_body_that_is_not_multipart_form_data_is_a_415(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, content: bytes, content_type: str | None
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    headers = manager if content_type is None else {**manager, "Content-Type": content_type}

    response = await client.post("/api/media", content=content, headers=headers)

    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unsupported_media_type"


async def test_a_malformed_multipart_body_is_a_400(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, settings: Settings
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    truncated = multipart(("file", "a.png", PNG_BYTES))[:-30]

    cut_short = await client.post("/api/media", content=truncated, headers=multipart_headers(manager))
    no_boundary = await client.post(
        "/api/media", content=truncated, headers={**manager, "Content-Type": "multipart/form-data"}
    )

    assert (cut_short.status_code, cut_short.json()["code"]) == (400, "invalid_multipart")
    assert (no_boundary.status_code, no_boundary.json()["code"]) == (400, "invalid_multipart")
    assert stored_files(settings) == []


# ------------------------------------------------------------------------------------------------ locales


async def test_a_locale_the_tenant_has_not_enabled_is_refused_and_the_file_removed(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, settings: Settings
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")

    response = await post_media(client, manager, alt="Ein Pixel", locale="de")

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "locale_not_enabled"
    assert problem["errors"][0]["loc"] == ["body", "locale"]
    assert stored_files(settings) == []
    assert (await client.get("/api/media", headers=manager)).json()["items"] == []


async def test_alt_text_and_title_are_served_in_the_asked_locale_else_the_default(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await login_as(client, app, acme, "admin")
    enabled = await client.post("/api/tenant/locales", json={"locale": "de"}, headers=admin)
    assert enabled.status_code == 201, enabled.text
    english = await upload_media(client, admin, alt="A red pixel", title="Pixel")
    german = await upload_media(client, admin, alt="Ein rotes Pixel", locale="de")
    anonymous = {"X-Tenant-ID": str(acme)}

    english_in_german = (await client.get(f"/api/media/{english['id']}?locale=de", headers=anonymous)).json()
    german_in_german = (await client.get(f"/api/media/{german['id']}?locale=de", headers=anonymous)).json()
    german_by_default = (await client.get(f"/api/media/{german['id']}", headers=anonymous)).json()
    listed = (await client.get("/api/media?locale=de", headers=anonymous)).json()["items"]
    bad_locale = await client.get(f"/api/media/{german['id']}?locale=Not-A-Locale!", headers=anonymous)

    assert (english_in_german["locale"], english_in_german["alt"], english_in_german["title"]) == (
        "en",
        "A red pixel",
        "Pixel",
    )
    assert english_in_german["translations"] == [{"locale": "en", "alt": "A red pixel", "title": "Pixel"}]
    assert (german_in_german["locale"], german_in_german["alt"]) == ("de", "Ein rotes Pixel")
    # No English text: the only locale the item has is served.
    assert (german_by_default["locale"], german_by_default["alt"]) == ("de", "Ein rotes Pixel")
    assert [(item["id"], item["alt"]) for item in listed] == [
        (german["id"], "Ein rotes Pixel"),
        (english["id"], "A red pixel"),
    ]
    assert bad_locale.status_code == 422


async def test_the_list_is_paginated_newest_first(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    uploaded = [(await upload_media(client, manager, filename=f"{n}.png"))["id"] for n in range(3)]

    first = (await client.get("/api/media", params={"limit": 2}, headers=manager)).json()
    second = (
        await client.get("/api/media", params={"limit": 2, "cursor": first["next_cursor"]}, headers=manager)
    ).json()

    assert [item["id"] for item in first["items"] + second["items"]] == uploaded[::-1]
    assert second["next_cursor"] is None


# ------------------------------------------------------------------------------------ changing alt and title


async def test_a_patch_upserts_alt_text_and_title_per_locale_and_records_one_event(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    # Given an item with English alt text and title, and German enabled
    acme = await new_tenant(make_uow, "acme")
    signed_in = await sign_in_as(client, app, acme, "manager")
    manager = signed_in.headers
    admin = await login_as(client, app, acme, "admin")
    assert (await client.post("/api/tenant/locales", json={"locale": "de"}, headers=admin)).status_code == 201
    media = await upload_media(client, manager, alt="A red pixel", title="Pixel")

    # When the English alt text changes (the title left out) and German text is added
    body = {
        "translations": [
            {"locale": "en", "alt": "One red pixel"},
            {"locale": "de", "alt": "Ein rotes Pixel", "title": "Pixel"},
        ]
    }
    async with event_recorder.watch() as events:
        response = await client.patch(f"/api/media/{media['id']}", json=body, headers=manager)

    # Then both locales are as asked, the English title kept, and media.updated names both locales
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["translations"] == [
        {"locale": "de", "alt": "Ein rotes Pixel", "title": "Pixel"},
        {"locale": "en", "alt": "One red pixel", "title": "Pixel"},
    ]
    assert (changed["locale"], changed["alt"], changed["url"]) == ("en", "One red pixel", media["url"])
    assert changed["updated_at"] > media["updated_at"]
    assert events.types == ["media.updated"]
    event = events.one("media.updated")
    assert (event.payload.media_id, event.payload.locales) == (uuid.UUID(media["id"]), ["en", "de"])
    assert event.actor_id == signed_in.user_id
    read = await client.get(f"/api/media/{media['id']}?locale=de", headers={"X-Tenant-ID": str(acme)})
    assert (read.json()["alt"], read.json()["title"]) == ("Ein rotes Pixel", "Pixel")


async def test_a_patch_clears_a_field_given_as_null_and_records_nothing_when_nothing_changes(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    media = await upload_media(client, manager, alt="A red pixel", title="Pixel")
    path = f"/api/media/{media['id']}"

    cleared = await client.patch(
        path, json={"translations": [{"locale": "en", "title": None}]}, headers=manager
    )
    async with event_recorder.watch() as events:
        same = await client.patch(
            path, json={"translations": [{"locale": "en", "alt": "A red pixel"}]}, headers=manager
        )

    assert cleared.json()["translations"] == [{"locale": "en", "alt": "A red pixel", "title": None}]
    assert same.status_code == 200
    assert events.types == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"translations": [{"locale": "de", "alt": "Ein Pixel"}]}, "locale_not_enabled"),
        ({"translations": []}, "validation_error"),
        ({"translations": [{"locale": "en", "alt": "a"}, {"locale": "en", "alt": "b"}]}, "validation_error"),
        ({"translations": [{"locale": "en", "caption": "x"}]}, "validation_error"),
        ({"translations": [{"locale": "en", "alt": "x" * 1001}]}, "validation_error"),
        ({"translations": [{"locale": "en", "alt": "bell\u0007"}]}, "validation_error"),
        ({"alt": "no translations"}, "validation_error"),
    ],
    ids=["locale-not-enabled", "empty", "locale-twice", "unknown-field", "alt-too-long", "control", "flat"],
)
async def test_an_invalid_patch_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    event_recorder: EventRecorder,
    body: dict[str, object],
    code: str,
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    media = await upload_media(client, manager, alt="A red pixel")

    async with event_recorder.watch() as events:
        response = await client.patch(f"/api/media/{media['id']}", json=body, headers=manager)

    assert (response.status_code, response.json()["code"]) == (422, code)
    assert events.types == []
    assert (await client.get(f"/api/media/{media['id']}", headers=manager)).json() == media


async def test_only_editors_patch_media_and_another_tenants_item_is_a_404(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    other = await new_tenant(make_uow, "other")
    media = await upload_media(client, await login_as(client, app, acme, "manager"), alt="Mine")
    theirs = await upload_media(client, await login_as(client, app, other, "manager"), alt="Theirs")
    body = {"translations": [{"locale": "en", "alt": "Changed"}]}

    by_customer = await client.patch(
        f"/api/media/{media['id']}", json=body, headers=await login_as(client, app, acme, "customer")
    )
    by_anonymous = await client.patch(
        f"/api/media/{media['id']}", json=body, headers={"X-Tenant-ID": str(acme)}
    )
    across = await client.patch(
        f"/api/media/{theirs['id']}", json=body, headers=await login_as(client, app, acme, "admin")
    )

    assert (by_customer.status_code, by_anonymous.status_code) == (403, 401)
    assert (across.status_code, across.json()["code"]) == (404, "not_found")
    unchanged = await client.get(f"/api/media/{theirs['id']}", headers={"X-Tenant-ID": str(other)})
    assert unchanged.json()["alt"] == "Theirs"


# ------------------------------------------------------------------------------------------------ delete


async def test_a_delete_removes_the_item_and_then_its_file(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_uow: MakeUoW,
    settings: Settings,
    event_recorder: EventRecorder,
) -> None:
    acme = await new_tenant(make_uow, "acme")
    signed_in = await sign_in_as(client, app, acme, "manager")
    manager, manager_id = signed_in.headers, signed_in.user_id
    kept = await upload_media(client, manager, alt="Stays")
    media = await upload_media(client, manager, alt="Goes")

    async with event_recorder.watch() as events:
        deleted = await client.delete(f"/api/media/{media['id']}", headers=manager)

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert events.types == ["media.deleted"]
    assert events.one("media.deleted").payload.media_id == uuid.UUID(media["id"])
    assert events.one("media.deleted").actor_id == manager_id
    assert stored_files(settings) == [settings.effective_media_dir / str(acme) / kept["id"]]
    assert (await client.get(f"/api/media/{media['id']}", headers=manager)).status_code == 404
    assert (await client.get(media["url"], headers=manager)).status_code == 404
    again = await client.delete(f"/api/media/{media['id']}", headers=manager)
    assert (again.status_code, again.json()["code"]) == (404, "not_found")


# ---------------------------------------------------------------------------------- permissions, tenants


async def test_customers_get_403_and_anonymous_callers_401_for_changes(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, settings: Settings
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await login_as(client, app, acme, "manager")
    customer = await login_as(client, app, acme, "customer")
    anonymous = {"X-Tenant-ID": str(acme)}
    media = await upload_media(client, manager)

    by_customer = await post_media(client, customer)
    by_anonymous = await post_media(client, anonymous)
    deleted_by_customer = await client.delete(f"/api/media/{media['id']}", headers=customer)
    deleted_by_anonymous = await client.delete(f"/api/media/{media['id']}", headers=anonymous)
    read_by_customer = await client.get(f"/api/media/{media['id']}", headers=customer)

    assert (by_customer.status_code, by_customer.json()["code"]) == (403, "forbidden")
    assert (by_anonymous.status_code, by_anonymous.json()["code"]) == (401, "unauthorized")
    assert (deleted_by_customer.status_code, deleted_by_anonymous.status_code) == (403, 401)
    assert read_by_customer.status_code == 200
    assert stored_files(settings) == [settings.effective_media_dir / str(acme) / media["id"]]


async def test_another_tenants_media_is_a_404(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, settings: Settings
) -> None:
    acme = await new_tenant(make_uow, "acme")
    other = await new_tenant(make_uow, "other")
    theirs = await upload_media(client, await login_as(client, app, other, "manager"))
    admin = await login_as(client, app, acme, "admin")
    path = f"/api/media/{theirs['id']}"

    answers = [
        await client.get(path, headers=admin),
        await client.get(f"{path}/file", headers=admin),
        await client.get(f"{path}/file", headers={"X-Tenant-ID": str(acme)}),
        await client.delete(path, headers=admin),
    ]

    assert [r.status_code for r in answers] == [404, 404, 404, 404]
    assert {r.json()["code"] for r in answers} == {"not_found"}
    assert (await client.get("/api/media", headers=admin)).json()["items"] == []
    assert stored_files(settings) == [settings.effective_media_dir / str(other) / theirs["id"]]
