"""The events of the users module."""

from __future__ import annotations

import uuid

from pydantic import Field

from rustok.core.events import DomainEvent


class UserRegistered(DomainEvent, event_type="user.registered"):
    user_id: uuid.UUID
    email: str = Field(max_length=320)


class UserLoggedIn(DomainEvent, event_type="user.logged_in"):
    user_id: uuid.UUID


class UserUpdated(DomainEvent, event_type="user.updated"):
    user_id: uuid.UUID


class UserDeleted(DomainEvent, event_type="user.deleted"):
    user_id: uuid.UUID
