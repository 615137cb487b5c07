"""The `MediaStorage` contract, held by every backend alike: the local directory and S3 (against moto's real
S3 API server, `tests.media_s3`). Streamed writes that are all or nothing, streamed and ranged reads,
deletes (one key, or every key under a prefix), sizes, and keys refused before any I/O."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from rustok.content.media.renditions import (
    Fit,
    Format,
    RenditionSpec,
    ensure_rendition,
    render,
    rendition_key,
)
from rustok.content.media.storage import (
    InvalidStorageKey,
    LocalMediaStorage,
    MediaStorage,
    StoredFileMissing,
    build_storage,
    rendition_prefix,
)
from rustok.content.models import Media
from rustok.core.errors import Unprocessable
from rustok.core.settings import Settings
from rustok.testing.media import image_bytes, png_header
from tests.media_s3 import S3Server, moto_server

CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    with moto_server() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> MediaStorage:
    """Each backend as the composition root builds it from the settings."""
    settings = Settings(_env_file=None, data_dir=tmp_path)
    if request.param == "s3":
        settings = request.getfixturevalue("s3_server").settings_for(settings)
    return build_storage(settings)


async def chunks_of(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read(storage: MediaStorage, key: str, *, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in await storage.open(key, start=start, end=end)])


class Refused(Exception):
    """What an upload's chunks raise part-way (a 413, a client gone)."""


async def failing_after(data: bytes) -> AsyncIterator[bytes]:
    yield data
    raise Refused


def test_the_settings_pick_the_backend(tmp_path: Path, s3_server: S3Server) -> None:
    local = build_storage(Settings(_env_file=None, data_dir=tmp_path))
    s3 = build_storage(s3_server.settings_for(Settings(_env_file=None)))

    assert isinstance(local, LocalMediaStorage)
    assert local.root == tmp_path / "media"
    assert type(s3).__name__ == "S3MediaStorage"


async def test_a_file_is_written_from_chunks_and_read_back_in_chunks(storage: MediaStorage) -> None:
    data = bytes(range(256)) * 1000  # 256 000 bytes: several read chunks

    written = await storage.write("tenant/item", chunks_of(data, 7000))
    chunks = [chunk async for chunk in await storage.open("tenant/item")]

    assert written == len(data)
    assert b"".join(chunks) == data
    assert len(chunks) > 1
    assert await storage.size("tenant/item") == len(data)
    assert await storage.exists("tenant/item")


async def test_a_range_is_read_without_the_rest(storage: MediaStorage) -> None:
    data = bytes(range(256)) * 10
    await storage.write("tenant/item", chunks_of(data))

    assert await read(storage, "tenant/item", start=0, end=4) == data[:4]
    assert await read(storage, "tenant/item", start=100, end=2000) == data[100:2000]
    assert await read(storage, "tenant/item", start=2500) == data[2500:]
    assert await read(storage, "tenant/item", start=len(data) - 1, end=len(data)) == data[-1:]


async def test_a_write_replaces_what_was_there(storage: MediaStorage) -> None:
    await storage.write("tenant/item", chunks_of(b"first version"))
    await storage.write("tenant/item", chunks_of(b"second"))

    assert await read(storage, "tenant/item") == b"second"
    assert await storage.size("tenant/item") == len(b"second")


async def test_a_write_whose_chunks_fail_leaves_nothing_and_raises_their_error(storage: MediaStorage) -> None:
    with pytest.raises(Refused):
        await storage.write("tenant/item", failing_after(b"half a file"))

    assert not await storage.exists("tenant/item")
    with pytest.raises(StoredFileMissing):
        await storage.open("tenant/item")


async def test_a_missing_file_is_missing_everywhere(storage: MediaStorage) -> None:
    with pytest.raises(StoredFileMissing):
        await storage.open("tenant/nothing")

    assert await storage.size("tenant/nothing") is None
    assert not await storage.exists("tenant/nothing")
    assert await storage.delete("tenant/nothing") is False


async def test_a_delete_removes_one_file_and_says_whether_there_was_one(storage: MediaStorage) -> None:
    await storage.write("tenant/gone", chunks_of(b"bytes"))
    await storage.write("tenant/kept", chunks_of(b"bytes"))

    assert await storage.delete("tenant/gone") is True
    assert await storage.delete("tenant/gone") is False
    assert not await storage.exists("tenant/gone")
    assert await storage.exists("tenant/kept")


