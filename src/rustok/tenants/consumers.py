"""What the tenants module does on events: keep every process's tenant cache true."""

from __future__ import annotations

from typing import Any

from rustok.core.events import Envelope
from rustok.core.uow import UnitOfWork
from rustok.outbox import consumer
from rustok.tenants.repository import TenantRepository
from rustok.tenants.service import forget_everywhere


@consumer("tenants.cache", "tenant.created", "tenant.updated", "locale.enabled", "locale.disabled")
async def invalidate_cached_tenant(event: Envelope[Any], uow: UnitOfWork) -> None:
    """Drop the tenant from the caches (this process, Redis, the others through pub/sub). A created tenant
    may sit in a cache as "unknown" under its slug or domain, so its current keys go too."""
    current = await TenantRepository(uow.session).resolved(("id", str(event.tenant_id)))
    await forget_everywhere(event.tenant_id, current)


CONSUMERS = [invalidate_cached_tenant]
