"""The events of the tenants module: tenants and their enabled locales."""

from __future__ import annotations

import uuid

from rustok.core.event_fields import Locale
from rustok.core.events import DomainEvent


class TenantCreated(DomainEvent, event_type="tenant.created"):
    tenant_id: uuid.UUID


class TenantUpdated(DomainEvent, event_type="tenant.updated"):
    tenant_id: uuid.UUID


class LocaleEnabled(DomainEvent, event_type="locale.enabled"):
    locale: Locale


class LocaleDisabled(DomainEvent, event_type="locale.disabled"):
    locale: Locale
