"""The content module's tables: nodes (posts, pages, comments, any kind a tenant defines) with their
per-locale translations and bodies, categories and tags with theirs, the tags on nodes, and media with
per-locale alt text. All are tenant data.

Uniqueness that the API promises is a constraint here, so it holds under concurrency: a slug per tenant,
kind and locale (``kind`` is copied onto the translation for that; a node's kind never changes), a category
or tag slug per tenant and locale, one translation and one body per node and locale.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rustok.core import clock
from rustok.core.models import Base, IdMixin, TenantMixin, TimestampMixin, one_of, tenant_column


class NodeStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class BodyFormat(StrEnum):
    MARKDOWN = "markdown"
    HTML = "html"
    PLAIN = "plain"


COMMENT = "comment"
"""The kind of comments: nodes under a parent, guarded by ``comments:*`` instead of ``nodes:*``."""


class Category(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "content_categories"
    __table_args__ = (Index("ix_content_categories_parent", "tenant_id", "parent_id"),)

    tenant_id: Mapped[uuid.UUID] = tenant_column()
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("content_categories.id"))
    position: Mapped[int] = mapped_column(default=0)


class CategoryTranslation(IdMixin, TenantMixin, Base):
    __tablename__ = "content_category_translations"
    __table_args__ = (
        UniqueConstraint("category_id", "locale"),
        UniqueConstraint("tenant_id", "locale", "slug"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column()
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content_categories.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(35))
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)


class Node(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "content_nodes"
    __table_args__ = (
        CheckConstraint(one_of("status", NodeStatus), name="status"),
        CheckConstraint("reply_count >= 0", name="reply_count"),
        # Lists filter by kind and status and page by id; threads by parent; the rest by their column.
        Index("ix_content_nodes_listing", "tenant_id", "kind", "status", "id"),
        Index("ix_content_nodes_thread", "tenant_id", "parent_id", "position", "id"),
        Index("ix_content_nodes_category", "tenant_id", "category_id"),
        Index("ix_content_nodes_author", "tenant_id", "author_id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column()
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=NodeStatus.DRAFT.value)
    # A deleted user's content stays, authorless.
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Replies go with the node they answer (the service announces each one's deletion).
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("content_nodes.id", ondelete="CASCADE"))
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("content_categories.id", ondelete="SET NULL")
    )
    depth: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)
    # Published comments directly under this node; changed only by atomic increments.
    reply_count: Mapped[int] = mapped_column(default=0)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON(), default=dict)
    published_at: Mapped[datetime | None]


class NodeTranslation(IdMixin, TenantMixin, Base):
    __tablename__ = "content_node_translations"
    __table_args__ = (
        UniqueConstraint("node_id", "locale"),
        UniqueConstraint("tenant_id", "kind", "locale", "slug"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column()
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content_nodes.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))  # the node's, for the slug's uniqueness
    locale: Mapped[str] = mapped_column(String(35))
    title: Mapped[str] = mapped_column(String(500))
    slug: Mapped[str] = mapped_column(String(200))
    excerpt: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class NodeBody(IdMixin, TenantMixin, Base):
    __tablename__ = "content_node_bodies"
    __table_args__ = (
        UniqueConstraint("node_id", "locale"),
        CheckConstraint(one_of("format", BodyFormat), name="format"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column(index=True)
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content_nodes.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(35))
    format: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    # Rendered and sanitized when written, so a read serves it as stored.
    html: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class Tag(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "content_tags"

    tenant_id: Mapped[uuid.UUID] = tenant_column(index=True)


class TagTranslation(IdMixin, TenantMixin, Base):
    __tablename__ = "content_tag_translations"
    __table_args__ = (
        UniqueConstraint("tag_id", "locale"),
        UniqueConstraint("tenant_id", "locale", "slug"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column()
    tag_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content_tags.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(35))
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200))


class NodeTag(IdMixin, TenantMixin, Base):
    __tablename__ = "content_node_tags"
    __table_args__ = (
        UniqueConstraint("node_id", "tag_id"),
        Index("ix_content_node_tags_tag", "tenant_id", "tag_id"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_column()
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content_nodes.id", ondelete="CASCADE"))
    tag_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content_tags.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Media(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "media"

    tenant_id: Mapped[uuid.UUID] = tenant_column(index=True)
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None]
    height: Mapped[int | None]
    # Where the bytes are, as the storage backend names them; never derived from the client's filename.
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class MediaTranslation(IdMixin, TenantMixin, Base):
    __tablename__ = "media_translations"
    __table_args__ = (UniqueConstraint("media_id", "locale"),)

    tenant_id: Mapped[uuid.UUID] = tenant_column(index=True)
    media_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(35))
    alt: Mapped[str | None] = mapped_column(String(1000))
    title: Mapped[str | None] = mapped_column(String(500))
