"""The authenticator the app installs (``app.state.authenticator``): who is calling, from the bearer token.

A request without ``Authorization`` is anonymous. Anything else must be a valid access token of the request's
resolved tenant (a token of another tenant, or any token outside ``/api/*``, is refused), and its session and
user are read from the database on every request, in the request's own unit of work (one transaction), so
that a revoked session, a disabled user or a changed role takes effect at once: the role comes from the
user's row, not from the token. Every failure is the same 401 ``invalid_token``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from rustok.core import clock
from rustok.core.errors import Unauthorized
from rustok.core.events import set_actor
from rustok.core.permissions import Role
from rustok.core.request import RequestTenant
from rustok.core.security import ANONYMOUS, Principal, public
from rustok.core.settings import Settings
from rustok.core.uow import UnitOfWork
from rustok.users.models import UserStatus
from rustok.users.repository import SessionRepository
from rustok.users.tokens import InvalidToken, decode_access_token


def _invalid_token(detail: str = "The access token is not valid.") -> Unauthorized:
    return Unauthorized(
        detail, code="invalid_token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


async def authenticate(
    header: str | None, tenant: RequestTenant | None, uow: UnitOfWork, settings: Settings
) -> Principal:
    """The caller behind the ``Authorization`` header, checked in the request's unit of work ``uow``."""
    if not header:
        set_actor(None)  # nothing of an earlier request served in this context carries over
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _invalid_token("Send the access token as `Authorization: Bearer <token>`.")
    if tenant is None:
        raise _invalid_token("Access tokens are accepted on /api/* only.")
    try:
        claims = decode_access_token(settings, token)
    except InvalidToken:
        raise _invalid_token() from None
    if claims.tenant_id != tenant.id:
        raise _invalid_token()
    state = await SessionRepository(uow.session).state(claims.session_id, claims.user_id)
    if (
        state is None
        or state.status != UserStatus.ACTIVE
        or state.revoked_at is not None
        or state.expires_at <= clock.now()
    ):
        raise _invalid_token()
    set_actor(claims.user_id)
    return Principal(
        user_id=claims.user_id, tenant_id=tenant.id, role=Role(state.role), session_id=claims.session_id
    )


async def _authenticated(principal: Annotated[Principal, public()]) -> Principal:
    if not principal.authenticated:
        raise Unauthorized("Authentication is required.", headers={"WWW-Authenticate": "Bearer"})
    return principal


# Routes about the caller's own account (``/api/auth/me``, ...): any role, but signed in. They declare
# ``public`` (no permission of the matrix applies) and refuse anonymous callers with a 401.
Authenticated = Annotated[Principal, Depends(_authenticated)]
