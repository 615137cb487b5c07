"""Users in and out."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.config import JsonDict

from rustok.core.fields import Strict
from rustok.core.permissions import Role
from rustok.users.models import UserStatus
from rustok.users.passwords import MAX_LENGTH, MIN_LENGTH

# Pragmatic: one @, no spaces or control characters, a dotted domain. Deliverability is the mailer's business.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f.]+(?:\.[^@\s\x00-\x1f\x7f.]+)+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("not an email address")
    return value


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    return value


def normalize_email(email: str) -> str:
    """What uniqueness and login compare: the trimmed email in lower case."""
    return email.strip().lower()


Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=320), AfterValidator(_email)]
Password = Annotated[str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]
# What a login compares with a stored hash: any length up to the policy's maximum (never stored).
GivenPassword = Annotated[str, Field(min_length=1, max_length=MAX_LENGTH)]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_printable),
]


# Examples in the OpenAPI document (Swagger UI fills "Try it out" with them).
_USER_EXAMPLE: JsonDict = {
    "id": "0190f6a8-7c1e-7d2a-9b3c-4d5e6f708192",
    "tenant_id": "0190f6a0-1b2c-7d3e-8f40-516273849506",
    "email": "ada@example.com",
    "name": "Ada",
    "role": "customer",
    "status": "active",
    "created_at": "2026-03-01T09:30:00Z",
    "updated_at": "2026-03-01T09:30:00Z",
    "last_login_at": "2026-03-02T08:00:00Z",
}


class RegisterIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"email": "ada@example.com", "password": "correct horse battery staple", "name": "Ada"}
            ]
        }
    )

    email: Email
    password: Password
    name: Name | None = None


class LoginIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "ada@example.com", "password": "correct horse battery staple"}]
        }
    )

    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
    password: GivenPassword


class RefreshIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"refresh_token": "rt_2Qm9r4Jb0y1XkP7cVw3sL8dE"}]}
    )

    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class ChangePasswordIn(Strict):
    current_password: GivenPassword
    new_password: Password


class UserCreate(Strict):
    email: Email
    password: Password
    name: Name | None = None
    role: Role = Role.CUSTOMER
    status: UserStatus = UserStatus.ACTIVE


class FirstAdminIn(Strict):
    """A new tenant's first admin, made with it (``POST /api/admin/tenants``, ``rustok tenant create``)."""

    email: Email = Field(examples=["owner@acme.example"])
    password: Password = Field(examples=["correct horse battery staple"])
    name: Name | None = None

    def as_user(self) -> UserCreate:
        return UserCreate(email=self.email, password=self.password, name=self.name, role=Role.ADMIN)


class UserUpdate(Strict):
    """A partial change: only the fields sent are changed (``name: null`` clears the name)."""

    email: Email | None = None
    password: Password | None = None
    name: Name | None = None
    role: Role | None = None
    status: UserStatus | None = None

    @model_validator(mode="after")
    def _only_name_clears(self) -> UserUpdate:
        for field in ("email", "password", "role", "status"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_USER_EXAMPLE]})

    id: uuid.UUID
    tenant_id: uuid.UUID
    email: str
    name: str | None
    role: Role
    status: UserStatus
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None


class AuthOut(BaseModel):
    """What register, login and refresh answer: the user and a fresh token pair."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user": _USER_EXAMPLE,
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMTkwZjZhOC...",
                    "refresh_token": "rt_2Qm9r4Jb0y1XkP7cVw3sL8dE",
                    "token_type": "bearer",
                    "expires_in": 900,
                }
            ]
        }
    )

    user: UserOut
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip: str | None
    current: bool = False
