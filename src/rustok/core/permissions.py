"""Permissions: the mechanism (actions, roles, scopes, the matrix) that every module's vocabulary plugs into.

A permission is ``resource:action``; ``manage`` on a resource implies every action on it. A grant has a
scope: ``all`` (any row of the tenant) or ``own`` (rows whose owner is the caller). Data filters that are not
permissions (unpublished content is invisible to customers and anonymous callers) belong to the services.

The kernel knows no resource. Each module declares its own in its ``permissions.py`` (imported by the
module's package, so it is in force whenever the module is)::

    NODES = MATRIX.resource("nodes")
    MATRIX.grant(EVERYONE, [NODES], READ_LIST)
    MATRIX.grant(Role.MANAGER, [NODES], EDIT)

and the matrix composes them with the two rules no module states: ``admin`` manages every resource of its
tenant but the platform's (``platform=True``), ``super_admin`` manages all of them. ``shared/spec/rbac.md`` is
the contract; the route-by-role test checks every route against it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


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


RESOURCE_NAME = re.compile(r"^[a-z][a-z_]*$")


@dataclass(frozen=True, slots=True)
class Permission:
    resource: str
    action: Action

    @classmethod
    def parse(cls, text: str) -> Permission:
        """``"nodes:read"`` → ``Permission("nodes", READ)``; a ValueError for anything else, an undeclared
        resource included."""
        resource, sep, action = text.partition(":")
        if not sep:
            raise ValueError(f"a permission is resource:action, not {text!r}")
        if resource not in MATRIX.resources:
            raise ValueError(f"no module declares the resource {resource!r}")
        return cls(resource, Action(action))

    def __str__(self) -> str:
        return f"{self.resource}:{self.action}"


Grantee = Role | None  # None: anonymous

# Who gets what an anonymous caller gets: every role below the admins (who manage everything anyway).
EVERYONE: tuple[Grantee, ...] = (None, Role.CUSTOMER, Role.MANAGER)
READ_LIST = (Action.READ, Action.LIST)
EDIT = (Action.CREATE, Action.READ, Action.UPDATE, Action.DELETE, Action.LIST, Action.PUBLISH)


class PermissionMatrix:
    """The resources the modules declare and the grants they give, composed into role → permission →
    scope."""

    def __init__(self) -> None:
        self._platform: dict[str, bool] = {}
        self._grants: dict[Grantee, dict[Permission, Scope]] = {}

    @property
    def resources(self) -> frozenset[str]:
        return frozenset(self._platform)

    def resource(self, name: str, *, platform: bool = False) -> str:
        """Declare a resource (once, by the module that owns it). ``platform`` resources span tenants: no
        tenant's admin manages them."""
        if not RESOURCE_NAME.match(name):
            raise ValueError(f"a resource is lower-case letters and underscores, not {name!r}")
        if name in self._platform:
            raise ValueError(f"the resource {name!r} is declared twice")
        self._platform[name] = platform
        return name

    def grant(
        self,
        grantees: Grantee | Iterable[Grantee],
        resources: Iterable[str],
        actions: Iterable[Action],
        scope: Scope = Scope.ALL,
    ) -> None:
        """Give ``grantees`` (a role, None for anonymous callers, or several) ``actions`` on ``resources``.
        A wider grant of the same permission wins over a narrower one."""
        who = [grantees] if grantees is None or isinstance(grantees, Role) else list(grantees)
        actions = list(actions)
        for resource in resources:
            if resource not in self._platform:
                raise ValueError(f"grant on the undeclared resource {resource!r}")
            for grantee in who:
                if grantee in (Role.ADMIN, Role.SUPER_ADMIN):
                    raise ValueError("admins manage every resource by rule; grant nothing to them")
                held = self._grants.setdefault(grantee, {})
                for action in actions:
                    permission = Permission(resource, action)
                    if held.get(permission) is not Scope.ALL:
                        held[permission] = scope

    def grants(self, role: Grantee) -> Mapping[Permission, Scope]:
        """What ``role`` holds, as granted (``manage`` stands for every action)."""
        if role is Role.SUPER_ADMIN:
            return {Permission(r, Action.MANAGE): Scope.ALL for r in self._platform}
        if role is Role.ADMIN:
            return {Permission(r, Action.MANAGE): Scope.ALL for r, p in self._platform.items() if not p}
        return dict(self._grants.get(role, {}))

    def scope_for(self, role: Grantee, permission: Permission) -> Scope | None:
        """The scope in which ``role`` (None: anonymous) holds ``permission``, or None when it does not."""
        platform = self._platform.get(permission.resource)
        if platform is None:
            return None
        if role is Role.SUPER_ADMIN or (role is Role.ADMIN and not platform):
            return Scope.ALL
        held = self._grants.get(role, {})
        direct = held.get(permission)
        managed = held.get(Permission(permission.resource, Action.MANAGE))
        if Scope.ALL in (direct, managed):
            return Scope.ALL
        return direct or managed


MATRIX = PermissionMatrix()


def scope_for(role: Grantee, permission: Permission) -> Scope | None:
    """The scope in which ``role`` (None: anonymous) holds ``permission``, or None when it does not."""
    return MATRIX.scope_for(role, permission)
