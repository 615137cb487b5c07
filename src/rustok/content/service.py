"""The content module's public service surface for other modules (which may not reach into its
aggregates, ``rustok.content.nodes`` and ``rustok.content.terms``, directly; see
tests/unit/test_architecture.py): what the search index reads from content, what the catalog shows of media
(product images), and the renderer of bodies (product descriptions are rendered as node bodies are)."""

from __future__ import annotations

from rustok.content.media.sources import MediaSource, existing_media_ids, media_sources
from rustok.content.models import BodyFormat
from rustok.content.nodes.sources import (
    NodeSource,
    document_source,
    document_sources,
    existing_node_ids,
    node_ids_after,
    node_ids_in_category,
    node_ids_tagged,
)
from rustok.content.render import render

__all__ = [
    "BodyFormat",
    "MediaSource",
    "NodeSource",
    "document_source",
    "document_sources",
    "existing_media_ids",
    "existing_node_ids",
    "media_sources",
    "node_ids_after",
    "node_ids_in_category",
    "node_ids_tagged",
    "render",
]
