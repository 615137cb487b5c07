"""What content nodes and catalog products share (`rustok.core.publishing`, `rustok.core.translations`),
without a database: the publish state machine, ``published_at``, locale serving with its fallback, and the
request context's row checks and its constructor outside HTTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from rustok.core.deps import RequestContext
from rustok.core.errors import Conflict, Forbidden, NotFound, Unauthorized
from rustok.core.permissions import Role, Scope
from rustok.core.publishing import Change, Lifecycle, Reader
from rustok.core.security import Principal
from rustok.core.settings import Settings
from rustok.core.tenancy import TenantScope, TenantScopeError
from rustok.core.translations import one_each, pick_locale, served
from rustok.testing import FrozenClock, uow_without_database

NODES = Lifecycle("node", published="published")
PRODUCTS = Lifecycle("product", published="active")
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass
class Row:
    status: str = "draft"
    published_at: datetime | None = None


@dataclass(frozen=True)
class Translation:
    owner: uuid.UUID
    locale: str


@dataclass(frozen=True)
class Tenant:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    name: str = "Acme"
    slug: str = "acme"
    default_locale: str = "en"
    locales: tuple[str, ...] = ("en", "de")
    settings: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------------- the state machine


@pytest.mark.parametrize(
    ("old", "new", "change"),
    [
        ("draft", "draft", Change.NONE),
        ("draft", "active", Change.PUBLISHED),
        ("archived", "active", Change.PUBLISHED),
        ("active", "draft", Change.UNPUBLISHED),
        ("active", "archived", Change.UNPUBLISHED),
        ("draft", "archived", Change.UPDATED),
        ("archived", "draft", Change.UPDATED),
    ],
)
def test_a_change_of_status_is_a_publication_an_unpublication_or_a_plain_update(
    old: str, new: str, change: Change
) -> None:
    assert PRODUCTS.change(old, new) is change
    assert PRODUCTS.crosses(old, new) is (change in (Change.PUBLISHED, Change.UNPUBLISHED))


def test_the_first_publication_sets_published_at_and_a_later_one_keeps_it(frozen_clock: FrozenClock) -> None:
    """Given a draft, when it is published, unpublished and published again, then ``published_at`` is the
    time of the first publication."""
    row = Row()
    frozen_clock.set(WHEN)

    assert NODES.move(row, "published") is Change.PUBLISHED
    first = row.published_at
    frozen_clock.advance(60)
    assert NODES.move(row, "draft") is Change.UNPUBLISHED
    assert NODES.move(row, "published") is Change.PUBLISHED

    assert first == WHEN
    assert row.published_at == WHEN
    assert row.status == "published"


def test_a_move_to_the_same_status_or_between_draft_and_archived_leaves_published_at_alone() -> None:
    row = Row()
    assert NODES.move(row, "draft") is Change.NONE
    assert NODES.move(row, "archived") is Change.UPDATED
    assert (row.status, row.published_at) == ("archived", None)


def test_publish_and_unpublish_refuse_what_does_not_apply() -> None:
    """Given a published node and a draft product, when a route publishes the first or unpublishes the
    second, then it is a 409 ``invalid_transition`` naming the status, and the row is unchanged."""
    published, draft = Row("published", WHEN), Row()

    with pytest.raises(Conflict) as again:
        NODES.publish(published)
    with pytest.raises(Conflict) as not_active:
        PRODUCTS.unpublish(draft)

    assert (again.value.problem_code, again.value.detail) == (
        "invalid_transition",
        "A published node cannot be published.",
    )
    assert not_active.value.detail == "A draft product cannot be unpublished."
    assert (published.status, draft.status) == ("published", "draft")
    assert NODES.unpublish(published) is Change.UNPUBLISHED
    assert published.status == "draft"
    assert PRODUCTS.publish(Row("archived")) is Change.PUBLISHED


# ---------------------------------------------------------------------------------------- locale serving


def test_a_read_serves_the_asked_locale_else_the_default_else_the_first() -> None:
    assert pick_locale(["de", "en"], "de", "en") == "de"
    assert pick_locale(["de", "en"], "fr", "en") == "en"
    assert pick_locale(["fr", "de"], "it", "en") == "fr"
    assert pick_locale(["fr", "de"], None, "de") == "de"
    assert pick_locale([], "de", "en") is None


def test_without_a_locale_every_translation_is_served_and_with_one_only_the_one_chosen() -> None:
    owner = uuid.uuid4()
    rows = [Translation(owner, "de"), Translation(owner, "fr")]

    assert served(rows, None, "en") == rows
    assert served(rows, "fr", "en") == [rows[1]]
    assert served(rows, "it", "de") == [rows[0]]
    assert served([], "de", "en") == []


def test_names_of_several_objects_are_served_one_per_object_in_their_order() -> None:
    """Given the names of a tag in de and en and of another in fr only, then each tag is served once: the
    asked locale, else the default, else its own first; with no locale asked, the default."""
    first, second = uuid.uuid4(), uuid.uuid4()
    rows = [Translation(first, "de"), Translation(first, "en"), Translation(second, "fr")]

    def owner(t: Translation) -> uuid.UUID:
        return t.owner

    assert one_each(rows, owner, "de", "en") == [rows[0], rows[2]]
    assert one_each(rows, owner, None, "en") == [rows[1], rows[2]]
    assert Reader(True, "it", "en").one_each(rows, owner) == [rows[1], rows[2]]


def test_a_reader_looks_slugs_up_in_the_asked_locale_then_the_default() -> None:
    assert Reader(False, "de", "en").preference == ["de", "en"]
    assert Reader(False, None, "en").preference == ["en"]


# -------------------------------------------------------------------------------------- the context's checks


def _context(role: Role | None, user_id: uuid.UUID | None = None) -> RequestContext:
    tenant = Tenant()
    uow = uow_without_database(TenantScope.of(tenant.id))
    principal = Principal(user_id=user_id, tenant_id=tenant.id, role=role)
    return RequestContext(tenant, principal, uow, Settings(_env_file=None))


def test_an_own_grant_lets_the_caller_in_on_its_own_rows_only() -> None:
    """Given a customer (``comments:update`` on its own comments), then its comment is let in, another's
    and one nobody owns any longer are the service's 404, and a permission it lacks is a 403."""
    me = uuid.uuid4()
    ctx = _context(Role.CUSTOMER, me)
    hidden = NotFound("No node with id 1.")

    assert ctx.authorize("comments:update", owner_id=me, hidden=hidden) is Scope.OWN
    for owner in (uuid.uuid4(), None):
        with pytest.raises(NotFound) as refused:
            ctx.authorize("comments:update", owner_id=owner, hidden=hidden)
        assert refused.value is hidden
    with pytest.raises(Forbidden):
        ctx.authorize("nodes:update", owner_id=me)
    with pytest.raises(Unauthorized):
        _context(None).authorize("comments:update")


def test_a_context_outside_http_acts_as_the_tenants_admin_in_its_scope() -> None:
    """Given a unit of work in a tenant's scope, then the context built for work that is no request acts
    with the admin's permissions and no user; a unit of work of another scope is refused."""
    tenant = Tenant()
    uow = uow_without_database(TenantScope.of(tenant.id))

    ctx = RequestContext.system(uow, tenant, Settings(_env_file=None))

    assert (ctx.tenant_id, ctx.principal.role, ctx.principal.user_id) == (tenant.id, Role.ADMIN, None)
    assert ctx.grant("nodes:publish") is Scope.ALL
    with pytest.raises(TenantScopeError):
        ctx.separate_uow()
    for scope in (TenantScope.of(uuid.uuid4()), TenantScope.all_tenants(), None):
        other = uow_without_database(scope)
        with pytest.raises(TenantScopeError):
            RequestContext.system(other, tenant, Settings(_env_file=None))
