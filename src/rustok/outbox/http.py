"""Operators' view of the outbox: ``/api/admin/events``. An admin (or a manager, read-only) sees the events
of its own tenant; a super_admin sees every tenant's (the platform scope)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from rustok.core.deps import PageDep, UoWDep
from rustok.core.errors import problem_responses
from rustok.core.pagination import Page
from rustok.core.permissions import Role
from rustok.core.routing import make_router
from rustok.core.security import Principal, requires
from rustok.core.uow import UnitOfWork
from rustok.outbox import service
from rustok.outbox.models import EventStatus
from rustok.outbox.registry import ConsumerRegistry
from rustok.outbox.schemas import EventOut, EventStats

router = make_router(prefix="/api/admin/events", tags=["events"])


def _unit_of_work(permission: str) -> Any:
    """A dependency checking ``permission`` and giving the request's unit of work in the caller's scope:
    widened to the platform for a super_admin, the request's tenant otherwise."""

    check = requires(permission)  # a default, not an annotation: annotations here are strings

    async def scoped(uow: UoWDep, principal: Principal = check) -> UnitOfWork:
        if principal.role is Role.SUPER_ADMIN:
            uow.widen_to_platform()
        return uow

    return Depends(scoped)


async def _consumers(request: Request) -> ConsumerRegistry:
    """The consumers the app's relay delivers to (of the composition root's runtime)."""
    registry: ConsumerRegistry = request.app.state.runtime.consumers
    return registry


@router.get(
    "",
    response_model=Page[EventOut],
    summary="Events of the outbox, newest first",
    responses=problem_responses(400, 401, 403),
)
async def list_events(
    page: PageDep,
    uow: Annotated[UnitOfWork, _unit_of_work("events:list")],
    status: Annotated[EventStatus | None, Query()] = None,
    event_type: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[EventOut]:
    return await service.list_events(uow, page, status=status, event_type=event_type)


@router.get(
    "/stats",
    response_model=EventStats,
    summary="Pending and failed counts, the oldest pending event's age, each consumer's lag",
    responses=problem_responses(401, 403),
)
async def event_stats(
    uow: Annotated[UnitOfWork, _unit_of_work("events:read")],
    consumers: Annotated[ConsumerRegistry, Depends(_consumers)],
) -> EventStats:
    return await service.event_stats(uow, consumers)


@router.post(
    "/{event_id}/retry",
    response_model=EventOut,
    summary="Give a failed event a fresh set of attempts, due now",
    responses=problem_responses(401, 403, 404, 409),
)
async def retry_event(
    event_id: uuid.UUID, uow: Annotated[UnitOfWork, _unit_of_work("events:update")]
) -> EventOut:
    return await service.retry_event(uow, event_id)
