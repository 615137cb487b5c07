"""The commerce module's permissions (``shared/spec/rbac.md``).

Everyone reads and lists active products; managers edit products and inventory and handle orders;
customers place orders, and read, list and cancel (an update) their own. Nobody but an admin deletes one.
"""

from __future__ import annotations

from rustok.core.permissions import EDIT, EVERYONE, MATRIX, READ_LIST, Action, Role, Scope

PRODUCTS = MATRIX.resource("products")
INVENTORY = MATRIX.resource("inventory")
ORDERS = MATRIX.resource("orders")

MATRIX.grant(EVERYONE, [PRODUCTS], READ_LIST)
MATRIX.grant(Role.CUSTOMER, [ORDERS], [Action.CREATE])
# Cancelling is an update of one's own order; the commerce service allows customers nothing else.
MATRIX.grant(Role.CUSTOMER, [ORDERS], [Action.READ, Action.LIST, Action.UPDATE], Scope.OWN)
MATRIX.grant(Role.MANAGER, [PRODUCTS, INVENTORY], EDIT)
MATRIX.grant(Role.MANAGER, [ORDERS], [Action.READ, Action.LIST, Action.UPDATE])
