"""The users module's SQL. Every statement runs in a tenant-scoped session (platform code that creates a
user names the tenant explicitly)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm.attributes import set_committed_value

from rustok.core.pagination import PageParams, Slice
from rustok.core.repository import Repository
from rustok.users.models import AuthSession, RefreshToken, User


class UserRepository(Repository[User]):
    model = User
    noun = "user"

    async def by_email(self, tenant_id: uuid.UUID, email_normalized: str) -> User | None:
        statement = select(User).where(User.tenant_id == tenant_id, User.email_normalized == email_normalized)
        return (await self.session.scalars(statement)).one_or_none()

    async def email_taken(
        self, tenant_id: uuid.UUID, email_normalized: str, *, other_than: uuid.UUID | None = None
    ) -> bool:
        statement = select(User.id).where(
            User.tenant_id == tenant_id, User.email_normalized == email_normalized
        )
        if other_than is not None:
            statement = statement.where(User.id != other_than)
        return (await self.session.scalar(statement)) is not None

    async def names(self, user_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str | None]:
        """The display names of those of ``user_ids`` that exist, in one statement."""
        if not user_ids:
            return {}
        rows = await self.session.execute(select(User.id, User.name).where(User.id.in_(user_ids)))
        return {row.id: row.name for row in rows}


class SessionState(NamedTuple):
    """What authenticating a request needs to know about its token's session and user."""

    role: str
    status: str
    revoked_at: datetime | None
    expires_at: datetime


class SessionRepository(Repository[AuthSession]):
    model = AuthSession
    noun = "session"

    async def state(self, session_id: uuid.UUID, user_id: uuid.UUID) -> SessionState | None:
        """The session and its user in one query (both scoped to the session's tenant)."""
        statement = (
            select(User.role, User.status, AuthSession.revoked_at, AuthSession.expires_at)
            .join_from(AuthSession, User, User.id == AuthSession.user_id)
            .where(AuthSession.id == session_id, AuthSession.user_id == user_id)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else SessionState(*row)

    def _live(self, user_id: uuid.UUID, now: datetime) -> list[ColumnElement[bool]]:
        return [
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        ]

    async def live_page(self, user_id: uuid.UUID, now: datetime, params: PageParams) -> Slice[AuthSession]:
        return await self.page(params, *self._live(user_id, now))

    async def revoke_all(self, user_id: uuid.UUID, now: datetime, *, keep: uuid.UUID | None = None) -> int:
        """Revoke the user's live sessions (but ``keep``); how many were revoked."""
        statement = update(AuthSession).where(*self._live(user_id, now)).values(revoked_at=now)
        if keep is not None:
            statement = statement.where(AuthSession.id != keep)
        result = await self.session.execute(statement.execution_options(synchronize_session="fetch"))
        return int(getattr(result, "rowcount", 0) or 0)


class RefreshTokenRepository(Repository[RefreshToken]):
    model = RefreshToken
    noun = "refresh token"

    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        statement = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        return (await self.session.scalars(statement)).one_or_none()

    async def use(self, token: RefreshToken, now: datetime) -> bool:
        """Mark the token used, unless it already was (also by a concurrent request): True when this call
        used it. The conditional UPDATE makes a refresh token single use under concurrency."""
        statement = (
            update(RefreshToken)
            .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        used = int(getattr(result, "rowcount", 0) or 0) == 1
        if used:
            set_committed_value(token, "used_at", now)
        return used
