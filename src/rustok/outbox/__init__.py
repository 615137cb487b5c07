"""The transactional outbox: `sys_events`, the writer that fills it inside the caller's transaction, the
relay that delivers it to consumers at least once, retries, dead letters and replay. See docs/events.md.

Other modules declare their consumers with `consumer` (and list them in their ``consumers.py``)."""

from rustok.outbox import permissions as permissions  # its resources and grants are in force with it
from rustok.outbox.registry import Consumer, consumer

__all__ = ["Consumer", "consumer", "permissions"]
