"""Tenants in and out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rustok.core.event_fields import Locale
from rustok.users.schemas import FirstAdminIn, UserOut

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
Domain = Annotated[
    str,
    StringConstraints(
        to_lower=True,
        max_length=253,
        pattern=r"^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    ),
]


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    slug: Slug
    domain: Domain | None = None
    default_locale: Locale = "en"
    settings: dict[str, Any] = Field(default_factory=dict)
    is_active: bool = True


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    slug: str
    domain: str | None
    default_locale: str
    settings: dict[str, Any]
    is_active: bool
    created_at: datetime
    updated_at: datetime


class TenantCreateIn(TenantCreate):
    admin: FirstAdminIn | None = Field(
        default=None, description="Its first admin, made in the same transaction (as `rustok tenant create`)."
    )


class TenantCreatedOut(TenantOut):
    admin: UserOut | None = Field(description="The first admin, when one was asked for.")


class TenantUpdate(BaseModel):
    """A platform operator's change to a tenant; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    slug: Slug | None = None
    domain: Domain | None = None
    default_locale: Locale | None = None
    settings: dict[str, Any] | None = None
    is_active: bool | None = None


class CurrentTenantUpdate(BaseModel):
    """What a tenant's admin may change of its own tenant."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    settings: dict[str, Any] | None = None


class LocaleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: Locale
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    is_default: bool = False


class LocaleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    locale: str
    name: str | None
    is_default: bool
    fallback_locale: str | None
