"""Where media bytes live: the `MediaStorage` interface, and its default, a local directory.

Keys are made by the server (`media_key`: ``<tenant_id>/<media_id>``), never from a client's filename, and
every backend refuses a key that is not a plain relative name (`check_key`): no ``..``, no absolute path, no
backslash, no empty segment. An S3-compatible backend implements the same five methods (a multipart upload
for `write`, a ranged or streamed GET for `open`).

The local backend writes atomically: the chunks go to a temporary file beside the target, which is synced and
then renamed over the key, so a reader never sees half a file and a failed or cancelled write leaves nothing.
All file I/O runs in worker threads (anyio), never on the event loop.
"""

from __future__ import annotations

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

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """The stored bytes as chunks; `StoredFileMissing` (raised here, before any chunk) when there are
        none. The iterator releases what it holds when exhausted or closed."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove the file under ``key``; whether there was one."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int | None:
        """The stored file's length in bytes, or None when there is none."""
        ...


def media_key(tenant_id: uuid.UUID, media_id: uuid.UUID) -> str:
    """The storage key of a media item: under its tenant, named by its id."""
    return f"{tenant_id}/{media_id}"


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

    async def open(self, key: str) -> AsyncIterator[bytes]:
        path = self.path_of(key)
        try:
            handle = await anyio.open_file(path, "rb")
        except FileNotFoundError as exc:
            raise StoredFileMissing(key) from exc
        return self._chunks(handle)

    async def _chunks(self, handle: anyio.AsyncFile[bytes]) -> AsyncIterator[bytes]:
        try:
            while chunk := await handle.read(self.chunk_size):
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

    async def exists(self, key: str) -> bool:
        return await self.size(key) is not None

    async def size(self, key: str) -> int | None:
        path = self.path_of(key)
        try:
            stat = await to_thread.run_sync(path.stat)
        except FileNotFoundError:
            return None
        return stat.st_size
