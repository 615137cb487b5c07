"""Factories for content, made through the real HTTP API (so a test's data went through every rule a
client's would)::

    headers = await login_as(client, app, tenant_id, "manager")
    post = await make_node(client, headers, title="Hello", body="# Hi", status="published")
    tag = await make_tag(client, headers, name="News")
"""

from __future__ import annotations

from typing import Any

import httpx


async def _created(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> Any:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def make_node(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    kind: str = "post",
    title: str = "Hello",
    locale: str = "en",
    slug: str | None = None,
    body: str | None = None,
    body_format: str = "markdown",
    **fields: Any,
) -> Any:
    """A node with one translation (and a body when ``body`` is given); ``fields`` go into the request
    as they are (``status``, ``parent_id``, ``category_id``, ``metadata``, more ``translations``...)."""
    translation: dict[str, Any] = {"locale": locale, "title": title}
    if slug is not None:
        translation["slug"] = slug
    data: dict[str, Any] = {"kind": kind, "translations": [translation], **fields}
    if body is not None:
        data.setdefault("bodies", []).append({"locale": locale, "body": body, "format": body_format})
    return await _created(client, "/api/content/nodes", data, headers)


async def make_comment(
    client: httpx.AsyncClient, headers: dict[str, str], parent_id: str, *, text: str = "Nice", **fields: Any
) -> Any:
    return await make_node(client, headers, kind="comment", title=text, parent_id=parent_id, **fields)


async def make_category(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    name: str = "News",
    locale: str = "en",
    slug: str | None = None,
    **fields: Any,
) -> Any:
    translation: dict[str, Any] = {"locale": locale, "name": name}
    if slug is not None:
        translation["slug"] = slug
    return await _created(
        client, "/api/content/categories", {"translations": [translation], **fields}, headers
    )


async def make_tag(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    name: str = "python",
    locale: str = "en",
    slug: str | None = None,
) -> Any:
    translation: dict[str, Any] = {"locale": locale, "name": name}
    if slug is not None:
        translation["slug"] = slug
    return await _created(client, "/api/content/tags", {"translations": [translation]}, headers)
