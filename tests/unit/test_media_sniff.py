"""Sniffing a file's type from its bytes, and the rules for serving it (rustok.content.media.sniff), plus the
storage key check. Pure functions: no I/O."""

from __future__ import annotations

import io
import zipfile

import pytest

from rustok.content.media.sniff import (
    HEAD_BYTES,
    ImageTooLarge,
    Sniffed,
    content_disposition,
    etag_matches,
    inline_allowed,
    safe_filename,
    served_content_type,
    sniff,
)
from rustok.content.media.storage import InvalidStorageKey, check_key
from rustok.testing.media import PNG_BYTES, image_bytes, png_header

# ------------------------------------------------------------------------------------------------ images


@pytest.mark.parametrize(
    ("image_format", "mime_type"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
        ("ICO", "image/x-icon"),
    ],
)
def test_raster_images_are_recognised_and_measured(image_format: str, mime_type: str) -> None:
    assert sniff(image_bytes(5, 3, image_format=image_format)) == Sniffed(mime_type, width=5, height=3)


def test_a_large_image_is_measured_from_its_head_alone() -> None:
    head = png_header(640, 480)

    assert sniff(head, size=10_000_000) == Sniffed("image/png", width=640, height=480)


def test_a_complete_image_that_fails_verification_is_not_an_image() -> None:
    broken = bytearray(PNG_BYTES)
    broken[PNG_BYTES.index(b"IDAT") + 6] ^= 0xFF  # a byte of the pixel data, under an unchanged checksum

    assert sniff(bytes(broken)) == Sniffed("application/octet-stream")
    assert sniff(bytes(broken), size=len(broken) + 1) == Sniffed("image/png", width=2, height=1), (
        "a head is only parsed"
    )


def test_an_image_signature_followed_by_garbage_is_not_an_image() -> None:
    assert sniff(b"\x89PNG\r\n\x1a\n" + b"\x00\xff" * 100) == Sniffed("application/octet-stream")


@pytest.mark.parametrize(("width", "height"), [(10_000, 10_000), (20_000, 20_000)], ids=["warning", "error"])
def test_a_decompression_bomb_is_refused_without_a_warning_escaping(width: int, height: int) -> None:
    # pytest turns warnings into errors: a DecompressionBombWarning that escaped would fail this test.
    with pytest.raises(ImageTooLarge):
        sniff(png_header(width, height), size=50_000_000)


# -------------------------------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html><head></head><body>Hi</body></html>",
        b"<HTML><BODY>shouting</BODY></HTML>",
        b"Dear reader,\n\nplease run <script>alert(1)</script> for me.",
        b"  \n<!-- a comment first -->\n<p>paragraph</p>",
        b"<div><svg onload=alert(1)></svg></div>",
        b"\xef\xbb\xbf<iframe src=x>",
        b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'><svg/></html>",
    ],
)
def test_text_with_html_a_browser_would_act_on_is_html(content: bytes) -> None:
    assert sniff(content) == Sniffed("text/html")


@pytest.mark.parametrize(
    "content",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>',
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- made by hand -->\n<!DOCTYPE svg>\n<svg>\n</svg>',
        b"<SVG><script>alert(1)</script></SVG>",
    ],
)
def test_markup_with_an_svg_root_is_svg(content: bytes) -> None:
    assert sniff(content) == Sniffed("image/svg+xml")


@pytest.mark.parametrize(
    "content",
    [
        b"just some notes\n",
        "Grüße, 你好 🙂\n".encode(),
        b'{"json": [1, 2, 3]}',
        b"<?xml version='1.0'?><catalog><item/></catalog>",
        b"a, b, c\n1, 2, 3\n",
        b"BM is not a bitmap when it is text",
        b"ID3 is not an mp3 when it is text",
        b"MZ is not a program when it is text",
        b"\xef\xbb\xbfwith a byte order mark",
        b"<?pi" * 50_000,
        b"<?x?>" * 50_000 + b"<root/>",
        b"",
    ],
)
def test_other_utf8_text_is_plain_text(content: bytes) -> None:
    assert sniff(content) == Sniffed("text/plain")


def test_a_character_cut_by_the_end_of_the_head_is_still_text() -> None:
    head = ("é" * HEAD_BYTES).encode()[: HEAD_BYTES - 1]  # ends with half a character

    assert sniff(head, size=HEAD_BYTES * 4) == Sniffed("text/plain")
    assert sniff(head) == Sniffed("application/octet-stream"), "a whole file may not end mid-character"


