"""The serving rules that need no I/O: which byte range a ``Range`` header asks of a file, which paths name
their tenant, and the public URL of an item."""

from __future__ import annotations

import uuid

import pytest

from rustok.content.media.serving import ByteRange, RangeNotSatisfiable, parse_range
from rustok.content.media.urls import public_url
from rustok.tenants.resolution import is_resolved_path, tenant_named_in_path

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", ByteRange(0, 100)),
        ("bytes=100-", ByteRange(100, SIZE)),
        ("bytes=-10", ByteRange(SIZE - 10, SIZE)),
        ("bytes=990-5000", ByteRange(990, SIZE)),
        (" Bytes = 5 - 9 ", ByteRange(5, 10)),
        ("bytes=999-999", ByteRange(999, SIZE)),
    ],
)
def test_one_range_is_read_as_a_half_open_interval_clipped_to_the_file(
    header: str, expected: ByteRange
) -> None:
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "bytes=0-",  # all of it
        "bytes=-1000",  # all of it
        "bytes=-5000",  # more than all of it: all of it
        "bytes=0-1,5-6",  # several: the whole file
        "bytes=9-5",  # backwards: invalid, ignored
        "bytes=a-b",
        "bytes=-",
        "bytes",
        "items=0-5",
        "bytes=0x10-",
    ],
)
def test_what_is_not_one_partial_range_serves_the_whole_file(header: str | None) -> None:
    assert parse_range(header, SIZE) is None


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1000-2000", "bytes=-0", "bytes=5000-"])
def test_a_range_past_the_end_is_unsatisfiable_and_names_the_size(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as refused:
        parse_range(header, SIZE)

    assert refused.value.status == 416
    assert refused.value.headers == {"Content-Range": f"bytes */{SIZE}"}


def test_a_content_range_names_the_last_byte_inclusively() -> None:
    assert ByteRange(0, 4).content_range(SIZE) == "bytes 0-3/1000"


@pytest.mark.parametrize(
    ("path", "tenant"),
    [
        ("/media/acme/0190/pixel.png", "acme"),
        ("/media/0190f6a8-7c1e-7d2a-9b3c-4d5e6f708192/x/y", "0190f6a8-7c1e-7d2a-9b3c-4d5e6f708192"),
        ("/media/acme", None),
        ("/media//x/y", None),
        ("/api/media/0190/file", None),
        ("/mediax/acme/1/2", None),
        ("/health/ready", None),
    ],
)
def test_only_public_media_paths_name_their_tenant(path: str, tenant: str | None) -> None:
    assert tenant_named_in_path(path) == tenant


def test_paths_that_name_their_tenant_are_not_resolved_from_the_request() -> None:
    # The header, host and default tenant are for /api/* alone (the OpenAPI document offers the header there)
    assert is_resolved_path("/api/media/0190/file")
    assert not is_resolved_path("/media/acme/0190/pixel.png")


def test_the_public_url_encodes_the_filename_as_one_segment() -> None:
    media_id = uuid.UUID(int=7)

    url = public_url("acme", media_id, "a b/c?d#é.png")

    assert url == f"/media/acme/{media_id}/a%20b%2Fc%3Fd%23%C3%A9.png"
