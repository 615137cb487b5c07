"""Settings come from RUSTOK_ variables, then one env file found in documented places, default to the
embedded setup in a per-user data directory, and refuse unsafe production."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from rustok.core.settings import (
    DEFAULT_JWT_SECRET,
    EnvFileMissing,
    Environment,
    Settings,
    default_data_dir,
    find_env_file,
    get_settings,
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home directory of the test's own, no XDG variables, no RUSTOK_ variables, and a current directory
    that is neither."""
    for name in [name for name in os.environ if name.startswith("RUSTOK_")]:
        monkeypatch.delenv(name)
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return home


def test_the_defaults_are_the_embedded_setup(home: Path) -> None:
    settings = Settings(_env_file=None)
    assert settings.env is Environment.DEVELOPMENT
    assert settings.data_dir == home / ".local/share/rustok"
    assert settings.sqlalchemy_url == f"sqlite+aiosqlite:///{home}/.local/share/rustok/rustok.db"
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


# ------------------------------------------------------------------------------------ the data directory


def test_the_data_dir_follows_xdg_data_home(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))

    assert Settings(_env_file=None).data_dir == tmp_path / "xdg-data" / "rustok"


def test_a_relative_xdg_data_home_is_ignored_as_the_spec_says(home: Path) -> None:
    assert default_data_dir({"XDG_DATA_HOME": "relative/data"}) == home / ".local/share/rustok"


def test_the_data_dir_does_not_depend_on_the_current_directory(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Settings(_env_file=None).data_dir
    monkeypatch.chdir(tmp_path)

    assert Settings(_env_file=None).data_dir == first


def test_rustok_data_dir_wins(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("RUSTOK_DATA_DIR", str(tmp_path / "mine"))

    assert Settings(_env_file=None).data_dir == tmp_path / "mine"


def test_a_relative_data_dir_from_the_environment_is_made_absolute_against_the_current_directory(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUSTOK_DATA_DIR", "var/../data")

    settings = Settings(_env_file=None)

    assert settings.data_dir == Path.cwd() / "data"
    assert settings.sqlalchemy_url == f"sqlite+aiosqlite:///{Path.cwd()}/data/rustok.db"


def test_a_relative_data_dir_from_an_env_file_is_taken_from_the_file_s_directory(
    home: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text("RUSTOK_DATA_DIR=state\n")

    assert Settings(_env_file=project / ".env").data_dir == project / "state"


def test_a_home_relative_data_dir_is_expanded(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUSTOK_DATA_DIR", "~/rustok-data")

    assert Settings(_env_file=None).data_dir == home / "rustok-data"


# -------------------------------------------------------------------------------------------- the env file


def test_without_any_env_file_none_is_found(home: Path) -> None:
    assert find_env_file() is None


def test_a_dot_env_in_the_current_directory_is_found(home: Path) -> None:
    (Path.cwd() / ".env").write_text("RUSTOK_DEFAULT_TENANT=local\n")

    assert find_env_file() == Path.cwd() / ".env"


def test_otherwise_the_user_s_config_file_is_found(home: Path, tmp_path: Path) -> None:
    config = home / ".config" / "rustok" / "rustok.env"
    config.parent.mkdir(parents=True)
    config.write_text("RUSTOK_DEFAULT_TENANT=user\n")

    assert find_env_file() == config
    assert find_env_file({"XDG_CONFIG_HOME": str(tmp_path / "nothing-here")}) is None


def test_a_dot_env_in_the_current_directory_comes_before_the_user_s_config(home: Path) -> None:
    config = home / ".config" / "rustok" / "rustok.env"
    config.parent.mkdir(parents=True)
    config.write_text("RUSTOK_DEFAULT_TENANT=user\n")
    (Path.cwd() / ".env").write_text("RUSTOK_DEFAULT_TENANT=local\n")

    assert find_env_file() == Path.cwd() / ".env"


def test_rustok_env_file_names_the_file_whatever_else_exists(home: Path, tmp_path: Path) -> None:
    (Path.cwd() / ".env").write_text("RUSTOK_DEFAULT_TENANT=local\n")
    chosen = tmp_path / "prod.env"
    chosen.write_text("RUSTOK_DEFAULT_TENANT=chosen\n")

    assert find_env_file({"RUSTOK_ENV_FILE": str(chosen)}) == chosen


def test_a_rustok_env_file_that_is_not_there_is_an_error(home: Path, tmp_path: Path) -> None:
    with pytest.raises(EnvFileMissing, match=r"RUSTOK_ENV_FILE names .*missing\.env, which is not a file"):
        find_env_file({"RUSTOK_ENV_FILE": str(tmp_path / "missing.env")})


def test_get_settings_reads_the_env_file_it_finds_and_the_environment_wins(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = home / ".config" / "rustok" / "rustok.env"
    config.parent.mkdir(parents=True)
    config.write_text("RUSTOK_DEFAULT_TENANT=from-file\nRUSTOK_DATA_DIR=data\nRUSTOK_LOG_LEVEL=ERROR\n")
    monkeypatch.setenv("RUSTOK_LOG_LEVEL", "DEBUG")
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert get_settings() is settings  # read once per process
    finally:
        get_settings.cache_clear()

    assert settings.default_tenant == "from-file"
    assert settings.data_dir == config.parent / "data"
    assert settings.log_level == "DEBUG"
