"""The content module's public service surface for other modules (which may not reach into its
aggregates, ``rustok.content.nodes`` and ``rustok.content.terms``, directly; see
tests/unit/test_architecture.py): what the search index reads from content."""

from __future__ import annotations

from rustok.content.nodes.sources import (
    NodeSource,
    document_source,
    document_sources,
    existing_node_ids,
    node_ids_after,
    node_ids_in_category,
    node_ids_tagged,
)

__all__ = [
    "NodeSource",
    "document_source",
    "document_sources",
    "existing_node_ids",
    "node_ids_after",
    "node_ids_in_category",
    "node_ids_tagged",
]
