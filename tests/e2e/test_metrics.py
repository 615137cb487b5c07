"""``GET /metrics``: the process's Prometheus metrics as text, with the outbox's counters and gauges.

The counters are process-global and other tests move them too, so every test compares a sample before and
after what it does, never an absolute value.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from rustok.content.events import NodeCreated
from rustok.core.events import Envelope
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork
from rustok.outbox.registry import ConsumerRegistry, consumer
from rustok.outbox.relay import Relay, RelayConfig

MakeUoW = Callable[..., UnitOfWork]
MakeRelay = Callable[..., Relay]
TENANT = uuid.UUID("01900000-0000-7000-8000-00000000e7a1")
OUTBOX_METRICS = (
    "rustok_events_written_total",
    "rustok_events_delivered_total",
    "rustok_events_retried_total",
    "rustok_events_dead_lettered_total",
    "rustok_events_pending_age_seconds",
)


async def scrape(client: httpx.AsyncClient) -> httpx.Response:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    return response


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name{labels}`` in an exposition (0 when a counter's child is not there
    yet: it appears on its first increment)."""
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            if item.name == name and item.labels == labels:
                return float(item.value)
    return 0.0


async def value(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    return sample((await scrape(client)).text, name, **labels)


async def commit_node_created(make_uow: MakeUoW, count: int = 1) -> None:
    for _ in range(count):
        async with make_uow(TenantScope.of(TENANT)) as uow:
            uow.record(NodeCreated(node_id=uuid.uuid4(), kind="post"))


def registry_of(name: str, *, fails: bool = False) -> ConsumerRegistry:
    @consumer(name, "node.created")
    async def handle(event: Envelope[Any], uow: UnitOfWork) -> None:
        if fails:
            raise RuntimeError(f"{name} cannot handle {event.id}")

    return ConsumerRegistry([handle])


async def test_given_the_app_when_scraping_then_the_outbox_metrics_are_served_as_prometheus_text(
    client: httpx.AsyncClient,
) -> None:
    """Given a running app, when ``/metrics`` is fetched (no tenant, no credentials), then it answers 200
    in Prometheus's text format, with every outbox metric declared, and carries the request id."""
    response = await client.get("/metrics", headers={"X-Request-ID": "scrape-1"})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-request-id"] == "scrape-1"
    families = {family.name: family.type for family in text_string_to_metric_families(response.text)}
    for name in OUTBOX_METRICS:
        assert f"# TYPE {name} " in response.text, name
    assert families["rustok_events_written"] == "counter"
    assert families["rustok_events_delivered"] == "counter"
    assert families["rustok_events_retried"] == "counter"
    assert families["rustok_events_dead_lettered"] == "counter"
    assert families["rustok_events_pending_age_seconds"] == "gauge"


async def test_given_no_request_id_when_scraping_then_one_is_generated(client: httpx.AsyncClient) -> None:
    response = await scrape(client)

    assert response.headers["x-request-id"]


async def test_given_a_committed_event_when_scraping_then_the_written_counter_of_its_type_grew(
    client: httpx.AsyncClient, make_uow: MakeUoW
) -> None:
    """Committing events through a unit of work counts them by type, once the transaction is committed."""
    before = await value(client, "rustok_events_written_total", event_type="node.created")
    other_before = await value(client, "rustok_events_written_total", event_type="node.deleted")

    await commit_node_created(make_uow, 2)

    after = await value(client, "rustok_events_written_total", event_type="node.created")
    assert after - before == 2
    assert await value(client, "rustok_events_written_total", event_type="node.deleted") == other_before


async def test_given_a_rolled_back_unit_of_work_when_scraping_then_nothing_was_counted_as_written(
    client: httpx.AsyncClient, make_uow: MakeUoW
) -> None:
    before = await value(client, "rustok_events_written_total", event_type="node.created")

    with pytest.raises(RuntimeError, match="changed my mind"):
        async with make_uow(TenantScope.of(TENANT)) as uow:
            uow.record(NodeCreated(node_id=uuid.uuid4(), kind="post"))
            raise RuntimeError("changed my mind")

    assert await value(client, "rustok_events_written_total", event_type="node.created") == before


async def test_given_a_relay_run_when_scraping_then_the_delivered_counter_of_the_consumer_grew(
    client: httpx.AsyncClient, make_uow: MakeUoW, make_relay: MakeRelay
) -> None:
    """Given three committed events and a consumer of their type, when a relay delivers them, then that
    consumer's delivered counter grew by three, and the relay's gauges are there."""
    name = f"test.metrics_{uuid.uuid4().hex[:8]}"
    await commit_node_created(make_uow, 3)
    before = await value(client, "rustok_events_delivered_total", consumer=name)

    relay = make_relay(registry_of(name))
    handled = await relay.run_until_idle()
    await relay.observe()

    text = (await scrape(client)).text
    assert handled == 3
    assert sample(text, "rustok_events_delivered_total", consumer=name) - before == 3
    assert sample(text, "rustok_events_pending_age_seconds") == 0.0  # nothing is pending any more
    assert sample(text, "rustok_events_pending") == 0.0


async def test_given_a_failing_consumer_when_the_relay_runs_then_retries_and_dead_letters_are_counted(
    client: httpx.AsyncClient, make_uow: MakeUoW, make_relay: MakeRelay
) -> None:
    """A failed delivery that will be tried again counts as retried; one that used its last attempt counts
    as dead-lettered; neither counts as delivered."""
    retrying, giving_up = f"test.retry_{uuid.uuid4().hex[:8]}", f"test.dead_{uuid.uuid4().hex[:8]}"
    before = (await scrape(client)).text

    # The first event waits for its retry (not due again for a while), so the second relay sees only the
    # second event.
    await commit_node_created(make_uow)
    await make_relay(
        registry_of(retrying, fails=True), config=RelayConfig(max_attempts=3, retry_base_seconds=60.0)
    ).run_until_idle()
    await commit_node_created(make_uow)
    await make_relay(registry_of(giving_up, fails=True), config=RelayConfig(max_attempts=1)).run_until_idle()

    after = (await scrape(client)).text

    def grew(metric: str, name: str) -> float:
        return sample(after, metric, consumer=name) - sample(before, metric, consumer=name)

    assert grew("rustok_events_retried_total", retrying) == 1
    assert grew("rustok_events_dead_lettered_total", retrying) == 0
    assert grew("rustok_events_retried_total", giving_up) == 0
    assert grew("rustok_events_dead_lettered_total", giving_up) == 1
    assert grew("rustok_events_delivered_total", retrying) == 0
    assert grew("rustok_events_delivered_total", giving_up) == 0
