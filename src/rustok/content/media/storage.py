"""Where media bytes live: the `MediaStorage` interface, and its default, a local directory.

Keys are made by the server (`media_key`: ``<tenant_id>/<media_id>``; `rendition_prefix` for an item's
renditions), never from a client's filename, and every backend refuses a key that is not a plain relative
name (`check_key`): no ``..``, no absolute path, no backslash, no empty segment. The S3-compatible backend
(`rustok.content.media.s3.S3MediaStorage`) implements the same methods; `build_storage` picks one from the
settings (the composition root calls it).

The local backend writes atomically: the chunks go to a temporary file beside the target, which is synced and
then renamed over the key, so a reader never sees half a file and a failed or cancelled write leaves nothing.
All file I/O runs in worker threads (anyio), never on the event loop.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from functools import partial
from pathlib import Path
from typing import Protocol

import anyio
from anyio import to_thread

from rustok.core.settings import Settings

READ_CHUNK_BYTES = 64 * 1024
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_MAX_SEGMENTS = 8


class StorageError(Exception):
    """A storage backend could not do what was asked."""


class InvalidStorageKey(StorageError, ValueError):
    """A key that is not a plain relative name."""


class StoredFileMissing(StorageError, LookupError):
    """No file is stored under the key."""


class MediaStorage(Protocol):
    async def write(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the bytes ``chunks`` yields under ``key``, replacing what was there; the number of bytes.
        All or nothing: when ``chunks`` raises (or the task is cancelled), nothing is left under ``key``
        and the exception propagates."""
        ...

    async def open(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The stored bytes from ``start`` up to ``end`` (exclusive; None: the end of the file) as chunks;
        `StoredFileMissing` (raised here, before any chunk) when there are none. The caller asks for a range
        inside the file (it knows the size). The iterator releases what it holds when exhausted or closed."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove the file under ``key``; whether there was one."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every file whose key starts with ``prefix/``; how many there were."""
        ...

    async def ready(self) -> None:
        """Raise when the backend cannot be reached (the readiness check of ``/health/ready``)."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int | None:
        """The stored file's length in bytes, or None when there is none."""
        ...


def media_key(tenant_id: uuid.UUID, media_id: uuid.UUID) -> str:
    """The storage key of a media item: under its tenant, named by its id."""
    return f"{tenant_id}/{media_id}"


def rendition_prefix(tenant_id: uuid.UUID, media_id: uuid.UUID) -> str:
    """Where a media item's renditions are stored: ``<tenant_id>/renditions/<media_id>``, beside (never
    under) the item's own key, so that one prefix deletion removes them all."""
    return f"{tenant_id}/renditions/{media_id}"


def check_key(key: str) -> str:
    """``key`` when it is a plain relative name of at most eight segments (letters, digits, ``.``, ``_``,
    ``-``; none starting with a dot); `InvalidStorageKey` otherwise."""
    segments = key.split("/")
    if len(segments) > _MAX_SEGMENTS or not all(_SEGMENT.match(segment) for segment in segments):
        raise InvalidStorageKey(f"not a valid storage key: {key!r}")
    return key


class LocalMediaStorage:
    """Files under a root directory (``RUSTOK_MEDIA_DIR``, by default ``<data_dir>/media``), one per key."""

    def __init__(self, root: Path, *, chunk_size: int = READ_CHUNK_BYTES) -> None:
        self.root = root
        self.chunk_size = chunk_size

    def path_of(self, key: str) -> Path:
        """The file of ``key``: inside the root, since a checked key has no ``..``, root or drive."""
        return self.root.joinpath(*check_key(key).split("/"))

    async def write(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        target = self.path_of(key)
        await to_thread.run_sync(partial(target.parent.mkdir, parents=True, exist_ok=True))
        # A dot name: no key can be one, so a temporary file never collides with a stored file.
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.part")
        written = 0
        try:
            async with await anyio.open_file(temporary, "xb") as out:
                async for chunk in chunks:
                    if chunk:
                        await out.write(chunk)
                        written += len(chunk)
                await out.flush()
                await to_thread.run_sync(os.fsync, out.wrapped.fileno())
            await to_thread.run_sync(os.replace, temporary, target)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await to_thread.run_sync(partial(temporary.unlink, missing_ok=True))
            raise
        return written

    async def open(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self.path_of(key)
        try:
            handle = await anyio.open_file(path, "rb")
        except FileNotFoundError as exc:
            raise StoredFileMissing(key) from exc
        if start:
            await handle.seek(start)
        return self._chunks(handle, None if end is None else end - start)

    async def _chunks(self, handle: anyio.AsyncFile[bytes], remaining: int | None) -> AsyncIterator[bytes]:
        try:
            while remaining is None or remaining > 0:
                wanted = self.chunk_size if remaining is None else min(self.chunk_size, remaining)
                chunk = await handle.read(wanted)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            with anyio.CancelScope(shield=True):
                await handle.aclose()

    async def delete(self, key: str) -> bool:
        path = self.path_of(key)
        try:
            await to_thread.run_sync(path.unlink)
        except FileNotFoundError:
            return False
        return True

    async def delete_prefix(self, prefix: str) -> int:
        directory = self.path_of(prefix)
        return await to_thread.run_sync(_remove_tree, directory)

    async def ready(self) -> None:
        """The local directory needs no service; a missing one is created by the first write."""

    async def exists(self, key: str) -> bool:
        return await self.size(key) is not None

    async def size(self, key: str) -> int | None:
        path = self.path_of(key)
        try:
            stat = await to_thread.run_sync(path.stat)
        except FileNotFoundError:
            return None
        return stat.st_size


def _remove_tree(directory: Path) -> int:
    """Remove the files under ``directory`` and then the emptied directories; how many files there were."""
    if not directory.is_dir():
        return 0
    removed = 0
    for root, dirs, files in os.walk(directory, topdown=False):
        for name in files:
            Path(root, name).unlink(missing_ok=True)
            removed += 0 if name.startswith(".") else 1  # a temporary file is no stored file
        for name in dirs:
            with contextlib.suppress(OSError):  # a file written meanwhile keeps its directory
                Path(root, name).rmdir()
    with contextlib.suppress(OSError):
        directory.rmdir()
    return removed


def build_storage(settings: Settings) -> MediaStorage:
    """The storage backend the settings name (``RUSTOK_MEDIA_STORAGE``): the local directory, or S3."""
    if settings.media_storage == "s3":
        from rustok.content.media.s3 import S3MediaStorage

        return S3MediaStorage.from_settings(settings)
    return LocalMediaStorage(settings.effective_media_dir)
