"""The search documents of one node and one product, per locale, built from the source's **current** state
as its module's public service functions report it (never its tables): so a consumer that re-builds them
on any event is idempotent, and a rebuild and ``verify`` build exactly what the consumers build.

A document is a mapping of the read model's columns (without the keys: tenant, node or product, locale,
and ``indexed_at``) to their values."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import nh3

from rustok.commerce import service as catalog
from rustok.content import service as content
from rustok.core.uow import UnitOfWork
from rustok.tenants.service import tenant_locales
from rustok.users import service as users

Document = dict[str, Any]
"""A document's columns and values."""

CONTENT_FIELDS = (
    "kind", "status", "title", "slug", "excerpt", "body_text", "author_name", "category", "tags",
    "tags_text", "published_at", "source_updated_at",
)  # fmt: skip
PRODUCT_FIELDS = (
    "status", "title", "handle", "subtitle", "description", "prices", "in_stock", "variant_count",
    "options", "published_at", "source_updated_at",
)  # fmt: skip

_BLOCK = re.compile(r"<(/?)(p|div|br|li|h[1-6]|tr|td|th|blockquote|pre|ul|ol|hr|section|article)\b", re.I)
_SPACE = re.compile(r"\s+")


def plain_text(markup: str | None) -> str | None:
    """Sanitized HTML reduced to its text: tags dropped (blocks separated by a space), entities decoded,
    whitespace collapsed. None for no text."""
    if not markup:
        return None
    text = html.unescape(nh3.clean(_BLOCK.sub(r" <\1\2", markup), tags=set()))
    text = _SPACE.sub(" ", text).strip()
    return text or None


def _newest(moments: Iterable[datetime | None]) -> datetime:
    return max(m for m in moments if m is not None)


def _in_locale(names: dict[str, str], locale: str, default: str) -> str | None:
    return names.get(locale, names.get(default))


async def _author_names(
    uow: UnitOfWork, author_ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, str | None]:
    wanted = {a for a in author_ids if a is not None}
    names = await users.display_names(uow, wanted)
    return {author_id: names.get(author_id) for author_id in wanted}


async def content_documents(
    uow: UnitOfWork, node_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Document]]:
    """The documents of each node of ``node_ids`` that exists, per locale (one per translation); a node
    that is gone is not in the result."""
    sources = await content.document_sources(uow, node_ids)
    if not sources:
        return {}
    default = (await tenant_locales(uow)).default
    authors = await _author_names(uow, (s.node.author_id for s in sources.values()))
    built: dict[uuid.UUID, dict[str, Document]] = {}
    for node_id, source in sources.items():
        node = source.node
        bodies = {b.locale: b for b in source.bodies}
        category = {t.locale: t.name for t in source.category}
        tag_names: dict[uuid.UUID, dict[str, str]] = {}
        for term in source.tags:
            tag_names.setdefault(term.id, {})[term.locale] = term.name
        updated = _newest(
            [
                node.updated_at,
                *(t.updated_at for t in source.translations),
                *(b.updated_at for b in source.bodies),
            ]
        )
        documents: dict[str, Document] = {}
        for translation in source.translations:
            locale = translation.locale
            body = bodies.get(locale)
            tags = [name for names in tag_names.values() if (name := names.get(locale)) is not None]
            documents[locale] = {
                "kind": node.kind,
                "status": node.status,
                "title": translation.title,
                "slug": translation.slug,
                "excerpt": translation.excerpt,
                "body_text": plain_text(body.html) if body is not None else None,
                "author_name": authors.get(node.author_id) if node.author_id is not None else None,
                "category": _in_locale(category, locale, default),
                "tags": tags,
                "tags_text": " ".join(tags),
                "published_at": node.published_at,
                "source_updated_at": updated,
            }
        built[node_id] = documents
    return built


def _prices(variants: Sequence[catalog.VariantSource]) -> dict[str, dict[str, int]]:
    prices: dict[str, dict[str, int]] = {}
    for variant in variants:
        for price in variant.prices:
            span = prices.setdefault(price.currency, {"min": price.amount, "max": price.amount})
            span["min"] = min(span["min"], price.amount)
            span["max"] = max(span["max"], price.amount)
    return dict(sorted(prices.items()))


def _sellable(variant: catalog.VariantSource) -> bool:
    v = variant.variant
    return not v.manage_inventory or v.allow_backorder or variant.available > 0


async def product_documents(
    uow: UnitOfWork, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Document]]:
    """The documents of each product of ``product_ids`` that exists, per locale (one per translation)."""
    sources = await catalog.document_sources(uow, product_ids)
    built: dict[uuid.UUID, dict[str, Document]] = {}
    for product_id, source in sources.items():
        product = source.product
        updated = _newest([product.updated_at, *(v.variant.updated_at for v in source.variants)])
        shared = {
            "status": product.status,
            "prices": _prices(source.variants),
            "in_stock": any(_sellable(v) for v in source.variants),
            "variant_count": len(source.variants),
            "options": [{"name": o.name, "values": list(o.values)} for o in source.options],
            "published_at": product.published_at,
            "source_updated_at": updated,
        }
        built[product_id] = {
            t.locale: {
                "title": t.title,
                "handle": t.handle,
                "subtitle": t.subtitle,
                "description": plain_text(t.description_html),
                **shared,
            }
            for t in source.translations
        }
    return built
