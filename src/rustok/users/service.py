"""The users module's use cases: accounts, sign-in, sessions and the staff's management of users.

Security rules kept here:

- A login that fails says only ``invalid_credentials``, whether the email is unknown, the password wrong or
  the account disabled, and costs the same (an unknown email is verified against a dummy hash).
- Every sign-in opens a session; access tokens name it (``sid``) and die with it. Refresh tokens are single
  use: each refresh marks the presented one used and issues a new one in the same session; presenting a used
  one again revokes the session (whoever holds the stolen copy and the rightful owner both lose it).
- Only a super_admin grants super_admin or changes a super_admin's account; nobody changes their own role.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from rustok.core import clock
from rustok.core.deps import RequestContext
from rustok.core.errors import Conflict, Forbidden, Unauthorized
from rustok.core.pagination import PageParams, Slice
from rustok.core.permissions import Action, Permission, Role
from rustok.core.security import Principal
from rustok.core.settings import Settings, get_settings
from rustok.core.uow import UnitOfWork
from rustok.users.events import UserDeleted, UserLoggedIn, UserRegistered, UserUpdated
from rustok.users.models import AuthSession, RefreshToken, User, UserStatus
from rustok.users.passwords import passwords_for
from rustok.users.permissions import USERS
from rustok.users.repository import RefreshTokenRepository, SessionRepository, UserRepository
from rustok.users.schemas import (
    ChangePasswordIn,
    LoginIn,
    RegisterIn,
    UserCreate,
    UserUpdate,
    normalize_email,
)
from rustok.users.tokens import issue_access_token, new_refresh_token, refresh_token_hash

USER_AGENT_MAX = 300
IP_MAX = 64


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Where a sign-in comes from, kept on its session for the user's list of sessions."""

    user_agent: str | None = None
    ip: str | None = None


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    access_token: str
    refresh_token: str
    expires_in: int


class RefreshTokenReused(Unauthorized):
    """A refresh token was presented a second time: its session has been revoked. The revocation must be
    committed, so the caller answers this error instead of letting it roll the unit of work back."""

    code = "refresh_token_reused"


def _invalid_credentials() -> Unauthorized:
    return Unauthorized("The email or the password is wrong.", code="invalid_credentials")


def _invalid_refresh_token() -> Unauthorized:
    return Unauthorized("The refresh token is unknown, expired or revoked.", code="invalid_refresh_token")


def _email_taken(email: str) -> Conflict:
    return Conflict(f"A user with email {email!r} exists in this tenant.", code="email_taken")


# ------------------------------------------------------------------------------------------------ accounts


async def create_user(
    uow: UnitOfWork, tenant_id: uuid.UUID, data: UserCreate, *, settings: Settings | None = None
) -> User:
    """A new user of ``tenant_id``, recorded as ``user.registered``. Works in the tenant's unit of work and
    in a platform one (``rustok tenant create --admin-email``, ``rustok user create``); the caller checks
    that the tenant exists and who may grant the role. A taken email (case-insensitive) is a 409."""
    settings = settings or get_settings()
    users = UserRepository(uow.session)
    normalized = normalize_email(data.email)
    if await users.email_taken(tenant_id, normalized):
        raise _email_taken(data.email)
    user = User(
        tenant_id=tenant_id,
        email=data.email,
        email_normalized=normalized,
        name=data.name,
        password_hash=await passwords_for(settings).hash(data.password),
        role=data.role.value,
        status=data.status.value,
    )
    await _flush_unique(users.add(user), data.email)
    uow.record(UserRegistered(user_id=user.id, email=user.email), tenant_id=tenant_id)
    return user


async def _flush_unique(pending: Awaitable[object], email: str) -> None:
    """Await a write whose unique email may have been taken concurrently since the check: a 409."""
    try:
        await pending
    except IntegrityError as exc:
        raise _email_taken(email) from exc


def _registration_open(ctx: RequestContext) -> bool:
    settings = ctx.tenant_settings
    return settings.get("registration") != "closed" and settings.get("registration_open", True) is not False


async def register(ctx: RequestContext, data: RegisterIn, *, client: ClientInfo) -> SignedIn:
    """Self-service sign-up as a customer, signed in at once (unless the tenant's settings close it)."""
    uow, settings = ctx.uow, ctx.settings
    if not _registration_open(ctx):
        raise Forbidden("This tenant does not accept registrations.", code="registration_closed")
    create = UserCreate(email=data.email, password=data.password, name=data.name, role=Role.CUSTOMER)
    user = await create_user(uow, ctx.tenant_id, create, settings=settings)
    return await _sign_in(uow, settings, user, client)


