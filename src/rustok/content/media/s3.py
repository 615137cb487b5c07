"""The S3-compatible storage backend (AWS S3, MinIO, Cloudflare R2, ...), on obstore.

obstore (Python bindings of the Rust ``object_store`` crate) is async all the way down and typed: an upload
streams an async iterator of chunks (a multipart upload once it passes 5 MiB, aborted when the iterator
raises), a read is a ranged GET streamed in chunks, and it needs no botocore. Credentials come from the
settings when given (``RUSTOK_MEDIA_S3_ACCESS_KEY_ID``, ``RUSTOK_MEDIA_S3_SECRET_ACCESS_KEY``), else from the
standard AWS variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``,
``AWS_REGION``...), which obstore reads itself. Keys are checked as every backend checks them and stored under
``RUSTOK_MEDIA_S3_PREFIX``.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import TYPE_CHECKING, Any

from rustok.content.media.storage import READ_CHUNK_BYTES, StorageError, StoredFileMissing, check_key
from rustok.core.settings import Settings

try:
    import obstore
    from obstore.store import S3Store
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise RuntimeError("RUSTOK_MEDIA_STORAGE=s3 needs the s3 extra: pip install 'rustok[s3]'") from exc

if TYPE_CHECKING:
    from obstore import GetOptions
    from obstore.store import ClientConfig

DELETE_BATCH = 1000  # S3's DeleteObjects takes at most this many keys


class S3MediaStorage:
    """Files as objects of one bucket, one per key, under an optional prefix."""

    def __init__(self, store: S3Store, *, prefix: str = "", chunk_size: int = READ_CHUNK_BYTES) -> None:
        self.store = store
        self.prefix = check_key(prefix) + "/" if prefix else ""
        self.chunk_size = chunk_size

    @classmethod
    def from_settings(cls, settings: Settings) -> S3MediaStorage:
        assert settings.media_s3_bucket is not None  # the settings refuse s3 without a bucket
        config: dict[str, Any] = {}
        if settings.media_s3_endpoint_url is not None:
            config["endpoint"] = settings.media_s3_endpoint_url
            # A custom endpoint (MinIO, a local server) is addressed by path: no DNS name per bucket.
            config["virtual_hosted_style_request"] = False
        if settings.media_s3_region is not None:
            config["region"] = settings.media_s3_region
        if settings.media_s3_access_key_id is not None:
            config["access_key_id"] = settings.media_s3_access_key_id
        if settings.media_s3_secret_access_key is not None:
            config["secret_access_key"] = settings.media_s3_secret_access_key.get_secret_value()
        endpoint = settings.media_s3_endpoint_url or ""
        client_options: ClientConfig = {"allow_http": endpoint.startswith("http://")}
        store = S3Store(settings.media_s3_bucket, client_options=client_options, **config)
        return cls(store, prefix=settings.media_s3_prefix)

    def path_of(self, key: str) -> str:
        return self.prefix + check_key(key)

    async def write(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        path = self.path_of(key)
        written = 0

        async def counted() -> AsyncIterator[bytes]:
            nonlocal written
            async for chunk in chunks:
                if chunk:
                    written += len(chunk)
                    yield chunk

        # Until the upload completes, no object is visible under the key: a failed or cancelled write
        # leaves nothing there (an unfinished multipart upload's parts are the bucket's lifecycle rule's).
        await obstore.put_async(self.store, path, counted())
        return written

    async def open(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self.path_of(key)
        options: GetOptions = {}
        if end is not None:
            options["range"] = (start, end)
        elif start:
            options["range"] = {"offset": start}
        try:
            result = await obstore.get_async(self.store, path, options=options)
        except FileNotFoundError as exc:
            raise StoredFileMissing(key) from exc
        return self._chunks(result.stream(min_chunk_size=self.chunk_size))

    async def _chunks(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in stream:
            yield bytes(chunk)

    async def delete(self, key: str) -> bool:
        path = self.path_of(key)
        # S3 deletes silently whatever is there: a HEAD first tells whether there was something.
        existed = await self._size(path) is not None
        if existed:
            await obstore.delete_async(self.store, path)
        return existed

    async def delete_prefix(self, prefix: str) -> int:
        paths: list[str] = []
        async for batch in obstore.list(self.store, self.path_of(prefix) + "/", chunk_size=DELETE_BATCH):
            paths.extend(meta["path"] for meta in batch)
        for start in range(0, len(paths), DELETE_BATCH):
            await obstore.delete_async(self.store, paths[start : start + DELETE_BATCH])
        return len(paths)

    async def ready(self) -> None:
        """The bucket answers a listing (of at most one key under the prefix)."""
        stream = obstore.list(self.store, self.prefix or None, chunk_size=1)
        try:
            await anext(aiter(stream), None)
        except FileNotFoundError as exc:
            raise StorageError(f"the bucket does not exist: {exc}") from exc

    async def exists(self, key: str) -> bool:
        return await self.size(key) is not None

    async def size(self, key: str) -> int | None:
        return await self._size(self.path_of(key))

    async def _size(self, path: str) -> int | None:
        try:
            meta = await obstore.head_async(self.store, path)
        except FileNotFoundError:
            return None
        return int(meta["size"])
