"""Permissions as a vocabulary: resources, actions, roles, scopes, and the role → permission matrix of
``shared/spec/rbac.md``, in one place.

A permission is ``resource:action``; ``manage`` on a resource implies every action on it. A grant has a
scope: ``all`` (any row of the tenant) or ``own`` (rows whose owner is the caller). Data filters that are not
permissions (unpublished content is invisible to customers and anonymous callers) belong to the services.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Resource(StrEnum):
    TENANTS = "tenants"
    SETTINGS = "settings"
    USERS = "users"
    NODES = "nodes"
    COMMENTS = "comments"
    CATEGORIES = "categories"
    TAGS = "tags"
    MEDIA = "media"
    PRODUCTS = "products"
    INVENTORY = "inventory"
    ORDERS = "orders"
    EVENTS = "events"
    SEARCH = "search"


class Action(StrEnum):
    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    LIST = "list"
    PUBLISH = "publish"
    MANAGE = "manage"


class Role(StrEnum):
    SUPER_ADMIN = "super_admin"
    ADMIN = "admin"
    MANAGER = "manager"
    CUSTOMER = "customer"


class Scope(StrEnum):
    ALL = "all"
    OWN = "own"


@dataclass(frozen=True, slots=True)
class Permission:
    resource: Resource
    action: Action

    @classmethod
    def parse(cls, text: str) -> Permission:
        """``"nodes:read"`` → ``Permission(NODES, READ)``; a ValueError for anything else."""
        resource, sep, action = text.partition(":")
        if not sep:
            raise ValueError(f"a permission is resource:action, not {text!r}")
        return cls(Resource(resource), Action(action))

    def __str__(self) -> str:
        return f"{self.resource}:{self.action}"


def _grants(
    resources: Iterable[Resource], actions: Iterable[Action], scope: Scope
) -> dict[Permission, Scope]:
    return {Permission(r, a): scope for r in resources for a in actions}


_CONTENT = (Resource.NODES, Resource.CATEGORIES, Resource.TAGS, Resource.MEDIA)
_CATALOG = (Resource.PRODUCTS, Resource.INVENTORY)
_PUBLIC_READ = (
    Resource.NODES,
    Resource.COMMENTS,
    Resource.CATEGORIES,
    Resource.TAGS,
    Resource.PRODUCTS,
    Resource.MEDIA,
)
_READ_LIST = (Action.READ, Action.LIST)
_EDIT = (Action.CREATE, Action.READ, Action.UPDATE, Action.DELETE, Action.LIST, Action.PUBLISH)

_ANONYMOUS: dict[Permission, Scope] = {
    **_grants(_PUBLIC_READ, _READ_LIST, Scope.ALL),
    Permission(Resource.SEARCH, Action.READ): Scope.ALL,
}

GRANTS: Mapping[Role | None, Mapping[Permission, Scope]] = {
    None: _ANONYMOUS,
    Role.CUSTOMER: {
        **_ANONYMOUS,
        Permission(Resource.COMMENTS, Action.CREATE): Scope.ALL,
        Permission(Resource.COMMENTS, Action.UPDATE): Scope.OWN,
        Permission(Resource.COMMENTS, Action.DELETE): Scope.OWN,
        Permission(Resource.ORDERS, Action.CREATE): Scope.ALL,
        # Cancelling is an update of one's own order; the commerce service allows customers nothing else.
        **_grants([Resource.ORDERS], (Action.READ, Action.LIST, Action.UPDATE), Scope.OWN),
    },
    Role.MANAGER: {
        **_ANONYMOUS,
        **_grants(_CONTENT + _CATALOG, _EDIT, Scope.ALL),
        **_grants(
            [Resource.COMMENTS],
            (Action.CREATE, Action.READ, Action.LIST, Action.UPDATE, Action.DELETE),
            Scope.ALL,
        ),
        **_grants([Resource.ORDERS], (Action.READ, Action.LIST, Action.UPDATE), Scope.ALL),
        **_grants([Resource.USERS, Resource.EVENTS], _READ_LIST, Scope.ALL),
    },
    Role.ADMIN: _grants([r for r in Resource if r is not Resource.TENANTS], [Action.MANAGE], Scope.ALL),
    Role.SUPER_ADMIN: _grants(Resource, [Action.MANAGE], Scope.ALL),
}


def scope_for(role: Role | None, permission: Permission) -> Scope | None:
    """The scope in which ``role`` (None: anonymous) holds ``permission``, or None when it does not."""
    grants = GRANTS[role]
    direct = grants.get(permission)
    managed = grants.get(Permission(permission.resource, Action.MANAGE))
    if Scope.ALL in (direct, managed):
        return Scope.ALL
    return direct or managed