async def login(ctx: RequestContext, data: LoginIn, *, client: ClientInfo) -> SignedIn:
    uow, settings = ctx.uow, ctx.settings
    passwords = passwords_for(settings)
    user = await UserRepository(uow.session).by_email(ctx.tenant_id, normalize_email(data.email))
    if user is None:
        await passwords.verify_nothing(data.password)
        raise _invalid_credentials()
    if not await passwords.verify(user.password_hash, data.password) or not user.is_active:
        raise _invalid_credentials()
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash(data.password)
    user.last_login_at = clock.now()
    signed_in = await _sign_in(uow, settings, user, client)
    uow.record(UserLoggedIn(user_id=user.id))
    return signed_in


async def _sign_in(uow: UnitOfWork, settings: Settings, user: User, client: ClientInfo) -> SignedIn:
    now = clock.now()
    session = AuthSession(
        user_id=user.id,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
        user_agent=client.user_agent[:USER_AGENT_MAX] if client.user_agent else None,
        ip=client.ip[:IP_MAX] if client.ip else None,
    )
    await SessionRepository(uow.session).add(session)
    return await _issue(uow, settings, user, session)


async def _issue(uow: UnitOfWork, settings: Settings, user: User, session: AuthSession) -> SignedIn:
    """A new token pair in ``session``, which lives as long as its newest refresh token."""
    now = clock.now()
    refresh_token = new_refresh_token()
    session.expires_at = now + timedelta(seconds=settings.refresh_token_ttl_seconds)
    await RefreshTokenRepository(uow.session).add(
        RefreshToken(
            session_id=session.id,
            token_hash=refresh_token_hash(refresh_token),
            issued_at=now,
            expires_at=session.expires_at,
        )
    )
    access_token, claims = issue_access_token(
        settings, user_id=user.id, tenant_id=user.tenant_id, role=user.role, session_id=session.id
    )
    return SignedIn(
        user=user,
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=int((claims.expires_at - claims.issued_at).total_seconds()),
    )


async def refresh(ctx: RequestContext, presented: str) -> SignedIn:
    """A new token pair for a valid refresh token, which is used up. A used one revokes its session and
    raises `RefreshTokenReused` (whose revocation the caller must let commit)."""
    uow, settings = ctx.uow, ctx.settings
    now = clock.now()
    tokens = RefreshTokenRepository(uow.session)
    token = await tokens.by_hash(refresh_token_hash(presented))
    if token is None or token.expires_at <= now:
        raise _invalid_refresh_token()
    session = await SessionRepository(uow.session).get(token.session_id)
    if session is None:
        raise _invalid_refresh_token()
    if token.used_at is not None or not await tokens.use(token, now):
        if session.revoked_at is None:
            session.revoked_at = now
            await uow.session.flush()
        raise RefreshTokenReused("This refresh token was already used; its session has been revoked.")
    if not session.is_live(now):
        raise _invalid_refresh_token()
    user = await UserRepository(uow.session).get(session.user_id)
    if user is None or not user.is_active:
        raise _invalid_refresh_token()
    session.last_used_at = now
    return await _issue(uow, settings, user, session)


async def logout(ctx: RequestContext) -> None:
    """Revoke the caller's session: its access and refresh tokens stop working."""
    session = await SessionRepository(ctx.uow.session).get(_session_of(ctx.principal))
    if session is not None and session.revoked_at is None:
        session.revoked_at = clock.now()
        await ctx.uow.session.flush()


async def me(ctx: RequestContext) -> User:
    return await UserRepository(ctx.uow.session).get_or_404(_user_of(ctx.principal))


async def change_password(ctx: RequestContext, data: ChangePasswordIn) -> None:
    """Set a new password after checking the current one; every other session of the user is revoked."""
    uow, principal = ctx.uow, ctx.principal
    passwords = passwords_for(ctx.settings)
    user = await me(ctx)
    if not await passwords.verify(user.password_hash, data.current_password):
        raise Forbidden("The current password is wrong.", code="invalid_credentials")
    user.password_hash = await passwords.hash(data.new_password)
    await uow.session.flush()
    await SessionRepository(uow.session).revoke_all(user.id, clock.now(), keep=_session_of(principal))
    uow.record(UserUpdated(user_id=user.id))


async def list_sessions(ctx: RequestContext, params: PageParams) -> Slice[AuthSession]:
    """The caller's live sessions (neither revoked nor expired)."""
    return await SessionRepository(ctx.uow.session).live_page(_user_of(ctx.principal), clock.now(), params)


