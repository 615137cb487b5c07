"""Password hashing: Argon2id, with the cost the settings configure.

Hashing is slow on purpose, so it runs in a worker thread (the binding releases the GIL) and never stalls the
event loop. A hash made with other parameters still verifies (they are stored in the hash) and is replaced at
the next successful login (`needs_rehash`).
"""

from __future__ import annotations

import asyncio
import secrets
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from rustok.core.settings import Settings

MIN_LENGTH = 8
MAX_LENGTH = 256


class Passwords:
    def __init__(self, *, time_cost: int, memory_cost: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, type=Type.ID)
        self._dummy_hash: str | None = None

    @property
    def time_cost(self) -> int:
        return self._hasher.time_cost

    @property
    def memory_cost(self) -> int:
        return self._hasher.memory_cost

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True

    async def verify_nothing(self, password: str) -> None:
        """Spend the time a verification takes, for a login whose email matched no (usable) account, so the
        answer's timing does not tell whether the email exists."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        await self.verify(self._dummy_hash, password)


@lru_cache(maxsize=8)
def _passwords(time_cost: int, memory_cost: int) -> Passwords:
    return Passwords(time_cost=time_cost, memory_cost=memory_cost)


def passwords_for(settings: Settings) -> Passwords:
    """The hasher of these settings (one per cost, so the dummy hash is made once)."""
    return _passwords(settings.password_hash_time_cost, settings.password_hash_memory_cost)
