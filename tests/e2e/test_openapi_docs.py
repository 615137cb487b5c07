"""The API's own pages, offline: Swagger UI at ``/docs`` and ReDoc at ``/redoc`` load everything from this
server (the package's vendored files, `rustok.api.docs`), and their Content-Security-Policy lets a browser
load nothing from another origin, whatever the bundles would try; ``GET /`` is the index that links them.

A page is checked as a browser would start on it: its HTML parsed, every ``src``/``href`` it names (and
the document URL it hands the UI) fetched from this app, the stylesheets' ``url()``/``@import``, and
the URLs the scripts would load (``src`` values written in them) held against the page's CSP."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from rustok.api.docs import STATIC_DIR
from rustok.testing.http import BASE_URL

BASE = BASE_URL  # the in-process client's origin
# The fetch directives a page's CSP may govern: none of them may name another origin.
FETCH_DIRECTIVES = {
    "default-src",
    "script-src",
    "style-src",
    "img-src",
    "font-src",
    "connect-src",
    "worker-src",
    "frame-src",
    "media-src",
    "object-src",
    "manifest-src",
    "child-src",
}
# Sources that name no other origin.
LOCAL_SOURCES = {"'self'", "'none'", "'unsafe-inline'", "'unsafe-eval'", "data:", "blob:"}
# A URL a script would load: written as the value of a `src` (a property or an attribute), absolute.
SCRIPT_SRC = re.compile(r"""\bsrc\s*[:=]\s*["'`]((?:https?:)?//[^"'`\s]+)""")
CSS_URL = re.compile(r"""url\(\s*["']?([^"')\s]+)|@import\s+["']([^"']+)""")


class _Page(HTMLParser):
    """Every URL-valued attribute of a page, with its tag."""

    URL_ATTRIBUTES = frozenset({"src", "href", "data-openapi-url", "spec-url", "action", "poster"})

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name in self.URL_ATTRIBUTES and value is not None:
                self.urls.append((tag, name, value))
        self._in_script = tag == "script" and "src" not in values

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1


def _same_origin(url: str, page: str) -> bool:
    target = urlsplit(urljoin(page, url))
    origin = urlsplit(page)
    return target.scheme in ("http", "https", "data") and (
        target.scheme == "data" or target.netloc == origin.netloc
    )


def _csp(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def _csp_allows_other_origins(policy: dict[str, list[str]]) -> list[str]:
    """The sources of the policy's fetch directives that could name another origin."""
    return [
        f"{name} {source}"
        for name, sources in policy.items()
        if name in FETCH_DIRECTIVES
        for source in sources
        if source not in LOCAL_SOURCES
    ]


async def _check_page(client: httpx.AsyncClient, path: str) -> tuple[_Page, dict[str, list[str]], list[str]]:
    """Fetch the page and everything it names; answer the parsed page, its CSP and the absolute URLs its
    scripts would load."""
    page_url = f"{BASE}{path}"
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = _csp(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert _csp_allows_other_origins(policy) == []
    parsed = _Page()
    parsed.feed(response.text)
    assert parsed.inline_scripts == 0  # script-src has no 'unsafe-inline': an inline script would not run
    assert "'unsafe-inline'" not in policy["script-src"]
    assert parsed.urls
    script_urls: list[str] = []
    for tag, attribute, url in parsed.urls:
        assert _same_origin(url, page_url), f"<{tag} {attribute}={url}> on {path}"
        fetched = await client.get(urljoin(page_url, url))
        assert fetched.status_code == 200, f"{url}: {fetched.status_code}"
        kind = fetched.headers["content-type"]
        if url.endswith(".css"):
            assert kind.startswith("text/css")
            for match in CSS_URL.finditer(fetched.text):
                found = match.group(1) or match.group(2)
                assert _same_origin(found, urljoin(page_url, url)), f"{found} in {url}"
        if url.endswith(".js"):
            assert "javascript" in kind
            script_urls += [m.group(1) for m in SCRIPT_SRC.finditer(fetched.text)]
    return parsed, policy, script_urls


async def test_swagger_ui_loads_only_from_this_server(client: httpx.AsyncClient) -> None:
    page, policy, script_urls = await _check_page(client, "/docs")

    loaded = {(tag, attribute) for tag, attribute, _ in page.urls}
    assert ("script", "src") in loaded
    assert ("link", "href") in loaded
    assert ("div", "data-openapi-url") in loaded  # the document the UI fetches (connect-src 'self')
    assert policy["script-src"] == ["'self'"]
    assert "'self'" in policy["connect-src"]  # "Try it out" calls this server
    # Whatever the bundle would load from elsewhere, the page's policy refuses it.
    assert all(not _same_origin(url, BASE) for url in script_urls)


async def test_redoc_loads_only_from_this_server(client: httpx.AsyncClient) -> None:
    page, policy, script_urls = await _check_page(client, "/redoc")

    assert ("redoc", "spec-url", "/openapi.json") in page.urls
    assert not any("fonts.googleapis" in url for _, _, url in page.urls)
    # ReDoc's bundle shows a logo from its CDN in the sidebar: the policy (img-src) does not let it load.
    assert any("cdn.redoc.ly" in url for url in script_urls)
    assert policy["img-src"] == ["'self'", "data:"]


@pytest.mark.parametrize(
    "path", ["/docs/assets/swagger-init.js", "/docs/assets/swagger-ui/swagger-ui-bundle.js"]
)
async def test_the_assets_are_served_with_validators(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    etag = response.headers["etag"]
    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_the_vendored_files_are_the_released_ones() -> None:
    """`make docs-assets` wrote SHA256SUMS beside the files it took from the npm packages; the shipped
    files are those bytes (and each vendored package's licence ships with it)."""
    sums = (STATIC_DIR / "SHA256SUMS").read_text().splitlines()
    listed = {}
    for line in sums:
        digest, name = line.split()
        listed[name] = digest
    for name, digest in listed.items():
        assert hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest() == digest, name
    assert {"swagger-ui/LICENSE", "redoc/LICENSE", "swagger-ui/swagger-ui-bundle.js"} <= set(listed)
    assert "redoc/redoc.standalone.js" in listed
    versions = (STATIC_DIR / "VERSIONS").read_text()
    assert "swagger-ui-dist" in versions
    assert "redoc" in versions
    assert Path(STATIC_DIR / "swagger-init.js").is_file()


# ------------------------------------------------------------------------------------------------ index


async def test_the_index_names_the_server_and_links_its_docs(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "RusToK"
    assert body["version"]
    assert body["links"] == {
        "docs": "/docs",
        "redoc": "/redoc",
        "openapi": "/openapi.json",
        "health": "/health/ready",
        "metrics": "/metrics",
    }
    for link in body["links"].values():
        assert (await client.get(link)).status_code == 200, link


async def test_the_index_is_not_tenant_resolved_and_reads_no_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers={"X-Tenant-ID": "no-such-tenant", "Authorization": "Bearer x"})
    assert response.status_code == 200
