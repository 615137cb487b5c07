"""The content module's permissions (``shared/spec/rbac.md``).

Everyone reads and lists published nodes, comments, categories, tags and media; managers edit all of them
and moderate comments; customers write comments and change or delete their own. Comments are nodes of kind
``comment`` on the node routes: writing one checks ``comments:*``, any other kind ``nodes:*``.
"""

from __future__ import annotations

from rustok.core.permissions import EDIT, EVERYONE, MATRIX, READ_LIST, Action, Role, Scope

NODES = MATRIX.resource("nodes")
COMMENTS = MATRIX.resource("comments")
CATEGORIES = MATRIX.resource("categories")
TAGS = MATRIX.resource("tags")
MEDIA = MATRIX.resource("media")

MATRIX.grant(EVERYONE, [NODES, COMMENTS, CATEGORIES, TAGS, MEDIA], READ_LIST)
MATRIX.grant(Role.CUSTOMER, [COMMENTS], [Action.CREATE])
MATRIX.grant(Role.CUSTOMER, [COMMENTS], [Action.UPDATE, Action.DELETE], Scope.OWN)
MATRIX.grant(Role.MANAGER, [NODES, CATEGORIES, TAGS, MEDIA], EDIT)
MATRIX.grant(
    Role.MANAGER, [COMMENTS], [Action.CREATE, Action.READ, Action.LIST, Action.UPDATE, Action.DELETE]
)
