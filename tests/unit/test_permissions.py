"""The role → permission matrix against ``shared/spec/rbac.md``."""

from __future__ import annotations

import pytest

from rustok import modules
from rustok.core.permissions import MATRIX, Action, Permission, Role, Scope, scope_for

P = Permission.parse
modules.load_permissions()
RESOURCES = sorted(MATRIX.resources)
STAFF_EDITED = ("nodes", "categories", "tags", "media", "products", "inventory")
PUBLIC_READ = ("nodes", "comments", "categories", "tags", "products", "media")


def test_a_permission_reads_and_prints_as_resource_colon_action() -> None:
    assert P("nodes:read") == Permission("nodes", Action.READ)
    assert str(P("orders:manage")) == "orders:manage"
    for bad in ("nodes", "nodes:fly", "planets:read", ""):
        with pytest.raises(ValueError):  # noqa: PT011 - the message names the bad part
            P(bad)


def test_super_admin_manages_everything_including_tenants() -> None:
    for resource in RESOURCES:
        for action in Action:
            assert scope_for(Role.SUPER_ADMIN, Permission(resource, action)) is Scope.ALL


def test_admin_manages_everything_but_tenants() -> None:
    for resource in RESOURCES:
        for action in Action:
            expected = None if resource == "tenants" else Scope.ALL
            assert scope_for(Role.ADMIN, Permission(resource, action)) is expected, (resource, action)


@pytest.mark.parametrize("resource", STAFF_EDITED)
@pytest.mark.parametrize("action", ["create", "read", "update", "delete", "list", "publish"])
def test_manager_edits_content_and_catalog(resource: str, action: str) -> None:
    assert scope_for(Role.MANAGER, P(f"{resource}:{action}")) is Scope.ALL


def test_manager_moderates_comments_handles_orders_and_reads_users_and_events() -> None:
    for granted in ("comments:create", "comments:update", "comments:delete", "orders:read", "orders:list",
                    "orders:update", "users:read", "users:list", "events:read", "events:list"):  # fmt: skip
        assert scope_for(Role.MANAGER, P(granted)) is Scope.ALL, granted
    for refused in ("users:create", "users:update", "orders:delete", "events:update", "tenants:read",
                    "settings:update", "comments:publish", "nodes:manage"):  # fmt: skip
        assert scope_for(Role.MANAGER, P(refused)) is None, refused


def test_customer_owns_its_comments_and_orders() -> None:
    assert scope_for(Role.CUSTOMER, P("comments:create")) is Scope.ALL
    assert scope_for(Role.CUSTOMER, P("comments:update")) is Scope.OWN
    assert scope_for(Role.CUSTOMER, P("comments:delete")) is Scope.OWN
    assert scope_for(Role.CUSTOMER, P("orders:create")) is Scope.ALL
    for own in ("orders:read", "orders:list"):
        assert scope_for(Role.CUSTOMER, P(own)) is Scope.OWN
    for refused in ("nodes:create", "products:update", "users:read", "events:list", "orders:delete"):
        assert scope_for(Role.CUSTOMER, P(refused)) is None, refused


@pytest.mark.parametrize("role", [None, Role.CUSTOMER])
@pytest.mark.parametrize("resource", PUBLIC_READ)
def test_anyone_reads_and_lists_published_things(role: Role | None, resource: str) -> None:
    assert scope_for(role, P(f"{resource}:read")) is Scope.ALL
    assert scope_for(role, P(f"{resource}:list")) is Scope.ALL


def test_anonymous_may_search_and_nothing_else_beyond_reading() -> None:
    assert scope_for(None, P("search:read")) is Scope.ALL
    allowed = {
        str(Permission(resource, action))
        for resource in RESOURCES
        for action in Action
        if scope_for(None, Permission(resource, action)) is not None
    }
    assert allowed == {f"{r}:{a}" for r in PUBLIC_READ for a in ("read", "list")} | {"search:read"}


def test_the_matrix_holds_the_resources_of_rbac_md_and_only_those() -> None:
    """Every resource of the contract is declared by the module that owns it (webhooks: not yet built)."""
    spec = {"tenants", "settings", "users", "nodes", "comments", "categories", "tags", "media", "products",
            "inventory", "orders", "events", "search"}  # fmt: skip
    assert set(RESOURCES) == spec


def test_a_module_cannot_redeclare_a_resource_or_grant_on_an_unknown_one_or_to_admins() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        MATRIX.resource("nodes")
    with pytest.raises(ValueError, match="undeclared"):
        MATRIX.grant(Role.MANAGER, ["planets"], [Action.READ])
    with pytest.raises(ValueError, match="admins"):
        MATRIX.grant(Role.ADMIN, ["nodes"], [Action.READ])
