"""Nodes as reads show them: each with its translations and bodies in the locale served, and the names of
its category and tags; and the parts of many nodes, read in one query each (which the index reads too)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from rustok.content.models import Node, NodeBody, NodeTranslation
from rustok.content.nodes.access import NodeReader
from rustok.content.nodes.repository import NodeRepository
from rustok.content.terms.repository import CategoryRepository, TagRepository, Term
from rustok.core.repository import grouped
from rustok.core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class NodeParts:
    """What belongs to some nodes, by node id (the category's names by category id), in every locale."""

    translations: dict[uuid.UUID, list[NodeTranslation]]
    bodies: dict[uuid.UUID, list[NodeBody]]
    tags: dict[uuid.UUID, list[Term]]  # per node, in the order the tags were attached
    categories: dict[uuid.UUID, list[Term]]

    def category_of(self, node: Node) -> list[Term]:
        return self.categories.get(node.category_id, []) if node.category_id is not None else []


async def parts_of(uow: UnitOfWork, nodes: Sequence[Node], *, bodies: bool = True) -> NodeParts:
    """The parts of ``nodes`` (``bodies`` False: without their bodies), one query for each kind of part."""
    repository = NodeRepository(uow.session)
    ids = [node.id for node in nodes]
    category_ids = list({node.category_id for node in nodes if node.category_id is not None})
    return NodeParts(
        translations=grouped(await repository.translations(ids), lambda t: t.node_id),
        bodies=grouped(await repository.bodies(ids), lambda b: b.node_id) if bodies else {},
        tags=grouped(await TagRepository(uow.session).terms_of_nodes(ids), lambda t: t.owner_id),
        categories=grouped(await CategoryRepository(uow.session).terms(category_ids), lambda t: t.owner_id)
        if category_ids
        else {},
    )


@dataclass(frozen=True, slots=True)
class NodeView:
    node: Node
    translations: list[NodeTranslation]
    bodies: list[NodeBody] | None
    category: Term | None
    tags: list[Term]


def _term_id(term: Term) -> uuid.UUID:
    return term.id


async def views(
    uow: UnitOfWork, nodes: Sequence[Node], reader: NodeReader, *, bodies: bool
) -> list[NodeView]:
    """The nodes as ``reader`` is served them (``bodies`` False: lists, which leave them out)."""
    if not nodes:
        return []
    parts = await parts_of(uow, nodes, bodies=bodies)
    found = []
    for node in nodes:
        category = reader.one_each(parts.category_of(node), _term_id)
        found.append(
            NodeView(
                node=node,
                translations=reader.served(parts.translations.get(node.id, [])),
                bodies=reader.served(parts.bodies.get(node.id, [])) if bodies else None,
                category=category[0] if category else None,
                tags=reader.one_each(parts.tags.get(node.id, []), _term_id),
            )
        )
    return found


async def view(uow: UnitOfWork, node: Node, reader: NodeReader) -> NodeView:
    return (await views(uow, [node], reader, bodies=True))[0]
