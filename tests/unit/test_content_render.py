"""Bodies to safe HTML (`rustok.content.render`) and slugs from titles (`rustok.core.slugs`): pure
functions, no database. The HTTP tests (tests/e2e/test_content_nodes.py) check that the API serves what
these return."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from rustok.content.models import BodyFormat
from rustok.content.render import render, sanitize
from rustok.core import slugs

LINK_REL = 'rel="noopener noreferrer nofollow"'
SLUG = TypeAdapter(slugs.Slug)

# ------------------------------------------------------------------------------------------- markdown


def test_markdown_is_rendered_to_html() -> None:
    """Given CommonMark with a heading, emphasis and a list, when rendered, then it is HTML."""
    html = render("# Title\n\nSome *emphasis* and **strong**.\n\n- one\n- two\n", BodyFormat.MARKDOWN)

    assert "<h1>Title</h1>" in html
    assert "<em>emphasis</em>" in html
    assert "<strong>strong</strong>" in html
    assert "<li>one</li>" in html


def test_markdown_tables_and_strikethrough_are_enabled() -> None:
    """Given a GFM table and ``~~strikethrough~~``, when rendered, then both are HTML, not text."""
    html = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~", BodyFormat.MARKDOWN)

    assert "<table>" in html
    assert "<td>1</td>" in html
    assert "<s>gone</s>" in html


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "before\n\n<script>alert(1)</script>\n\nafter",
        "inline <script>alert(1)</script> script",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    ],
)
def test_a_script_in_markdown_never_reaches_the_html(markdown: str) -> None:
    """Given markdown carrying raw ``<script>`` HTML, when rendered, then no script element survives."""
    html = render(markdown, BodyFormat.MARKDOWN)

    assert "<script" not in html.lower()
    assert "alert(1)</script" not in html.lower()


@pytest.mark.parametrize(
    ("markdown", "handler"),
    [
        ('<img src="https://example.com/a.png" onerror="alert(1)">', "onerror"),
        ('<a href="https://example.com" onclick="steal()">x</a>', "onclick"),
        ('<p onmouseover="alert(1)">hover</p>', "onmouseover"),
    ],
)
def test_event_handler_attributes_are_stripped(markdown: str, handler: str) -> None:
    """Given raw HTML with an ``on*`` handler inside markdown, when rendered, then the handler is gone
    and the element stays."""
    html = render(markdown, BodyFormat.MARKDOWN)

    assert handler not in html
    assert "alert(1)" not in html
    assert "steal()" not in html


@pytest.mark.parametrize(
    "markdown",
    [
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        '<a href="JaVaScRiPt:alert(1)">click</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">click</a>',
        '<a href="vbscript:msgbox(1)">click</a>',
    ],
)
def test_links_with_unsafe_schemes_lose_their_url(markdown: str) -> None:
    """Given a link to a ``javascript:`` (or ``data:``, ``vbscript:``) URL, when rendered, then no
    ``href`` carries that URL."""
    html = render(markdown, BodyFormat.MARKDOWN).lower()

    assert 'href="javascript' not in html
    assert 'href="data' not in html
    assert 'href="vbscript' not in html


@pytest.mark.parametrize(
    ("markdown", "href"),
    [
        ("[site](https://example.com/page)", "https://example.com/page"),
        ("[site](http://example.com)", "http://example.com"),
        ("[mail](mailto:ada@example.com)", "mailto:ada@example.com"),
        ("[relative](/blog/hello)", "/blog/hello"),
    ],
)
def test_safe_links_keep_their_url_and_get_rel_noopener(markdown: str, href: str) -> None:
    """Given a link with an allowed scheme (or a relative one), when rendered, then it keeps its URL and
    carries ``rel="noopener noreferrer nofollow"``."""
    html = render(markdown, BodyFormat.MARKDOWN)

    assert f'href="{href}"' in html
    assert LINK_REL in html


def test_a_rel_given_by_the_author_is_replaced() -> None:
    """Given a link whose author set ``rel="opener"``, when rendered, then the sanitizer's rel wins."""
    html = render('<a href="https://example.com" rel="opener" target="_blank">x</a>', BodyFormat.HTML)

    assert "opener" not in html.replace("noopener", "")
    assert LINK_REL in html


