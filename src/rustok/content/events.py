"""The events of the content module: nodes, translations, bodies, categories, tags and media."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from rustok.core.event_fields import Kind, Locale
from rustok.core.events import DomainEvent

TagTarget = Literal["node", "product"]
"""What a tag can be attached to."""


class NodeCreated(DomainEvent, event_type="node.created"):
    node_id: uuid.UUID
    kind: Kind
    author_id: uuid.UUID | None = None


class NodeUpdated(DomainEvent, event_type="node.updated"):
    node_id: uuid.UUID
    kind: Kind


class NodeTranslationUpdated(DomainEvent, event_type="node.translation.updated"):
    """A node's translation in one locale was created or changed."""

    node_id: uuid.UUID
    locale: Locale


class NodePublished(DomainEvent, event_type="node.published"):
    node_id: uuid.UUID
    kind: Kind


class NodeUnpublished(DomainEvent, event_type="node.unpublished"):
    node_id: uuid.UUID
    kind: Kind


class NodeDeleted(DomainEvent, event_type="node.deleted"):
    node_id: uuid.UUID
    kind: Kind


class BodyUpdated(DomainEvent, event_type="body.updated"):
    """A node's body in one locale was created or changed."""

    node_id: uuid.UUID
    locale: Locale


class CategoryCreated(DomainEvent, event_type="category.created"):
    category_id: uuid.UUID


class CategoryUpdated(DomainEvent, event_type="category.updated"):
    category_id: uuid.UUID


class CategoryDeleted(DomainEvent, event_type="category.deleted"):
    category_id: uuid.UUID


class TagCreated(DomainEvent, event_type="tag.created"):
    tag_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)


class TagUpdated(DomainEvent, event_type="tag.updated"):
    """A tag's names or slugs changed. Beyond the catalog of the spec, which announces every state change
    but lists no event for this one."""

    tag_id: uuid.UUID


class TagDeleted(DomainEvent, event_type="tag.deleted"):
    """A tag was deleted (its attachments were each announced as ``tag.detached`` first). Beyond the
    catalog of the spec, like ``tag.updated``."""

    tag_id: uuid.UUID


class TagAttached(DomainEvent, event_type="tag.attached"):
    tag_id: uuid.UUID
    target_type: TagTarget
    target_id: uuid.UUID


class TagDetached(DomainEvent, event_type="tag.detached"):
    tag_id: uuid.UUID
    target_type: TagTarget
    target_id: uuid.UUID


class MediaUploaded(DomainEvent, event_type="media.uploaded"):
    """``size`` is in bytes."""

    media_id: uuid.UUID
    mime_type: str
    size: int = Field(ge=0)


class MediaDeleted(DomainEvent, event_type="media.deleted"):
    media_id: uuid.UUID


class MediaUpdated(DomainEvent, event_type="media.updated"):
    """A media item's alt text or title changed, in these locales."""

    media_id: uuid.UUID
    locales: list[Locale] = Field(min_length=1)
