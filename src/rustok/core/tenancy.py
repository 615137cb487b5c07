"""Tenant scoping of every ORM statement, by construction.

A session is bound to a `TenantScope` by the unit of work. Session-level hooks then:

- add ``tenant_id = <scope>`` to every ORM SELECT, UPDATE and DELETE that touches a `TenantMixin` table
  (``with_loader_criteria``, which also reaches joined, aliased and relationship loads);
- stamp the scope's tenant on tenant rows added without one, and refuse rows of another tenant;
- refuse any such statement in a session with no scope at all, so a query that forgets its tenant fails
  loudly instead of reading everyone's rows;
- refuse the shapes ``with_loader_criteria`` cannot reach: tenant tables read only through
  ``select_from`` (``select(func.count()).select_from(Node)``) or inside a subquery or EXISTS. Count an
  entity's column instead (``func.count(Node.id)``), or, having put the tenant into every subquery
  yourself, say so with ``.execution_options(tenant_criteria="explicit")``.

Only the platform scope (operators, the event relay) reads across tenants, and it has to be asked for.
Raw SQL (``text()``) bypasses the ORM and therefore these hooks: repositories must not use it for tenant
data without naming the tenant themselves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ClauseElement, Select, event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql import visitors
from sqlalchemy.sql.util import find_tables

from rustok.core.models import TENANT_TABLES, TenantMixin

SCOPE_KEY = "rustok.tenant_scope"
EXPLICIT_OPTION = "tenant_criteria"


class TenantScopeError(RuntimeError):
    """Tenant data was touched without a tenant, or across tenants. Always a programming error."""


@dataclass(frozen=True, slots=True)
class TenantScope:
    tenant_id: uuid.UUID | None
    platform: bool = False

    @classmethod
    def of(cls, tenant_id: uuid.UUID) -> TenantScope:
        return cls(tenant_id=tenant_id)

    @classmethod
    def all_tenants(cls) -> TenantScope:
        """Cross-tenant access, for platform operators and the event relay only."""
        return cls(tenant_id=None, platform=True)


def bind_scope(session: AsyncSession | Session, scope: TenantScope | None) -> None:
    if scope is None:
        session.info.pop(SCOPE_KEY, None)
    else:
        session.info[SCOPE_KEY] = scope


def scope_of(session: AsyncSession | Session) -> TenantScope | None:
    scope = session.info.get(SCOPE_KEY)
    assert scope is None or isinstance(scope, TenantScope)
    return scope


def _touches_tenant_data(state: ORMExecuteState) -> bool:
    if any(issubclass(mapper.class_, TenantMixin) for mapper in state.all_mappers):
        return True
    # A statement can reach a tenant table with no entity in sight (select_from, EXISTS, subqueries).
    statement = cast(ClauseElement, state.statement)
    return any(_is_tenant_table(t) for t in find_tables(statement, include_aliases=True))


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the criteria of the statement that loaded the parent propagate to these loads
    scope = scope_of(state.session)
    if scope is not None and scope.platform:
        return
    if not _touches_tenant_data(state):
        return
    if scope is None or scope.tenant_id is None:
        raise TenantScopeError("a query on tenant data ran in a session with no tenant scope")
    if state.is_select and state.execution_options.get(EXPLICIT_OPTION) != "explicit":
        _refuse_unreachable_shapes(state)
    tenant_id = scope.tenant_id
    state.statement = state.statement.options(
        with_loader_criteria(TenantMixin, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
    )


def _is_tenant_table(table: object) -> bool:
    return table in TENANT_TABLES


def _refuse_unreachable_shapes(state: ORMExecuteState) -> None:
    statement = cast(ClauseElement, state.statement)
    entities = [d.get("entity") for d in getattr(statement, "column_descriptions", ())]
    if not any(isinstance(e, type) and issubclass(e, TenantMixin) for e in entities):
        raise TenantScopeError(
            "tenant data selected without a tenant entity among the columns (e.g. count(*) with "
            "select_from): select an entity's column, such as func.count(Model.id)"
        )
    for element in visitors.iterate(statement):
        if element is statement or not isinstance(element, Select):
            continue
        if any(_is_tenant_table(t) for t in find_tables(element, include_aliases=True)):
            raise TenantScopeError(
                "a subquery or EXISTS reads tenant data, which the session cannot scope: put the tenant "
                'in it yourself and mark the statement .execution_options(tenant_criteria="explicit")'
            )


@event.listens_for(Session, "before_flush")
def _check_rows(session: Session, _flush_context: Any, _instances: Any) -> None:
    scope = scope_of(session)
    for obj in session.new:
        if not isinstance(obj, TenantMixin):
            continue
        if cast("uuid.UUID | None", obj.tenant_id) is None:  # unset until stamped here
            if scope is None or scope.tenant_id is None:
                raise TenantScopeError(f"{type(obj).__name__} added without a tenant")
            obj.tenant_id = scope.tenant_id
        elif scope is not None and not scope.platform and obj.tenant_id != scope.tenant_id:
            raise TenantScopeError(f"{type(obj).__name__} of another tenant added to a tenant session")
    for obj in session.dirty:
        if isinstance(obj, TenantMixin) and inspect(obj).attrs.tenant_id.history.has_changes():
            raise TenantScopeError(f"the tenant of a {type(obj).__name__} cannot change")
