"""The index module's read models: one search document per node and locale (``index_content``) and per
product and locale (``index_products``), and the checkpoints of rebuilds. Tenant data, written **only** by
the index's event consumers and its rebuild, never by the modules they describe.

Full-text search structures live beside these tables and are made by the migration, per backend (they
are not ORM columns): on SQLite an FTS5 table per model (``unicode61``, diacritics removed) kept in step
by triggers; on PostgreSQL a ``search_vector`` column (title weighted above excerpt above body) filled by a
trigger with the text-search configuration of the row's locale, and a GIN index on it.

``source_updated_at`` is the newest change of the source the document was built from: a write carrying an
older one is skipped. It does not settle every race (a tag attached, a price or a stock changed, a source
deleted leave it as it was): the writers' lock does (`rustok.index.service`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rustok.core import clock
from rustok.core.models import Base, IdMixin, TenantMixin, tenant_column

# An integer key: SQLite's FTS5 tables follow their documents by rowid, and an INTEGER PRIMARY KEY is the
# rowid itself (stable, unlike the hidden rowid of a table keyed otherwise, which VACUUM may renumber).
DocumentKey = BigInteger().with_variant(Integer(), "sqlite")


class ContentDocument(TenantMixin, Base):
    __tablename__ = "index_content"
    __table_args__ = (
        UniqueConstraint("node_id", "locale"),
        Index("ix_index_content_filter", "tenant_id", "status", "kind", "locale"),
    )

    id: Mapped[int] = mapped_column(DocumentKey, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = tenant_column()
    node_id: Mapped[uuid.UUID]  # no foreign key: the read model outlives nothing and is rebuilt from events
    locale: Mapped[str] = mapped_column(String(35))
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(500))
    slug: Mapped[str] = mapped_column(String(200))
    excerpt: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    author_name: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(JSON(), default=list)
    # The tags as one searchable text (the FTS structures index it).
    tags_text: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None]
    source_updated_at: Mapped[datetime]
    indexed_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class ProductDocument(TenantMixin, Base):
    __tablename__ = "index_products"
    __table_args__ = (
        UniqueConstraint("product_id", "locale"),
        Index("ix_index_products_filter", "tenant_id", "status", "locale"),
    )

    id: Mapped[int] = mapped_column(DocumentKey, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = tenant_column()
    product_id: Mapped[uuid.UUID]
    locale: Mapped[str] = mapped_column(String(35))
    status: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(500))
    handle: Mapped[str] = mapped_column(String(200))
    subtitle: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    # {currency: {"min": amount, "max": amount}} in minor units.
    prices: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)
    in_stock: Mapped[bool] = mapped_column(default=False)
    variant_count: Mapped[int] = mapped_column(default=0)
    options: Mapped[list[Any]] = mapped_column(JSON(), default=list)
    published_at: Mapped[datetime | None]
    source_updated_at: Mapped[datetime]
    indexed_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class RebuildStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"


class Rebuild(IdMixin, TenantMixin, Base):
    """A rebuild of one read model for one tenant, with its checkpoint: the last source id it finished, so
    a rebuild that died resumes after it. A rebuild driven by ``index.reindex_requested`` events keeps the
    id of the continuation request it recorded last (`rustok.index.consumers.reindex_requested`)."""

    __tablename__ = "index_rebuilds"
    __table_args__ = (Index("ix_index_rebuilds_lookup", "tenant_id", "target", "status"),)

    tenant_id: Mapped[uuid.UUID] = tenant_column()
    target: Mapped[str] = mapped_column(String(16))  # content, products
    status: Mapped[str] = mapped_column(String(16), default=RebuildStatus.RUNNING.value)
    after_id: Mapped[uuid.UUID | None]
    processed: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    finished_at: Mapped[datetime | None]
    continuation_id: Mapped[uuid.UUID | None]
