"""Password hashing and access tokens, without I/O."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import jwt
import pytest
from argon2 import PasswordHasher

from rustok.core.errors import Unauthorized
from rustok.core.settings import Settings
from rustok.core.uow import UnitOfWork
from rustok.testing import FrozenClock
from rustok.users.auth import authenticate
from rustok.users.passwords import Passwords, passwords_for
from rustok.users.tokens import (
    InvalidToken,
    decode_access_token,
    issue_access_token,
    new_refresh_token,
    refresh_token_hash,
)

SECRET = "unit-test-secret-" + "x" * 64


@pytest.fixture
def settings() -> Settings:
    return Settings(
        _env_file=None, jwt_secret=SECRET, password_hash_time_cost=1, password_hash_memory_cost=64
    )


def issue(settings: Settings, **ids: uuid.UUID) -> tuple[str, dict[str, uuid.UUID]]:
    values = {
        "user_id": ids.get("user_id", uuid.uuid4()),
        "tenant_id": ids.get("tenant_id", uuid.uuid4()),
        "session_id": ids.get("session_id", uuid.uuid4()),
    }
    token, _ = issue_access_token(settings, role="manager", **values)
    return token, values


def claims_of(settings: Settings, token: str) -> dict[str, Any]:
    return jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience=settings.jwt_audience,
        options={"verify_exp": False, "verify_iat": False},
    )


# ------------------------------------------------------------------------------------------------ passwords


async def test_a_hash_verifies_its_password_only(settings: Settings) -> None:
    passwords = passwords_for(settings)

    hashed = await passwords.hash("correct horse")

    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert await passwords.verify(hashed, "correct horse")
    assert not await passwords.verify(hashed, "Correct horse")
    assert not await passwords.verify("not a hash", "correct horse")


async def test_two_hashes_of_one_password_differ(settings: Settings) -> None:
    passwords = passwords_for(settings)
    assert await passwords.hash("same") != await passwords.hash("same")


async def test_a_hash_made_with_other_parameters_verifies_and_needs_a_rehash(settings: Settings) -> None:
    old = PasswordHasher(time_cost=2, memory_cost=128).hash("pw")
    passwords = passwords_for(settings)

    assert await passwords.verify(old, "pw")
    assert passwords.needs_rehash(old)
    assert not passwords.needs_rehash(await passwords.hash("pw"))


async def test_verifying_nothing_takes_a_verification_and_answers_nothing() -> None:
    passwords = Passwords(time_cost=1, memory_cost=64)
    await passwords.verify_nothing("anything")  # no exception, no answer to leak


# ---------------------------------------------------------------------------------------------------- tokens


def test_an_access_token_carries_the_claims_of_the_spec(settings: Settings) -> None:
    with FrozenClock():
        token, ids = issue(settings)
        decoded = decode_access_token(settings, token)

    raw = claims_of(settings, token)
    assert set(raw) == {"sub", "tid", "role", "sid", "iat", "exp", "iss", "aud", "jti"}
    assert (raw["sub"], raw["tid"], raw["sid"]) == tuple(
        str(ids[k]) for k in ("user_id", "tenant_id", "session_id")
    )
    assert (raw["iss"], raw["aud"], raw["role"]) == ("rustok", "rustok-api", "manager")
    assert raw["exp"] - raw["iat"] == 900
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert (decoded.user_id, decoded.tenant_id, decoded.session_id) == (
        ids["user_id"],
        ids["tenant_id"],
        ids["session_id"],
    )
    assert decoded.issued_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_tokens_have_distinct_ids(settings: Settings) -> None:
    first, _ = issue(settings)
    second, _ = issue(settings)
    assert claims_of(settings, first)["jti"] != claims_of(settings, second)["jti"]


def test_an_expired_token_is_refused(settings: Settings) -> None:
    with FrozenClock() as clock:
        token, _ = issue(settings)
        clock.advance(timedelta(seconds=899))
        decode_access_token(settings, token)
        clock.advance(timedelta(seconds=1))
        with pytest.raises(InvalidToken):
            decode_access_token(settings, token)


def test_a_token_issued_in_the_future_is_refused(settings: Settings) -> None:
    with FrozenClock() as clock:
        clock.advance(timedelta(minutes=5))
        token, _ = issue(settings)
        clock.advance(timedelta(minutes=-5))
        with pytest.raises(InvalidToken):
            decode_access_token(settings, token)


def _forge(settings: Settings, algorithm: str, key: str, **changes: Any) -> str:
    with FrozenClock():
        token, _ = issue(settings)
    payload = {**claims_of(settings, token), **changes}
    return jwt.encode(payload, key, algorithm=algorithm)


def _unsigned(settings: Settings) -> str:
    with FrozenClock():
        token, _ = issue(settings)

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims_of(settings, token))}."


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda s: _forge(s, "HS512", SECRET), id="another-hmac-algorithm"),
        pytest.param(lambda s: _forge(s, "HS384", SECRET), id="hs384"),
        pytest.param(_unsigned, id="alg-none"),
        pytest.param(lambda s: _forge(s, "HS256", "another-secret-" + "y" * 40), id="wrong-secret"),
        pytest.param(lambda s: _forge(s, "HS256", SECRET, iss="someone-else"), id="wrong-issuer"),
        pytest.param(lambda s: _forge(s, "HS256", SECRET, aud="another-api"), id="wrong-audience"),
        pytest.param(lambda s: _forge(s, "HS256", SECRET, sub="not-a-uuid"), id="malformed-sub"),
        pytest.param(lambda s: _forge(s, "HS256", SECRET, exp="tomorrow"), id="malformed-exp"),
        pytest.param(lambda s: "not.a.jwt", id="garbage"),
    ],
)
def test_forged_or_foreign_tokens_are_refused(settings: Settings, forge: Any) -> None:
    token = forge(settings)
    with FrozenClock(), pytest.raises(InvalidToken):
        decode_access_token(settings, token)


def test_a_token_missing_a_claim_is_refused(settings: Settings) -> None:
    with FrozenClock():
        token, _ = issue(settings)
        payload = claims_of(settings, token)
        del payload["sid"]
        with pytest.raises(InvalidToken):
            decode_access_token(settings, jwt.encode(payload, SECRET, algorithm="HS256"))


def test_refresh_tokens_are_random_and_stored_as_sha256() -> None:
    first, second = new_refresh_token(), new_refresh_token()

    assert first != second
    assert len(first) >= 43
    assert refresh_token_hash(first) == refresh_token_hash(first)
    assert len(refresh_token_hash(first)) == 64
    assert first not in refresh_token_hash(first)


# ------------------------------------------------------------------------------------------- authenticator


# Both cases below are decided before the database is read, so no unit of work is needed.
_UNREAD = cast(UnitOfWork, object())


async def test_without_credentials_the_caller_is_anonymous(settings: Settings) -> None:
    principal = await authenticate(None, None, _UNREAD, settings)
    assert not principal.authenticated


async def test_a_valid_token_is_refused_outside_the_api(settings: Settings) -> None:
    """No tenant was resolved for the request, so no token can be bound to it."""
    with FrozenClock():
        token, _ = issue(settings)
        with pytest.raises(Unauthorized) as raised:
            await authenticate(f"Bearer {token}", None, _UNREAD, settings)
    assert raised.value.problem_code == "invalid_token"