async def revoke_all_sessions(ctx: RequestContext) -> None:
    """Revoke every session of the caller, the current one included."""
    await SessionRepository(ctx.uow.session).revoke_all(_user_of(ctx.principal), clock.now())


def _user_of(principal: Principal) -> uuid.UUID:
    if principal.user_id is None:
        raise Unauthorized("Authentication is required.", headers={"WWW-Authenticate": "Bearer"})
    return principal.user_id


def _session_of(principal: Principal) -> uuid.UUID:
    _user_of(principal)
    assert principal.session_id is not None, "an authenticated principal has a session"
    return principal.session_id


# -------------------------------------------------------------------------------------------------- staff


def _is_super_admin(principal: Principal) -> bool:
    return principal.role is Role.SUPER_ADMIN


def _may_grant(principal: Principal, role: Role) -> None:
    if role is Role.SUPER_ADMIN and not _is_super_admin(principal):
        raise Forbidden("Only a super_admin may grant super_admin.", code="cannot_grant_role")


def _may_manage(principal: Principal, user: User) -> None:
    # Changing a super_admin's password, email or status would be a way to become one.
    if user.role == Role.SUPER_ADMIN and not _is_super_admin(principal):
        raise Forbidden("Only a super_admin may change a super_admin's account.", code="cannot_manage_user")


async def list_users(
    ctx: RequestContext,
    params: PageParams,
    *,
    role: Role | None = None,
    status: UserStatus | None = None,
) -> Slice[User]:
    ctx.authorize(Permission(USERS, Action.LIST))
    where = []
    if role is not None:
        where.append(User.role == role.value)
    if status is not None:
        where.append(User.status == status.value)
    return await UserRepository(ctx.uow.session).page(params, *where)


async def display_names(uow: UnitOfWork, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    """The display names of the tenant's users among ``user_ids`` (for other modules' read models; an id
    with no user is absent)."""
    return await UserRepository(uow.session).names(set(user_ids))


async def get_user(ctx: RequestContext, user_id: uuid.UUID) -> User:
    ctx.authorize(Permission(USERS, Action.READ))
    return await UserRepository(ctx.uow.session).get_or_404(user_id)


async def create_staff_user(ctx: RequestContext, data: UserCreate) -> User:
    ctx.authorize(Permission(USERS, Action.CREATE))
    _may_grant(ctx.principal, data.role)
    return await create_user(ctx.uow, ctx.tenant_id, data, settings=ctx.settings)


async def update_user(ctx: RequestContext, user_id: uuid.UUID, data: UserUpdate) -> User:
    """A partial change of a user. A new password or a disabled status revokes the user's sessions."""
    ctx.authorize(Permission(USERS, Action.UPDATE))
    uow, principal, settings = ctx.uow, ctx.principal, ctx.settings
    users = UserRepository(uow.session)
    user = await users.get_or_404(user_id)
    _may_manage(principal, user)
    changes = data.model_dump(exclude_unset=True)
    if data.role is not None and data.role != user.role:
        if user.id == principal.user_id:
            raise Forbidden("You cannot change your own role.", code="cannot_change_own_role")
        _may_grant(principal, data.role)
        user.role = data.role.value
    if data.email is not None and data.email != user.email:
        normalized = normalize_email(data.email)
        if await users.email_taken(user.tenant_id, normalized, other_than=user.id):
            raise _email_taken(data.email)
        user.email, user.email_normalized = data.email, normalized
    if "name" in changes:
        user.name = data.name
    end_sessions = False
    if data.password is not None:
        user.password_hash = await passwords_for(settings).hash(data.password)
        end_sessions = True
    if data.status is not None and data.status != user.status:
        user.status = data.status.value
        end_sessions = end_sessions or data.status is UserStatus.DISABLED
    if uow.session.is_modified(user):
        await _flush_unique(uow.session.flush(), user.email)
        if end_sessions:
            await SessionRepository(uow.session).revoke_all(user.id, clock.now())
        uow.record(UserUpdated(user_id=user.id))
    return user


async def delete_user(ctx: RequestContext, user_id: uuid.UUID) -> None:
    ctx.authorize(Permission(USERS, Action.DELETE))
    uow = ctx.uow
    users = UserRepository(uow.session)
    user = await users.get_or_404(user_id)
    _may_manage(ctx.principal, user)
    await users.delete(user)
    uow.record(UserDeleted(user_id=user_id))