@pytest.mark.parametrize(
    "markup",
    [
        '<iframe src="https://example.com"></iframe>',
        "<style>body { display: none }</style>",
        '<form action="https://evil.example"><input name="password"></form>',
        '<object data="x.swf"></object>',
        '<embed src="x.swf">',
    ],
)
def test_dangerous_elements_are_removed(markup: str) -> None:
    """Given iframes, styles, forms and plugins, when rendered, then none of those elements remain."""
    html = render(markup, BodyFormat.MARKDOWN).lower()

    for element in ("<iframe", "<style", "<form", "<input", "<object", "<embed"):
        assert element not in html


def test_style_attributes_are_removed() -> None:
    """Given an inline style, when rendered, then the element stays without it."""
    html = render('<p style="position:fixed;top:0">hi</p>', BodyFormat.HTML)

    assert html == "<p>hi</p>"


def test_images_keep_safe_sources_only() -> None:
    """Given an image with an https source and one with a ``data:`` source, when rendered, then only the
    https source is kept."""
    html = render("![ok](https://example.com/a.png) ![bad](data:image/png;base64,AAAA)", BodyFormat.MARKDOWN)

    assert 'src="https://example.com/a.png"' in html
    assert "data:" not in html


# ------------------------------------------------------------------------------------------- html, plain


def test_an_html_body_is_sanitized_too() -> None:
    """Given a body in the ``html`` format, when rendered, then it is kept as HTML but sanitized."""
    html = render(
        '<p onclick="x()">Hello <b>there</b></p><script>alert(1)</script><a href="javascript:x()">l</a>',
        BodyFormat.HTML,
    )

    assert "<p>Hello <b>there</b></p>" in html
    assert "<script" not in html
    assert "onclick" not in html
    assert "javascript" not in html


def test_an_html_body_is_not_rendered_as_markdown() -> None:
    """Given markdown syntax in an ``html`` body, when rendered, then it stays literal text."""
    assert render("# not a heading", BodyFormat.HTML) == "# not a heading"


def test_a_plain_body_is_escaped() -> None:
    """Given a plain body with markup in it, when rendered, then the markup is shown, not interpreted."""
    html = render('<script>alert("x")</script> & <b>bold</b>', BodyFormat.PLAIN)

    assert html == ("<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;</p>")


def test_plain_blank_lines_make_paragraphs_and_line_breaks_br() -> None:
    """Given plain text with a line break and blank lines (also CRLF), when rendered, then paragraphs
    and ``<br>``."""
    html = render("first line\nsecond line\n\n\nnext paragraph\r\n\r\nlast", BodyFormat.PLAIN)

    assert html == "<p>first line<br>second line</p><p>next paragraph</p><p>last</p>"


def test_a_plain_body_is_not_rendered_as_markdown() -> None:
    assert render("**not bold**", BodyFormat.PLAIN) == "<p>**not bold**</p>"


@pytest.mark.parametrize("format_", list(BodyFormat))
def test_an_empty_body_renders_to_nothing(format_: BodyFormat) -> None:
    assert render("", format_) == ""


def test_sanitize_is_idempotent() -> None:
    """Given sanitized HTML, when sanitized again, then nothing changes (what is stored is stable)."""
    once = sanitize('<a href="https://example.com" onclick="x">a</a><img src="x" onerror="y"><p>t</p>')

    assert sanitize(once) == once


