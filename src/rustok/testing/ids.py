"""Id helpers for tests."""

from __future__ import annotations

import os
import uuid
from datetime import datetime

from rustok.core.clock import ensure_utc


def id_at(moment: datetime) -> uuid.UUID:
    """A random UUIDv7 whose timestamp is `moment`, for tests that care about id order."""
    millis = int(ensure_utc(moment).timestamp() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # RFC 9562 variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return uuid.UUID(int=value)
