"""The tenant cache: every request resolves its tenant, so the lookup must almost never reach the database.

Two layers: a bounded in-process LRU with a TTL, and Redis when ``RUSTOK_REDIS_URL`` is set, shared by every
process. Both hold positive entries (the tenant) and negative ones (no such tenant) with their own TTLs, so a
flood of requests for a tenant that does not exist is as cheap as one for a tenant that does. Keys are
versioned (``CACHE_VERSION``): a deploy that changes the cached shape does not read the old entries.

A miss goes through a `SingleFlight`: concurrent misses for one key wait for the one lookup in flight
(Redis, then the database), so a burst of cold requests costs one query, also when the answer is "none".

Invalidation: `invalidate(tenant_id)` drops every key that points at the tenant (by id, slug and domain, in
both layers), the tenant's current keys (which may hold a negative entry from before it existed or was
renamed), and tells the other processes through Redis pub/sub (``CHANNEL``). The tenants module calls it
after a commit that changed a tenant, and its consumer of ``tenant.*`` and ``locale.*`` events calls it in
the relay's process. The TTLs bound what a lost message could leave stale.

Redis is an optimisation, never a dependency: when it fails, the cache logs it and serves from the process
cache and the database. A request never fails because Redis did.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rustok.core.logging import get_logger
from rustok.core.singleflight import SingleFlight

log = get_logger("rustok.tenants.cache")

CACHE_VERSION = "v1"
CHANNEL = f"rustok:tenants:{CACHE_VERSION}:invalidate"
KeyKind = Literal["id", "slug", "domain"]
TenantKey = tuple[KeyKind, str]


@dataclass(frozen=True, slots=True)
class ResolvedTenant:
    """What a request needs to know of its tenant, as cached."""

    id: uuid.UUID
    name: str
    slug: str
    domain: str | None
    default_locale: str
    is_active: bool
    settings: dict[str, Any] = field(default_factory=dict)
    locales: tuple[str, ...] = ()  # enabled locales, the default first

    def cache_keys(self) -> list[TenantKey]:
        found: list[TenantKey] = [("id", str(self.id)), ("slug", self.slug)]
        if self.domain:
            found.append(("domain", self.domain))
        return found

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["id"] = str(self.id)
        data["locales"] = list(self.locales)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResolvedTenant:
        return cls(**{**data, "id": uuid.UUID(data["id"]), "locales": tuple(data["locales"])})


Loader = Callable[[TenantKey], Awaitable[ResolvedTenant | None]]


def normalize(key: TenantKey) -> TenantKey:
    kind, value = key
    return (kind, value.lower()) if kind in ("slug", "domain") else key


class TenantCache:
    def __init__(
        self,
        load: Loader,
        *,
        redis: Any = None,
        ttl: float = 60.0,
        negative_ttl: float = 10.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._redis = redis
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[TenantKey, tuple[float, ResolvedTenant | None]] = OrderedDict()
        self._flights: SingleFlight[TenantKey, ResolvedTenant | None] = SingleFlight()
        self.lookups = 0  # loads that reached the database, for the metrics and the bench

    # ------------------------------------------------------------------------------------------ reads

    async def get(self, key: TenantKey) -> ResolvedTenant | None:
        key = normalize(key)
        entry = self._entries.get(key)
        if entry is not None:
            expires, value = entry
            if expires > self._clock():
                self._entries.move_to_end(key)
                return value
            del self._entries[key]
        return await self._flights.do(key, lambda: self._miss(key))

    async def _miss(self, key: TenantKey) -> ResolvedTenant | None:
        found, value = await self._from_redis(key)
        if not found:
            self.lookups += 1
            value = await self._load(key)
            await self._to_redis(key, value)
        self._remember(key, value)
        return value

    def _remember(self, key: TenantKey, value: ResolvedTenant | None) -> None:
        ttl = self.ttl if value is not None else self.negative_ttl
        self._entries[key] = (self._clock() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    # ---------------------------------------------------------------------------------- invalidation

    def drop_local(self, tenant_id: uuid.UUID | None = None, keys: Iterable[TenantKey] = ()) -> None:
        """Forget, in this process, every entry of ``tenant_id`` and the given keys."""
        doomed = {normalize(k) for k in keys}
        if tenant_id is not None:
            doomed.add(("id", str(tenant_id)))
            doomed.update(
                key
                for key, (_, value) in self._entries.items()
                if value is not None and value.id == tenant_id
            )
        for key in doomed:
            self._entries.pop(key, None)

    async def invalidate(self, tenant_id: uuid.UUID, current: ResolvedTenant | None = None) -> None:
        """Forget the tenant everywhere: this process, Redis, and the other processes (pub/sub)."""
        keys = {normalize(k) for k in current.cache_keys()} if current is not None else set()
        keys.add(("id", str(tenant_id)))
        self.drop_local(tenant_id, keys)
        if self._redis is None:
            return
        try:
            index = self._index_key(tenant_id)
            indexed = await self._redis.smembers(index)
            doomed = {self._redis_key(k) for k in keys} | {_text(k) for k in indexed} | {index}
            await self._redis.delete(*doomed)
            message = {"tenant_id": str(tenant_id), "keys": [list(k) for k in keys]}
            await self._redis.publish(CHANNEL, json.dumps(message))
        except Exception as exc:  # Redis is an optimisation: the TTL bounds what is left behind
            log.warning("tenant_cache_redis_failed", operation="invalidate", error=repr(exc))

    async def listen(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        """Drop local entries that other processes invalidate, until ``stop``; reconnects after errors."""
        if self._redis is None:
            return
        while not stop.is_set():
            # A connection of its own with no read timeout: the shared client's short socket timeout is
            # for commands, and a busy event loop would otherwise drop the subscription (and its messages).
            subscriber = _without_read_timeout(self._redis)
            pubsub = subscriber.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                if ready is not None:
                    ready.set()
                while not stop.is_set():
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                    if message is not None:
                        self._apply(message.get("data"))
            except Exception as exc:
                log.warning("tenant_cache_redis_failed", operation="listen", error=repr(exc))
                await _sleep_unless(stop, 1.0)
            finally:
                try:
                    await pubsub.aclose()
                    await subscriber.aclose(close_connection_pool=True)
                except Exception as exc:
                    log.debug("tenant_cache_pubsub_close_failed", error=repr(exc))

    def _apply(self, data: Any) -> None:
        try:
            message = json.loads(_text(data))
            tenant_id = uuid.UUID(message["tenant_id"])
            keys = [(kind, value) for kind, value in message["keys"]]
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("tenant_cache_bad_message", error=repr(exc))
            return
        self.drop_local(tenant_id, keys)

    # ---------------------------------------------------------------------------------------- redis

    @staticmethod
    def _redis_key(key: TenantKey) -> str:
        kind, value = key
        return f"rustok:tenants:{CACHE_VERSION}:{kind}:{value}"

    @staticmethod
    def _index_key(tenant_id: uuid.UUID) -> str:
        return f"rustok:tenants:{CACHE_VERSION}:keys-of:{tenant_id}"

    async def _from_redis(self, key: TenantKey) -> tuple[bool, ResolvedTenant | None]:
        if self._redis is None:
            return False, None
        try:
            raw = await self._redis.get(self._redis_key(key))
        except Exception as exc:
            log.warning("tenant_cache_redis_failed", operation="get", error=repr(exc))
            return False, None
        if raw is None:
            return False, None
        try:
            data = json.loads(_text(raw))
            return True, None if data is None else ResolvedTenant.from_json(data)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("tenant_cache_bad_entry", key=self._redis_key(key), error=repr(exc))
            return False, None

    async def _to_redis(self, key: TenantKey, value: ResolvedTenant | None) -> None:
        if self._redis is None:
            return
        ttl = self.ttl if value is not None else self.negative_ttl
        name = self._redis_key(key)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.set(name, json.dumps(None if value is None else value.to_json()), px=int(ttl * 1000))
                if value is not None:
                    index = self._index_key(value.id)
                    pipe.sadd(index, name)
                    pipe.pexpire(index, int(self.ttl * 1000) * 2)
                await pipe.execute()
        except Exception as exc:
            log.warning("tenant_cache_redis_failed", operation="set", error=repr(exc))


def _without_read_timeout(redis: Any) -> Any:
    """A client on the same server and settings as ``redis``, whose reads wait as long as they must (and
    whose connecting is allowed the time a busy event loop may take)."""
    pool = redis.connection_pool
    kwargs = {**pool.connection_kwargs, "socket_timeout": None, "socket_connect_timeout": 10.0}
    return type(redis)(connection_pool=type(pool)(connection_class=pool.connection_class, **kwargs))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return
