"""Outbox metrics, in the process's Prometheus registry (served at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS_WRITTEN = Counter("rustok_events_written_total", "Events committed to the outbox.", ["event_type"])
EVENTS_DELIVERED = Counter(
    "rustok_events_delivered_total", "Events a consumer applied (first delivery or retry).", ["consumer"]
)
EVENTS_RETRIED = Counter(
    "rustok_events_retried_total", "Failed deliveries scheduled for another attempt.", ["consumer"]
)
EVENTS_DEAD_LETTERED = Counter(
    "rustok_events_dead_lettered_total", "Deliveries that failed every attempt.", ["consumer"]
)
PENDING_AGE = Gauge(
    "rustok_events_pending_age_seconds", "Age of the oldest pending event, as last seen by the relay."
)
PENDING = Gauge("rustok_events_pending", "Pending events, as last seen by the relay.")
