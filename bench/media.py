"""Media benchmark: what a public file URL costs through the real app, an original and its renditions,
beside the app's bare endpoint measured in the same run, on SQLite with the local storage backend.

Run it::

    .venv/bin/python -m bench.media [--requests N] [--makes M]

A fresh SQLite database (a temporary file), migrated; one tenant and a manager who uploads a photo
(a JPEG of 1600 by 1200 pixels of noise, so that it does not compress to nothing: about 1.4 MB) through
``POST /api/media``. The app is the real one (``create_app``: middleware, tenant resolution from the path,
routers), started by ``app_client`` and called in process over ASGI by httpx, one request at a time,
anonymously and with no header, as ``<img src>`` asks.

Series (``--requests``, default 200, after a warm-up of ``WARMUP`` each):

- **bare**: ``GET /health/live``: the middleware stack, no tenant, no database, no storage;
- **original**: ``GET /media/{tenant}/{id}/{filename}``: the tenant resolved from the path (its cache warm),
  the item read, the whole file streamed from disk;
- **original, 304**: the same with ``If-None-Match`` naming its ETag: no storage read;
- **range**: the same with ``Range: bytes=0-65535``: 64 KiB read from the file;
- **rendition, stored**: ``?w=320&h=320&fit=cover&format=webp``, made before the series: a size check in
  storage and the stored rendition streamed.

And the cost of making one (``--makes``, default 10, each on an item uploaded for it, so each request makes
its rendition: the original read from storage, decoded, resized and encoded in a worker thread, stored):
**make webp 640**, **make avif 640**, **make jpeg 640** (``?w=640&format=...``, 640 by 480).

Latency is the client's (httpx and the ASGI transport included), p50 and p99 by nearest rank; ops/s is one
over the mean. Absolute figures are the machine's: the header prints its CPU and load.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import httpx
from PIL import Image

from bench.common import (
    app_settings,
    fresh_database,
    mean,
    migrated_runtime,
    percentile,
    print_machine,
    print_table,
)
from rustok.api.app import create_app
from rustok.core.logging import configure_logging
from rustok.testing.auth import login_as, new_tenant
from rustok.testing.http import app_client
from rustok.testing.media import upload_media

WARMUP = 20
WIDTH, HEIGHT = 1600, 1200


def photo() -> bytes:
    """A JPEG of noise (which keeps its size under compression, as a photo does)."""
    noise = random.Random(7).randbytes(WIDTH * HEIGHT * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (WIDTH, HEIGHT), noise).save(out, format="JPEG", quality=85)
    return out.getvalue()


async def timed(call: Callable[[], Awaitable[httpx.Response]], expected: int) -> float:
    start = time.perf_counter()
    response = await call()
    elapsed = time.perf_counter() - start
    if response.status_code != expected:
        raise RuntimeError(f"expected {expected}, got {response.status_code}: {response.text[:200]}")
    return elapsed


async def series(call: Callable[[], Awaitable[httpx.Response]], expected: int, requests: int) -> list[float]:
    for _ in range(WARMUP):
        await timed(call, expected)
    return [await timed(call, expected) for _ in range(requests)]


def row(name: str, latencies: list[float]) -> list[str]:
    return [
        name,
        str(len(latencies)),
        f"{1 / mean(latencies):,.0f}",
        f"{percentile(latencies, 0.50) * 1000:.2f}",
        f"{percentile(latencies, 0.99) * 1000:.2f}",
    ]


async def run(requests: int, makes: int) -> None:
    print_machine(
        "RusToK media bench: the public file URL, originals and renditions (SQLite, local storage)",
        [("Pillow", "pillow"), ("FastAPI", "fastapi"), ("httpx", "httpx")],
    )
    data = photo()
    print(f"  the photo: JPEG {WIDTH}x{HEIGHT}, {len(data):,} bytes")
    async with fresh_database("sqlite") as url:
        with tempfile.TemporaryDirectory(prefix="rustok-bench-media-") as media_dir:
            settings = app_settings(url, media_dir=Path(media_dir))
            async with migrated_runtime(settings) as runtime:
                app = create_app(runtime=runtime, configure_logs=False)
                async with app_client(app) as client:
                    acme = await new_tenant(runtime.uow, "bench-media")
                    manager = await login_as(client, app, acme, "manager")
                    media = await upload_media(client, manager, content=data, filename="photo.jpg")
                    url_of = media["url"]
                    etag = (await client.head(url_of)).headers["etag"]
                    rendition = f"{url_of}?w=320&h=320&fit=cover&format=webp"
                    await client.get(rendition)
                    rows = [
                        row("bare", await series(lambda: client.get("/health/live"), 200, requests)),
                        row("original", await series(lambda: client.get(url_of), 200, requests)),
                        row(
                            "original, 304",
                            await series(
                                lambda: client.get(url_of, headers={"If-None-Match": etag}), 304, requests
                            ),
                        ),
                        row(
                            "range (64 KiB)",
                            await series(
                                lambda: client.get(url_of, headers={"Range": "bytes=0-65535"}), 206, requests
                            ),
                        ),
                        row("rendition, stored", await series(lambda: client.get(rendition), 200, requests)),
                    ]
                    for image_format in ("webp", "avif", "jpeg"):
                        items = [
                            await upload_media(client, manager, content=data, filename="photo.jpg")
                            for _ in range(makes)
                        ]
                        paths = [f"{item['url']}?w=640&format={image_format}" for item in items]
                        latencies = [await timed(partial(client.get, path), 200) for path in paths]
                        rows.append(row(f"make {image_format} 640", latencies))
    print()
    print_table(["series", "requests", "ops/s", "p50 ms", "p99 ms"], rows, [False, True, True, True, True])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--makes", type=int, default=10)
    options = parser.parse_args()
    configure_logging("console", "WARNING")
    asyncio.run(run(options.requests, options.makes))


if __name__ == "__main__":
    main()
