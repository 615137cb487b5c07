"""The users' tables: accounts of a tenant, their sessions, and the sessions' refresh tokens.

All three are tenant data. A session is what an access token is bound to (its ``sid``): revoking the session
ends every token issued in it. Refresh tokens are stored only as SHA-256 hashes and are each used once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rustok.core import clock
from rustok.core.models import Base, IdMixin, TenantMixin, TimestampMixin, one_of
from rustok.core.permissions import Role


class UserStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class User(IdMixin, TimestampMixin, TenantMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email_normalized"),
        CheckConstraint(one_of("role", Role), name="role"),
        CheckConstraint(one_of("status", UserStatus), name="status"),
    )

    # Indexed by the unique constraint, whose first column it is.
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    # The email in lower case: what uniqueness and login compare.
    email_normalized: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default=UserStatus.ACTIVE.value)
    last_login_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.ACTIVE


class AuthSession(IdMixin, TenantMixin, Base):
    __tablename__ = "user_sessions"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_used_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(64))

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class RefreshToken(IdMixin, TenantMixin, Base):
    __tablename__ = "refresh_tokens"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
