"""Nodes as the search index reads them (`rustok.index`, through `rustok.content.service`): every
translation and body, and the names of the category and tags in every locale; and the ids it walks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from rustok.content.models import Node, NodeBody, NodeTranslation
from rustok.content.nodes.repository import NodeRepository, NodeTagRepository
from rustok.content.nodes.views import parts_of
from rustok.content.terms.repository import Term
from rustok.core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class NodeSource:
    """A node as the search index reads it: every translation and body, and the names of its category and
    tags in every locale they have (read-only; for `rustok.index`)."""

    node: Node
    translations: list[NodeTranslation]
    bodies: list[NodeBody]
    category: list[Term]  # the category's name per locale; empty when uncategorized
    tags: list[Term]  # (tag, locale) names, in the order the tags were attached


async def document_sources(uow: UnitOfWork, node_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, NodeSource]:
    """The nodes of ``node_ids`` that exist, with everything the index builds their documents from."""
    if not node_ids:
        return {}
    nodes = await NodeRepository(uow.session).by_ids(node_ids)
    parts = await parts_of(uow, nodes)
    return {
        node.id: NodeSource(
            node=node,
            translations=parts.translations.get(node.id, []),
            bodies=parts.bodies.get(node.id, []),
            category=parts.category_of(node),
            tags=parts.tags.get(node.id, []),
        )
        for node in nodes
    }


async def document_source(uow: UnitOfWork, node_id: uuid.UUID) -> NodeSource | None:
    """One node for the index, or None when it is gone."""
    return (await document_sources(uow, [node_id])).get(node_id)


async def node_ids_after(uow: UnitOfWork, after_id: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
    """Up to ``limit`` node ids of the tenant after ``after_id``, in id order (every kind and status)."""
    return await NodeRepository(uow.session).ids_after(after_id, limit)


async def existing_node_ids(uow: UnitOfWork, node_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``node_ids`` that still exist."""
    return await NodeRepository(uow.session).existing_ids(node_ids)


async def node_ids_tagged(uow: UnitOfWork, tag_id: uuid.UUID) -> list[uuid.UUID]:
    """The nodes the tag is attached to."""
    return sorted(link.node_id for link in await NodeTagRepository(uow.session).of_tag(tag_id))


async def node_ids_in_category(uow: UnitOfWork, category_id: uuid.UUID) -> list[uuid.UUID]:
    """The nodes in the category."""
    return sorted(row.id for row in await NodeRepository(uow.session).in_category(category_id))
