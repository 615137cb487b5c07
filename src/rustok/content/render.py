"""Bodies to HTML: markdown rendered with markdown-it-py (CommonMark, plus tables and strikethrough), and
every piece of HTML, rendered or given, sanitized with nh3 (the Rust ammonia sanitizer).

The sanitizer keeps an allow-list of tags and attributes: no ``<script>``, ``<style>``, ``<iframe>`` or
forms, no ``on*`` event handlers, no ``style`` attributes; links and images only with ``http``, ``https`` or
``mailto`` URLs (or relative ones), and every link gets ``rel="noopener noreferrer nofollow"``. Plain text
is escaped, its blank lines make paragraphs and its line breaks ``<br>``.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

from rustok.content.models import BodyFormat

_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_URL_SCHEMES = {"http", "https", "mailto"}
_LINK_REL = "noopener noreferrer nofollow"
_PARAGRAPHS = re.compile(r"\n\s*\n")


def sanitize(markup: str) -> str:
    return nh3.clean(markup, url_schemes=_URL_SCHEMES, link_rel=_LINK_REL)


def _plain(text: str) -> str:
    paragraphs = [p.strip("\n") for p in _PARAGRAPHS.split(text.replace("\r\n", "\n")) if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def render(body: str, format: BodyFormat) -> str:
    """The safe HTML of a body."""
    if format is BodyFormat.MARKDOWN:
        return sanitize(_MARKDOWN.render(body))
    if format is BodyFormat.HTML:
        return sanitize(body)
    return _plain(body)
