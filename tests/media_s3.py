"""A real S3 API for the media tests: moto's server mode, run from the virtualenv as a subprocess on a free
port (``python -m moto.server -p PORT``), with a bucket made over its HTTP API. No service to install: the
dev extra brings moto, so CI runs these tests as it runs the rest."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from rustok.core.settings import Settings

REGION = "us-east-1"
ACCESS_KEY_ID = "rustok-test"
SECRET_ACCESS_KEY = "rustok-test-secret"
START_ATTEMPTS = 300  # x 0.1 s: moto imports a lot before it listens


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str

    def settings_for(self, settings: Settings, *, bucket: str | None = None) -> Settings:
        """``settings`` with the media on this server's bucket, under a prefix of their own (a copy: the
        values are given as the validated settings hold them)."""
        update: dict[str, Any] = {
            "media_storage": "s3",
            "media_s3_bucket": bucket or self.bucket,
            "media_s3_endpoint_url": self.endpoint,
            "media_s3_region": REGION,
            "media_s3_access_key_id": ACCESS_KEY_ID,
            "media_s3_secret_access_key": SecretStr(SECRET_ACCESS_KEY),
            "media_s3_prefix": f"test-{uuid.uuid4().hex[:12]}",
        }
        return settings.model_copy(update=update)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def moto_server() -> Iterator[S3Server]:
    """Start moto's S3 server, make a bucket, yield both; stop the server afterwards."""
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(START_ATTEMPTS):
            if process.poll() is not None:
                raise RuntimeError(f"moto's server exited at start with status {process.returncode}")
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=1.0)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("moto's server did not start listening")
        bucket = "rustok-media-test"
        created = httpx.put(f"{endpoint}/{bucket}", timeout=10.0)
        created.raise_for_status()
        yield S3Server(endpoint, bucket)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
