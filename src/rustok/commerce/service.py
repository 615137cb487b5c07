"""Commerce's public service surface for other modules (which may not reach into ``rustok.commerce.catalog``
directly; see tests/unit/test_architecture.py): what the search index reads from the catalog."""

from __future__ import annotations

from rustok.commerce.catalog.products.sources import (
    ProductSource,
    VariantSource,
    document_source,
    document_sources,
    existing_product_ids,
    product_ids_after,
)

__all__ = [
    "ProductSource",
    "VariantSource",
    "document_source",
    "document_sources",
    "existing_product_ids",
    "product_ids_after",
]
