"""The external broker: every event is published to NATS JetStream when ``RUSTOK_NATS_URL`` is set.

The publisher is a consumer like any other (``broker.nats``, subscribed to every type of the catalog), so
it inherits the relay's guarantees: at-least-once, a tenant's events in commit order, retries with backoff
and dead letters when the broker is down, replay. Each message carries the event id as JetStream's
de-duplication id (``Nats-Msg-Id``), so a redelivery within the stream's duplicate window (two minutes by
default) is recognised by the broker and stored once.

Subjects are ``<prefix>.<tenant id>.<event type>`` (``rustok.events.0190....node.created``), so a
subscriber can take one tenant (``rustok.events.<id>.>``) or one type (``rustok.events.*.node.created``).
The body is the envelope as JSON (`Envelope.as_json`), at the current schema version. The stream is
created on first use when it does not exist.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from rustok.core.events import CATALOG, Catalog, Envelope
from rustok.core.logging import get_logger
from rustok.core.uow import UnitOfWork
from rustok.outbox.registry import Consumer

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.js.client import JetStreamContext

log = get_logger("rustok.broker")

BROKER_CONSUMER = "broker.nats"
MESSAGE_ID_HEADER = "Nats-Msg-Id"


class NatsPublisher:
    def __init__(
        self,
        url: str,
        *,
        stream: str = "RUSTOK_EVENTS",
        subject_prefix: str = "rustok.events",
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.stream = stream
        self.subject_prefix = subject_prefix
        self.timeout = timeout
        self._client: Client | None = None
        self._jetstream: JetStreamContext | None = None
        self._lock = asyncio.Lock()

    def consumer(self, catalog: Catalog = CATALOG) -> Consumer:
        """This publisher as the consumer of every event type in ``catalog``."""
        return Consumer(
            name=BROKER_CONSUMER,
            event_types=frozenset(cls.event_type for cls in catalog),
            handler=self.publish,
            close=self.close,
        )

    def subject(self, envelope: Envelope[Any]) -> str:
        return f"{self.subject_prefix}.{envelope.tenant_id}.{envelope.event_type}"

    async def publish(self, envelope: Envelope[Any], uow: UnitOfWork) -> None:
        """Publish one event and wait for JetStream's acknowledgement (a failure raises, so the relay
        retries the delivery)."""
        jetstream = await self._connect()
        body = json.dumps(envelope.as_json(), separators=(",", ":")).encode()
        await jetstream.publish(
            self.subject(envelope),
            body,
            timeout=self.timeout,
            headers={
                MESSAGE_ID_HEADER: str(envelope.id),
                "Rustok-Event-Type": envelope.event_type,
                "Rustok-Schema-Version": str(envelope.schema_version),
            },
        )

    async def _connect(self) -> JetStreamContext:
        async with self._lock:
            if self._client is None or self._client.is_closed or self._jetstream is None:
                import nats
                from nats.js.errors import NotFoundError

                client = await nats.connect(
                    self.url,
                    name="rustok-relay",
                    connect_timeout=self.timeout,
                    max_reconnect_attempts=3,
                    reconnect_time_wait=0.2,
                    error_cb=_report,
                )
                jetstream = client.jetstream(timeout=self.timeout)
                try:
                    await jetstream.stream_info(self.stream)
                except NotFoundError:
                    await jetstream.add_stream(name=self.stream, subjects=[f"{self.subject_prefix}.>"])
                self._client, self._jetstream = client, jetstream
            return self._jetstream

    async def close(self) -> None:
        async with self._lock:
            if self._client is not None and not self._client.is_closed:
                await self._client.close()
            self._client = self._jetstream = None


async def _report(error: Exception) -> None:
    # A failed publish already fails its delivery, which the relay logs and retries; this is the detail.
    log.info("broker_connection_error", error=repr(error))
