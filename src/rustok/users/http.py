"""The users module's routes: sign-up, sign-in and sessions (``/api/auth``), and the staff's management of the
tenant's users (``/api/users``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Request, Response

from rustok.core.deps import ContextDep, PageDep
from rustok.core.errors import problem_response, problem_responses
from rustok.core.pagination import Page
from rustok.core.permissions import Role
from rustok.core.routing import make_router
from rustok.core.security import Principal, public, requires
from rustok.users import service
from rustok.users.auth import Authenticated
from rustok.users.models import UserStatus
from rustok.users.schemas import (
    AuthOut,
    ChangePasswordIn,
    LoginIn,
    RefreshIn,
    RegisterIn,
    SessionOut,
    UserCreate,
    UserOut,
    UserUpdate,
)

router = make_router(prefix="/api", tags=["users"])


def _client(request: Request) -> service.ClientInfo:
    return service.ClientInfo(
        user_agent=request.headers.get("user-agent"),
        ip=request.client.host if request.client else None,
    )


def _auth_out(signed_in: service.SignedIn) -> AuthOut:
    return AuthOut(
        user=UserOut.model_validate(signed_in.user),
        access_token=signed_in.access_token,
        refresh_token=signed_in.refresh_token,
        expires_in=signed_in.expires_in,
    )


# ---------------------------------------------------------------------------------------------------- auth


@router.post(
    "/auth/register",
    status_code=201,
    response_model=AuthOut,
    summary="Sign up as a customer of this tenant",
    dependencies=[public()],
    responses=problem_responses(403, 409, 422),
)
async def register(body: RegisterIn, request: Request, ctx: ContextDep) -> AuthOut:
    """Creates a user of the tenant with the role `customer` and signs it in: the answer carries an
    access token (send it as `Authorization: Bearer ...`) and a refresh token. A tenant may close
    registration (403 `registration_closed`); an email already used is a 409."""
    signed_in = await service.register(ctx, body, client=_client(request))
    return _auth_out(signed_in)


@router.post(
    "/auth/login",
    response_model=AuthOut,
    summary="Sign in with email and password",
    dependencies=[public()],
    responses=problem_responses(401, 422),
)
async def login(body: LoginIn, request: Request, ctx: ContextDep) -> AuthOut:
    """A wrong email and a wrong password are the same 401 `invalid_credentials`. The access token is
    short-lived (`expires_in` seconds) and valid for this tenant only; trade the refresh token for a new
    pair at `POST /api/auth/refresh`."""
    return _auth_out(await service.login(ctx, body, client=_client(request)))


@router.post(
    "/auth/refresh",
    response_model=AuthOut,
    summary="Trade a refresh token for a new token pair",
    dependencies=[public()],
    responses=problem_responses(401, 422),
)
async def refresh(body: RefreshIn, request: Request, ctx: ContextDep) -> Any:
    """Refresh tokens are used once: each call answers a new pair. Presenting a refresh token that was
    already used revokes its whole session (401), as a stolen token would be."""
    try:
        return _auth_out(await service.refresh(ctx, body.refresh_token))
    except service.RefreshTokenReused as exc:
        # Answered, not raised: raising would roll back the revocation of the session.
        return problem_response(
            exc.status, code=exc.problem_code, detail=exc.detail, instance=request.url.path
        )


@router.post(
    "/auth/logout", status_code=204, summary="Revoke the current session", responses=problem_responses(401)
)
async def logout(_: Authenticated, ctx: ContextDep) -> Response:
    await service.logout(ctx)
    return Response(status_code=204)


@router.get(
    "/auth/me", response_model=UserOut, summary="The signed-in user", responses=problem_responses(401)
)
async def me(_: Authenticated, ctx: ContextDep) -> UserOut:
    return UserOut.model_validate(await service.me(ctx))


@router.post(
    "/auth/change-password",
    status_code=204,
    summary="Change the password; the other sessions are revoked",
    responses=problem_responses(401, 403, 422),
)
async def change_password(body: ChangePasswordIn, _: Authenticated, ctx: ContextDep) -> Response:
    await service.change_password(ctx, body)
    return Response(status_code=204)


@router.get(
    "/auth/sessions",
    response_model=Page[SessionOut],
    summary="The signed-in user's live sessions",
    responses=problem_responses(401),
)
async def sessions(principal: Authenticated, ctx: ContextDep, page: PageDep) -> Page[SessionOut]:
    found = await service.list_sessions(ctx, page)
    items = [
        SessionOut.model_validate(s).model_copy(update={"current": s.id == principal.session_id})
        for s in found.items
    ]
    return Page(items=items, next_cursor=found.next_cursor)


@router.post(
    "/auth/sessions/revoke-all",
    status_code=204,
    summary="Revoke every session of the signed-in user, this one included",
    responses=problem_responses(401),
)
async def revoke_all_sessions(_: Authenticated, ctx: ContextDep) -> Response:
    await service.revoke_all_sessions(ctx)
    return Response(status_code=204)


# --------------------------------------------------------------------------------------------------- staff


@router.get(
    "/users",
    response_model=Page[UserOut],
    summary="The tenant's users",
    responses=problem_responses(401, 403),
)
async def list_users(
    _: Annotated[Principal, requires("users:list")],
    ctx: ContextDep,
    page: PageDep,
    role: Annotated[Role | None, Query()] = None,
    status: Annotated[UserStatus | None, Query()] = None,
) -> Page[UserOut]:
    found = await service.list_users(ctx, page, role=role, status=status)
    return Page(items=[UserOut.model_validate(u) for u in found.items], next_cursor=found.next_cursor)


@router.post(
    "/users",
    status_code=201,
    response_model=UserOut,
    summary="Create a user of the tenant",
    responses=problem_responses(401, 403, 409, 422),
)
async def create_user(
    body: UserCreate, _: Annotated[Principal, requires("users:create")], ctx: ContextDep
) -> UserOut:
    return UserOut.model_validate(await service.create_staff_user(ctx, body))


@router.get(
    "/users/{user_id}",
    response_model=UserOut,
    summary="One user of the tenant",
    responses=problem_responses(401, 403, 404),
)
async def get_user(
    user_id: uuid.UUID, _: Annotated[Principal, requires("users:read")], ctx: ContextDep
) -> UserOut:
    return UserOut.model_validate(await service.get_user(ctx, user_id))


@router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    summary="Change a user of the tenant",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    _: Annotated[Principal, requires("users:update")],
    ctx: ContextDep,
) -> UserOut:
    return UserOut.model_validate(await service.update_user(ctx, user_id, body))


@router.delete(
    "/users/{user_id}",
    status_code=204,
    summary="Delete a user of the tenant",
    responses=problem_responses(401, 403, 404),
)
async def delete_user(
    user_id: uuid.UUID, _: Annotated[Principal, requires("users:delete")], ctx: ContextDep
) -> Response:
    await service.delete_user(ctx, user_id)
    return Response(status_code=204)
