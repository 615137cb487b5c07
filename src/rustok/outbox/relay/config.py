"""The relay's settings (`rustok.outbox.worker.relay_config` fills them from ``RUSTOK_RELAY_*``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RelayConfig:
    batch_size: int = 500
    max_attempts: int = 10
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 600.0
    poll_seconds: float = 2.0
