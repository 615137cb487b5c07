"""Who sees and changes nodes and comments.

- **Comments are nodes** of kind ``comment``: writing one checks ``comments:*``, any other kind ``nodes:*``,
  after the node is fetched. Under an ``own`` grant (customers) another's comment is a 404.
- **Visibility.** Unpublished content is invisible (404, left out of lists and counts) to callers who may
  not edit it: anonymous callers and customers see published nodes, and customers their own comments too.
- **Moderation.** Publishing and unpublishing comments needs ``comments:update`` on every comment; any
  other node needs ``nodes:publish``.
"""

from __future__ import annotations

from rustok.content.models import COMMENT
from rustok.content.nodes.repository import Visibility
from rustok.core.deps import RequestContext
from rustok.core.errors import Forbidden
from rustok.core.permissions import Scope
from rustok.core.publishing import Lifecycle, Reader

NodeReader = Reader[Visibility]
LIFECYCLE = Lifecycle("node", published="published")


def visibility_for(ctx: RequestContext) -> Visibility:
    """Callers who may edit every node (or comment) see unpublished ones; ``own`` comment editors see
    their own unpublished comments; everyone else sees published content only."""
    comments = ctx.grant("comments:update")
    return Visibility(
        all_nodes=ctx.grant("nodes:update") is Scope.ALL,
        all_comments=comments is Scope.ALL,
        own_comments_of=ctx.principal.user_id if comments is Scope.OWN else None,
    )


def reader_for(ctx: RequestContext, locale: str | None = None) -> NodeReader:
    return Reader.of(ctx, visibility_for(ctx), locale)


def resource_of(kind: str) -> str:
    """The resource of the permissions a node of ``kind`` needs."""
    return "comments" if kind == COMMENT else "nodes"


def may_moderate(ctx: RequestContext) -> bool:
    return ctx.grant("comments:update") is Scope.ALL


def authorize_publish(ctx: RequestContext, kind: str) -> None:
    """Publishing (or unpublishing) a comment is moderation (``comments:update`` on all comments); any
    other node needs ``nodes:publish``."""
    if kind != COMMENT:
        ctx.authorize("nodes:publish")
    elif ctx.authorize("comments:update") is not Scope.ALL:
        raise Forbidden("Only moderators publish or unpublish comments.")
