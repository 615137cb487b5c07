"""Settings come from RUSTOK_ variables, default to the embedded setup, and refuse unsafe production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from rustok.core.settings import DEFAULT_JWT_SECRET, Environment, Settings


def test_the_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RUSTOK_DATABASE_URL", "RUSTOK_REDIS_URL", "RUSTOK_ENV", "RUSTOK_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.env is Environment.DEVELOPMENT
    assert settings.sqlalchemy_url == "sqlite+aiosqlite:///data/rustok.db"
    assert settings.redis_url is None
    assert settings.should_auto_migrate
    assert settings.effective_log_format == "console"


def test_variables_with_the_prefix_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUSTOK_DATABASE_URL", "postgresql://postgres@db/rustok")
    monkeypatch.setenv("RUSTOK_REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("RUSTOK_DEFAULT_TENANT", "acme")
    monkeypatch.setenv("RUSTOK_LOG_FORMAT", "json")
    settings = Settings(_env_file=None)
    assert settings.sqlalchemy_url == "postgresql+asyncpg://postgres@db/rustok"
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.default_tenant == "acme"
    assert settings.effective_log_format == "json"
    assert not settings.should_auto_migrate  # only the embedded SQLite default migrates on start


def test_an_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUSTOK_DEFAULT_TENANT", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("RUSTOK_DEFAULT_TENANT=from-file\n")
    assert Settings(_env_file=env_file).default_tenant == "from-file"


def test_blank_optional_urls_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUSTOK_REDIS_URL", "  ")
    assert Settings(_env_file=None).redis_url is None


def test_production_refuses_the_default_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="RUSTOK_JWT_SECRET must be set"):
        Settings(_env_file=None, env=Environment.PRODUCTION)
    with pytest.raises(ValidationError, match="RUSTOK_JWT_SECRET must be set"):
        Settings(_env_file=None, env=Environment.PRODUCTION, jwt_secret=DEFAULT_JWT_SECRET)


def test_production_refuses_a_short_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(_env_file=None, env=Environment.PRODUCTION, jwt_secret="short")


def test_production_with_a_real_secret_logs_json() -> None:
    settings = Settings(_env_file=None, env=Environment.PRODUCTION, jwt_secret="x" * 48)
    assert settings.effective_log_format == "json"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_plain_urls_get_their_async_driver(given: str, expected: str) -> None:
    assert Settings(_env_file=None, database_url=given).sqlalchemy_url == expected


def test_a_value_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(ValueError, match="not a database URL"):
        _ = Settings(_env_file=None, database_url="rustok.db").sqlalchemy_url