async def test_a_prefix_delete_removes_what_is_under_it_and_nothing_beside(storage: MediaStorage) -> None:
    tenant, media, neighbour = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    prefix = rendition_prefix(tenant, media)
    for name in ("160x0-inside.webp", "320x320-cover.avif", "1600x1600-inside.png"):
        await storage.write(f"{prefix}/{name}", chunks_of(b"rendition"))
    await storage.write(f"{rendition_prefix(tenant, neighbour)}/160x0-inside.webp", chunks_of(b"other"))
    await storage.write(f"{tenant}/{media}", chunks_of(b"the original"))

    removed = await storage.delete_prefix(prefix)

    assert removed == 3
    assert not await storage.exists(f"{prefix}/160x0-inside.webp")
    assert await storage.exists(f"{rendition_prefix(tenant, neighbour)}/160x0-inside.webp")
    assert await storage.exists(f"{tenant}/{media}")
    assert await storage.delete_prefix(prefix) == 0


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "a//b", "a\\b", ".hidden/x", "", "a/../b"])
async def test_a_key_that_is_not_a_plain_relative_name_is_refused(storage: MediaStorage, key: str) -> None:
    with pytest.raises(InvalidStorageKey):
        await storage.write(key, chunks_of(b"x"))
    with pytest.raises(InvalidStorageKey):
        await storage.open(key)
    with pytest.raises(InvalidStorageKey):
        await storage.delete(key)


async def test_the_backend_is_ready(storage: MediaStorage) -> None:
    await storage.ready()


async def test_a_bucket_that_does_not_exist_is_not_ready(s3_server: S3Server) -> None:
    storage = build_storage(s3_server.settings_for(Settings(_env_file=None), bucket="no-such-bucket"))

    with pytest.raises(Exception, match=r"(?i)bucket|404|not ?found"):
        await storage.ready()


# ------------------------------------------------------------------------------------------- renditions


class CountingStorage:
    """A backend that counts the writes it is asked for, passing everything to the real one."""

    def __init__(self, inner: MediaStorage) -> None:
        self.inner = inner
        self.writes: list[str] = []

    async def write(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        self.writes.append(key)
        return await self.inner.write(key, chunks)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


async def test_concurrent_first_requests_for_a_rendition_make_it_once(storage: MediaStorage) -> None:
    # Given a stored JPEG of 400 by 300 and a storage that counts its writes
    tenant_id, media_id = uuid.uuid4(), uuid.uuid4()
    original = image_bytes(400, 300, image_format="JPEG")
    media = Media(
        id=media_id,
        tenant_id=tenant_id,
        filename="photo.jpg",
        mime_type="image/jpeg",
        size=len(original),
        width=400,
        height=300,
        storage_key=f"{tenant_id}/{media_id}",
        sha256="0" * 64,
    )
    await storage.write(media.storage_key, chunks_of(original))
    counting = CountingStorage(storage)
    spec = RenditionSpec(160, 160, Fit.COVER, Format.WEBP)

    # When five callers ask for the same rendition at once, and then one more
    sizes = await asyncio.gather(*(ensure_rendition(counting, media, spec) for _ in range(5)))  # type: ignore[arg-type]
    later = await ensure_rendition(counting, media, spec)  # type: ignore[arg-type]

    # Then it was rendered and written once, and every caller got its size
    key = rendition_key(media, spec)
    assert counting.writes == [key]
    assert set(sizes) == {later} == {await storage.size(key)}


def test_a_rendition_of_a_decompression_bomb_is_refused_before_decoding() -> None:
    # Uploads refuse such images already; the renderer holds the same line on whatever storage gives it
    bomb = io.BytesIO(png_header(20_000, 20_000))

    with pytest.raises(Unprocessable) as refused:
        render(bomb, "PNG", RenditionSpec(160, None, Fit.INSIDE, Format.WEBP))

    assert refused.value.problem_code == "image_too_large"


def test_bytes_that_are_not_the_sniffed_format_are_not_decoded_as_another() -> None:
    # A GIF's bytes under a row that says PNG: only the PNG decoder is tried
    gif = io.BytesIO(image_bytes(20, 20, image_format="GIF"))

    with pytest.raises(Unprocessable) as refused:
        render(gif, "PNG", RenditionSpec(160, None, Fit.INSIDE, Format.WEBP))

    assert refused.value.problem_code == "rendition_unsupported"