@pytest.mark.parametrize(
    "content",
    [
        b"nul\x00inside",
        b"\x00\x01\x02\x03",
        b"\xfe\xfd not utf-8",
        "latin-1: café".encode("latin-1"),
        "<html><script>alert(1)</script></html>".encode("utf-16"),  # puremagic: text/plain, by its BOM
    ],
)
def test_bytes_that_are_not_text_and_match_no_signature_are_octet_stream(content: bytes) -> None:
    assert sniff(content) == Sniffed("application/octet-stream")


def test_binary_formats_keep_the_type_puremagic_gives() -> None:
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("notes.txt", "hello")

    assert sniff(pdf) == Sniffed("application/pdf")
    # puremagic ranks zip, docx, jar and the like equally: the generic container is the honest answer.
    assert sniff(archive.getvalue()) == Sniffed("application/zip")


# ----------------------------------------------------------------------------------------- serving rules


@pytest.mark.parametrize("mime_type", ["image/png", "image/jpeg", "image/gif", "image/webp", "video/mp4"])
def test_raster_images_and_media_are_inline(mime_type: str) -> None:
    assert inline_allowed(mime_type)


@pytest.mark.parametrize(
    "mime_type",
    [
        "text/html",
        "image/svg+xml",
        "application/xml",
        "text/xml",
        "text/plain",
        "application/pdf",
        "application/javascript",
        "application/octet-stream",
        "image/bmp",
    ],
)
def test_everything_else_is_an_attachment(mime_type: str) -> None:
    assert not inline_allowed(mime_type)


@pytest.mark.parametrize(
    ("name", "inline", "expected"),
    [
        ("pixel.png", True, "inline; filename=\"pixel.png\"; filename*=UTF-8''pixel.png"),
        ("page.html", False, "attachment; filename=\"page.html\"; filename*=UTF-8''page.html"),
        (
            "naïve café.png",
            True,
            "inline; filename=\"naive cafe.png\"; filename*=UTF-8''na%C3%AFve%20caf%C3%A9.png",
        ),
        (
            'a"b\\c;d%e.txt',
            False,
            "attachment; filename=\"a_b_c_d_e.txt\"; filename*=UTF-8''a%22b%5Cc%3Bd%25e.txt",
        ),
        ("写真.jpg", True, "inline; filename=\".jpg\"; filename*=UTF-8''%E5%86%99%E7%9C%9F.jpg"),
        ("猫", False, "attachment; filename=\"upload\"; filename*=UTF-8''%E7%8C%AB"),
    ],
)
def test_the_content_disposition_carries_an_ascii_fallback_and_the_exact_name(
    name: str, inline: bool, expected: str
) -> None:
    assert content_disposition(name, inline=inline) == expected


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("photo.jpg", "photo.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
        ("/abs/path/", "upload"),
        ("..", "upload"),
        ("...", "upload"),
        ("", "upload"),
        (None, "upload"),
        ("  spaced  .png ", "spaced  .png"),
        ("tab\there\nnew\x00line\x7f.txt", "tabherenewline.txt"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("zero\u200bwidth.png", "zerowidth.png"),
        ("e\u0301.png", "é.png"),
        ("x" * 300 + ".png", "x" * 255),
    ],
)
def test_filenames_are_reduced_to_their_last_component_without_control_characters(
    sent: str | None, kept: str
) -> None:
    assert safe_filename(sent) == kept


def test_text_is_served_as_utf8() -> None:
    assert served_content_type("text/plain") == "text/plain; charset=utf-8"
    assert served_content_type("text/html") == "text/html; charset=utf-8"
    assert served_content_type("image/png") == "image/png"


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ("*", True),
        ('"abcd"', False),
        ("abc", False),
        ("", False),
        (None, False),
    ],
)
def test_if_none_match_is_compared_weakly(header: str | None, matches: bool) -> None:
    assert etag_matches(header, '"abc"') is matches


# ------------------------------------------------------------------------------------------ storage keys


@pytest.mark.parametrize(
    "key",
    ["0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c", "plain", "a/b.c_d-e"],
)
def test_plain_relative_keys_are_accepted(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../etc/passwd",
        "a/../../b",
        "/absolute",
        "a//b",
        "a/",
        "a\\b",
        ".hidden",
        "a/.part",
        "C:evil",
        "a b",
        "/".join(["a"] * 9),
        "x" * 129,
    ],
)
def test_keys_that_could_leave_the_root_or_hide_are_refused(key: str) -> None:
    with pytest.raises(InvalidStorageKey):
        check_key(key)
