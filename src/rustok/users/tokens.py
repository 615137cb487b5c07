"""Access tokens (JWTs) and refresh tokens.

An access token is a JWT signed with HS256 and ``RUSTOK_JWT_SECRET``. Decoding accepts HS256 only, whatever
the token's header says, so a token signed with another algorithm, or with ``alg: none``, is refused. Its
claims: ``sub`` (user id), ``tid`` (tenant id), ``role``, ``sid`` (session id), ``iat``, ``exp``, ``iss``,
``aud`` and ``jti``; issuer and audience must be this deployment's. Times are read from `rustok.core.clock`.

A refresh token is an opaque random string; only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from rustok.core import clock
from rustok.core.ids import new_id, parse_id
from rustok.core.settings import Settings

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "tid", "role", "sid", "iat", "exp", "iss", "aud", "jti")
# Tolerated difference between the clocks of the servers that issue and check tokens.
CLOCK_SKEW = timedelta(seconds=30)


class InvalidToken(Exception):
    """The token is malformed, forged, expired or not meant for this deployment."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    role: str
    session_id: uuid.UUID
    issued_at: datetime
    expires_at: datetime
    token_id: str


def issue_access_token(
    settings: Settings, *, user_id: uuid.UUID, tenant_id: uuid.UUID, role: str, session_id: uuid.UUID
) -> tuple[str, AccessClaims]:
    issued = int(clock.now().timestamp())
    claims = AccessClaims(
        user_id=user_id,
        tenant_id=tenant_id,
        role=role,
        session_id=session_id,
        issued_at=datetime.fromtimestamp(issued, UTC),
        expires_at=datetime.fromtimestamp(issued + settings.access_token_ttl_seconds, UTC),
        token_id=str(new_id()),
    )
    payload = {
        "sub": str(user_id),
        "tid": str(tenant_id),
        "role": role,
        "sid": str(session_id),
        "iat": issued,
        "exp": issued + settings.access_token_ttl_seconds,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": claims.token_id,
    }
    token = jwt.encode(payload, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM)
    return token, claims


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """The claims of a valid access token; `InvalidToken` for anything else."""
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            # Times are checked below against rustok's clock, which tests can move.
            options={
                "require": list(REQUIRED_CLAIMS),
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    user_id, tenant_id, session_id = (_uuid(payload[name]) for name in ("sub", "tid", "sid"))
    issued, expires = _timestamp(payload["iat"]), _timestamp(payload["exp"])
    role, token_id = payload["role"], payload["jti"]
    if not isinstance(role, str) or not isinstance(token_id, str):
        raise InvalidToken("malformed claims")
    now = clock.now()
    if expires <= now:
        raise InvalidToken("expired")
    if issued > now + CLOCK_SKEW:
        raise InvalidToken("issued in the future")
    return AccessClaims(
        user_id=user_id,
        tenant_id=tenant_id,
        role=role,
        session_id=session_id,
        issued_at=issued,
        expires_at=expires,
        token_id=token_id,
    )


def _uuid(value: object) -> uuid.UUID:
    parsed = parse_id(value) if isinstance(value, str) else None
    if parsed is None:
        raise InvalidToken("malformed id claim")
    return parsed


def _timestamp(value: object) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidToken("malformed time claim")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidToken("malformed time claim") from exc


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