# ------------------------------------------------------------------------------------------------ slugs


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Hello World!", "hello-world"),
        ("Привет, мир", "privet-mir"),
        ("Ça va", "ca-va"),
        ("Grüße aus Köln", "grusse-aus-koln"),
        ("  Spaces   everywhere  ", "spaces-everywhere"),
        ("C++ & C#", "c-c"),
        ("2026: the year", "2026-the-year"),
    ],
)
def test_a_slug_is_made_from_the_title_in_ascii(title: str, slug: str) -> None:
    """Given a title in any script, when a slug is made, then it is transliterated, lower case,
    hyphen-separated."""
    assert slugs.from_title(title) == slug


@pytest.mark.parametrize("title", ["!!!", "   ", "---", "…"])
def test_a_title_without_letters_or_digits_becomes_untitled(title: str) -> None:
    assert slugs.from_title(title) == slugs.FALLBACK == "untitled"


def test_a_generated_slug_is_at_most_200_characters_and_cut_at_a_word() -> None:
    """Given a title far longer than a slug may be, when a slug is made, then it fits and does not end
    in a cut word or a hyphen."""
    slug = slugs.from_title("word " * 100)

    assert len(slug) <= slugs.MAX_LENGTH
    assert slug.endswith("word")
    assert not slug.endswith("-")


@pytest.mark.parametrize(
    "title", ["Hello World!", "Привет, мир", "日本語のタイトル", "x" * 600, "A_b c", "«Quoted»"]
)
def test_a_generated_slug_is_a_valid_given_slug(title: str) -> None:
    """Given any title, when a slug is made, then a client could have given it (it passes `Slug`)."""
    assert SLUG.validate_python(slugs.from_title(title)) == slugs.from_title(title)


def test_the_first_free_slug_is_the_base_when_free() -> None:
    assert slugs.first_free("hello", set()) == "hello"
    assert slugs.first_free("hello", {"hello-2", "hello-world"}) == "hello"


def test_the_first_free_slug_takes_the_first_free_suffix_from_2() -> None:
    """Given the base and some suffixes taken, when a slug is picked, then it is the first gap."""
    assert slugs.first_free("hello", {"hello"}) == "hello-2"
    assert slugs.first_free("hello", {"hello", "hello-2", "hello-3"}) == "hello-4"
    assert slugs.first_free("hello", {"hello", "hello-3"}) == "hello-2"
    assert slugs.first_free("hello", {"hello", "hello-world"}) == "hello-2"


def test_a_numbered_slug_is_shortened_to_fit() -> None:
    """Given a base of the maximal length, when numbered, then the base is cut so the whole fits, with
    no doubled hyphen."""
    base = "a" * slugs.MAX_LENGTH
    cut_at_hyphen = "b" * (slugs.MAX_LENGTH - 3) + "-cc"

    assert slugs.numbered(base, 12) == "a" * (slugs.MAX_LENGTH - 3) + "-12"
    assert len(slugs.numbered(base, 12)) == slugs.MAX_LENGTH
    assert slugs.numbered(cut_at_hyphen, 2) == "b" * (slugs.MAX_LENGTH - 3) + "-2"


def test_first_free_on_a_long_base_stays_within_the_limit() -> None:
    base = "a" * slugs.MAX_LENGTH
    taken = {base, slugs.numbered(base, 2)}

    picked = slugs.first_free(base, taken)

    assert picked == slugs.numbered(base, 3)
    assert len(picked) <= slugs.MAX_LENGTH


@pytest.mark.parametrize("slug", ["hello", "hello-world", "2026", "привет-мир", "a-1-b"])
def test_a_given_slug_may_be_lower_case_words_in_any_script(slug: str) -> None:
    assert SLUG.validate_python(slug) == slug


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "Hello",
        "ПРИВЕТ",
        "hello world",
        "hello--world",
        "-hello",
        "hello-",
        "hello_world",
        "a/b",
        "x" * 201,
    ],
)
def test_a_given_slug_that_is_not_lower_case_hyphenated_words_is_refused(slug: str) -> None:
    with pytest.raises(ValidationError):
        SLUG.validate_python(slug)
