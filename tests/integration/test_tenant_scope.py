"""Every ORM statement on tenant data is scoped to the session's tenant, by construction."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import aliased, selectinload

from rustok.core.repository import Repository
from rustok.core.tenancy import TenantScope, TenantScopeError
from rustok.core.uow import UnitOfWork
from tests.integration.scratch import Part, Setting, Widget

pytestmark = pytest.mark.usefixtures("scratch_tables")

ACME = uuid.UUID("01900000-0000-7000-8000-00000000000a")
GLOBEX = uuid.UUID("01900000-0000-7000-8000-00000000000b")


class WidgetRepository(Repository[Widget]):
    model = Widget
    noun = "widget"


async def _seed(make_uow: Callable[..., UnitOfWork]) -> dict[uuid.UUID, Widget]:
    """Two tenants with two widgets each, one part per widget; returns the widgets by id."""
    widgets: dict[uuid.UUID, Widget] = {}
    for tenant in (ACME, GLOBEX):
        async with make_uow(TenantScope.of(tenant)) as uow:
            for n in range(2):
                widget = Widget(name=f"{tenant.hex[-1]}-{n}")
                uow.session.add(widget)
                await uow.session.flush()
                uow.session.add(Part(widget_id=widget.id, label=f"part of {widget.name}"))
                widgets[widget.id] = widget
    return widgets


async def test_reads_see_only_the_sessions_tenant(make_uow: Callable[..., UnitOfWork]) -> None:
    widgets = await _seed(make_uow)

    async with make_uow(TenantScope.of(ACME), write=False) as uow:
        names = sorted((await uow.session.scalars(select(Widget.name))).all())
        count = (await uow.session.execute(select(func.count(Widget.id)))).scalar_one()
        other = aliased(Widget)
        joined = (
            await uow.session.execute(select(Part.label, other.name).join(other, Part.widget_id == other.id))
        ).all()
        loaded = (await uow.session.scalars(select(Widget).options(selectinload(Widget.parts)))).all()

    assert names == ["a-0", "a-1"]
    assert count == 2
    assert len(joined) == 2
    assert all(name.startswith("a-") for _, name in joined)
    assert {len(w.parts) for w in loaded} == {1}
    assert all(w.tenant_id == ACME for w in widgets.values() if w.name.startswith("a-"))


async def test_another_tenants_id_is_not_found(make_uow: Callable[..., UnitOfWork]) -> None:
    widgets = await _seed(make_uow)
    globex_widget = next(w for w in widgets.values() if w.tenant_id == GLOBEX)

    async with make_uow(TenantScope.of(ACME), write=False) as uow:
        repo = WidgetRepository(uow.session)
        assert await repo.get(globex_widget.id) is None
        with pytest.raises(Exception, match="No widget with id") as caught:
            await repo.get_or_404(globex_widget.id)

    assert getattr(caught.value, "status", None) == 404


async def test_bulk_update_and_delete_touch_only_the_sessions_tenant(
    make_uow: Callable[..., UnitOfWork],
) -> None:
    await _seed(make_uow)

    async with make_uow(TenantScope.of(ACME)) as uow:
        await uow.session.execute(update(Widget).values(name="renamed"))
        await uow.session.execute(delete(Part))

    async with make_uow(TenantScope.all_tenants(), write=False) as uow:
        rows = (await uow.session.execute(select(Widget.tenant_id, Widget.name))).all()
        parts = (await uow.session.scalars(select(Part.tenant_id))).all()

    assert sorted(name for tenant, name in rows if tenant == ACME) == ["renamed", "renamed"]
    assert sorted(name for tenant, name in rows if tenant == GLOBEX) == ["b-0", "b-1"]
    assert parts == [GLOBEX, GLOBEX]


async def test_a_session_without_a_tenant_cannot_touch_tenant_data(
    make_uow: Callable[..., UnitOfWork],
) -> None:
    async with make_uow(None, write=False) as uow:
        with pytest.raises(TenantScopeError):
            await uow.session.execute(select(Widget))
        with pytest.raises(TenantScopeError):
            await uow.session.execute(update(Widget).values(name="everyone's"))
        # Tables that are not tenant data need no scope.
        assert (await uow.session.scalars(select(Setting))).all() == []


async def test_shapes_the_scope_cannot_reach_are_refused_not_run(
    make_uow: Callable[..., UnitOfWork],
) -> None:
    await _seed(make_uow)
    unreachable = {
        "count(*) over select_from": select(func.count()).select_from(Widget),
        "exists": select(exists().where(Widget.name == "a-0")),
        "subquery": select(func.count(Part.id)).where(Part.widget_id.in_(select(Widget.id))),
    }
    async with make_uow(TenantScope.of(ACME), write=False) as uow:
        for shape, statement in unreachable.items():
            with pytest.raises(TenantScopeError):
                await uow.session.execute(statement)
                pytest.fail(f"{shape} ran unscoped")

        # The documented way out: name the tenant in the subquery and say so.
        explicit = (
            select(func.count(Part.id))
            .where(Part.widget_id.in_(select(Widget.id).where(Widget.tenant_id == ACME)))
            .execution_options(tenant_criteria="explicit")
        )
        assert (await uow.session.execute(explicit)).scalar_one() == 2


async def test_joins_and_outer_joins_are_scoped_in_their_on_clause(
    make_uow: Callable[..., UnitOfWork],
) -> None:
    widgets = await _seed(make_uow)
    globex_widget = next(w for w in widgets.values() if w.tenant_id == GLOBEX)
    async with make_uow(TenantScope.of(ACME)) as uow:
        # A row of ACME that points at GLOBEX's widget: the join must not reveal it.
        uow.session.add(Part(widget_id=globex_widget.id, label="dangling"))

    async with make_uow(TenantScope.of(ACME), write=False) as uow:
        inner = (
            await uow.session.execute(select(Part.label).join(Widget, Part.widget_id == Widget.id))
        ).all()
        outer: dict[str, str | None] = dict(
            (
                await uow.session.execute(
                    select(Part.label, Widget.name).outerjoin(Widget, Part.widget_id == Widget.id)
                )
            ).all()
        )

    assert sorted(label for (label,) in inner) == ["part of a-0", "part of a-1"]
    assert outer["dangling"] is None
    assert outer["part of a-0"] == "a-0"


async def test_new_rows_take_the_sessions_tenant_and_cannot_name_another(
    make_uow: Callable[..., UnitOfWork],
) -> None:
    async with make_uow(TenantScope.of(ACME)) as uow:
        stamped = await WidgetRepository(uow.session).add(Widget(name="stamped"))
    assert stamped.tenant_id == ACME

    with pytest.raises(TenantScopeError, match="another tenant"):
        async with make_uow(TenantScope.of(ACME)) as uow:
            uow.session.add(Widget(name="smuggled", tenant_id=GLOBEX))
            await uow.session.flush()

    with pytest.raises(TenantScopeError, match="without a tenant"):
        async with make_uow(None) as uow:
            uow.session.add(Widget(name="orphan"))
            await uow.session.flush()


async def test_the_tenant_of_a_row_cannot_change(make_uow: Callable[..., UnitOfWork]) -> None:
    await _seed(make_uow)
    with pytest.raises(TenantScopeError, match="cannot change"):
        async with make_uow(TenantScope.all_tenants()) as uow:
            widget = (await uow.session.scalars(select(Widget).where(Widget.tenant_id == ACME))).first()
            assert widget is not None
            widget.tenant_id = GLOBEX
            await uow.session.flush()


async def test_the_repository_pages_and_counts_within_the_tenant(
    make_uow: Callable[..., UnitOfWork],
) -> None:
    await _seed(make_uow)
    from rustok.core.pagination import PageParams

    async with make_uow(TenantScope.of(GLOBEX), write=False) as uow:
        repo = WidgetRepository(uow.session)
        first = await repo.page(PageParams(limit=1))
        assert first.next_cursor is not None
        second = await repo.page(PageParams(limit=1, cursor=first.next_cursor))
        total = await repo.count()
        newest_first = await repo.page(PageParams(limit=5), descending=True)

    assert [w.name for w in first.items] == ["b-0"]
    assert [w.name for w in second.items] == ["b-1"]
    assert second.next_cursor is None
    assert total == 2
    assert [w.name for w in newest_first.items] == ["b-1", "b-0"]
