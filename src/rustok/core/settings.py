"""Settings: environment variables with the ``RUSTOK_`` prefix, then an env file, then defaults.

One resolution wherever a process runs (`get_settings`, README "Configuration"):

- the env file is ``$RUSTOK_ENV_FILE`` when set (it must exist), else ``.env`` in the current directory when
  there is one, else ``$XDG_CONFIG_HOME/rustok/rustok.env`` (``~/.config/rustok/rustok.env``) when there is
  one; variables in the environment win over it;
- the data directory is ``$RUSTOK_DATA_DIR``, else ``$XDG_DATA_HOME/rustok`` (``~/.local/share/rustok``),
  always absolute: a relative ``RUSTOK_DATA_DIR`` is taken from the directory of the env file that set it,
  or from the current directory when the environment (or an argument) did.

The defaults run the embedded configuration: SQLite in the data directory, no other service.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

# A well-known value: fine on a laptop, refused in production (see `_refuse_insecure_production`).
DEFAULT_JWT_SECRET = "rustok-insecure-development-secret-change-me"  # noqa: S105


ENV_FILE_VARIABLE = "RUSTOK_ENV_FILE"


class EnvFileMissing(ValueError):
    """``RUSTOK_ENV_FILE`` names a file that is not there."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{ENV_FILE_VARIABLE} names {path}, which is not a file")
        self.path = path


def _xdg_home(variable: str, fallback: str, environ: Mapping[str, str]) -> Path:
    # The XDG base-directory spec: a relative value is invalid and ignored.
    value = environ.get(variable, "")
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home() / fallback


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/rustok``, else ``~/.local/share/rustok``: one place per user, whatever the
    current directory (used when ``RUSTOK_DATA_DIR`` is not set)."""
    return _xdg_home("XDG_DATA_HOME", ".local/share", os.environ if environ is None else environ) / "rustok"


def find_env_file(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path | None:
    """The env file a process reads: ``$RUSTOK_ENV_FILE`` (an explicit path, which must exist: otherwise
    `EnvFileMissing`), else ``.env`` in ``cwd`` if present, else ``$XDG_CONFIG_HOME/rustok/rustok.env``
    if present, else none. The path returned is absolute."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    explicit = environ.get(ENV_FILE_VARIABLE, "").strip()
    if explicit:
        path = Path(os.path.abspath(cwd / Path(explicit).expanduser()))
        if not path.is_file():
            raise EnvFileMissing(path)
        return path
    for candidate in (
        cwd / ".env",
        _xdg_home("XDG_CONFIG_HOME", ".config", environ) / "rustok" / "rustok.env",
    ):
        if candidate.is_file():
            return Path(os.path.abspath(candidate))
    return None


def _absolute(path: Path, base: Path) -> Path:
    return Path(os.path.abspath(base / path.expanduser()))


class _EnvFileSource(PydanticBaseSettingsSource):
    """The env file's values, with a relative ``RUSTOK_DATA_DIR`` taken from the file's directory (not
    from wherever the process happens to run)."""

    def __init__(self, inner: DotEnvSettingsSource) -> None:
        super().__init__(inner.settings_cls)
        self.inner = inner

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.inner.get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        values = self.inner()
        env_file = self.inner.env_file
        data_dir = values.get("data_dir")
        if isinstance(data_dir, str) and data_dir and isinstance(env_file, str | Path):
            values["data_dir"] = _absolute(Path(data_dir), Path(os.path.abspath(env_file)).parent)
        return values


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RUSTOK_",
        env_file=None,  # get_settings() names the one it found (find_env_file)
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the default SQLite database (and uploads) live; always absolute once loaded.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; sqlite:// and postgresql:// are given their async drivers. "
        "Default: a SQLite file under data_dir.",
    )
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_echo: bool = False
    redis_url: str | None = None
    nats_url: str | None = Field(
        default=None, description="NATS with JetStream: every event is also published there."
    )
    nats_stream: str = Field(default="RUSTOK_EVENTS", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    nats_subject_prefix: str = Field(default="rustok.events", pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
    jwt_secret: SecretStr = SecretStr(DEFAULT_JWT_SECRET)
    access_token_ttl_seconds: int = Field(
        default=900, ge=30, le=86400, description="Lifetime of an access token (a JWT)."
    )
    refresh_token_ttl_seconds: int = Field(
        default=30 * 86400,
        ge=60,
        le=366 * 86400,
        description="Lifetime of a refresh token, and so of an idle session.",
    )
    jwt_issuer: str = Field(default="rustok", min_length=1, description="The `iss` of access tokens.")
    jwt_audience: str = Field(default="rustok-api", min_length=1, description="The `aud` of access tokens.")
    password_hash_time_cost: int = Field(
        default=3, ge=1, le=20, description="Argon2id iterations; passwords hashed with others are rehashed."
    )
    password_hash_memory_cost: int = Field(
        default=65536, ge=32, le=4 * 1024 * 1024, description="Argon2id memory in KiB (default: 64 MiB)."
    )
    default_tenant: str | None = None
    log_format: Literal["json", "console"] | None = Field(
        default=None, description="Default: console in development, json otherwise."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    auto_migrate: bool | None = Field(
        default=None, description="Apply migrations on `rustok serve`. Default: on for SQLite, off otherwise."
    )
    health_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    tenant_cache_ttl_seconds: float = Field(default=60.0, gt=0, le=86400)
    tenant_cache_negative_ttl_seconds: float = Field(
        default=10.0, gt=0, le=3600, description="How long an unknown tenant is remembered as unknown."
    )
    tenant_cache_max_entries: int = Field(default=10_000, ge=1, le=1_000_000)
    trust_proxy_headers: bool = Field(
        default=False, description="Take the request's host from X-Forwarded-Host (behind a trusted proxy)."
    )
    tenant_subdomain_base: str | None = Field(
        default=None,
        description="Subdomain mode: with `example.com`, a request to `acme.example.com` resolves the tenant "
        "whose slug is `acme`.",
    )
    relay_in_process: bool | None = Field(
        default=None,
        description="Run the event relay inside `rustok serve`. Default: on for SQLite; otherwise run "
        "`rustok worker` (several may run against PostgreSQL).",
    )
    relay_batch_size: int = Field(default=500, ge=1, le=5000)
    relay_max_attempts: int = Field(default=10, ge=1, le=100)
    relay_retry_base_seconds: float = Field(default=1.0, gt=0, le=3600)
    relay_retry_max_seconds: float = Field(default=600.0, gt=0, le=86400)
    relay_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    max_request_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="The largest request body accepted; larger ones are a 413. Uploads have their own.",
    )
    media_max_bytes: int = Field(
        default=25 * 1024 * 1024,
        ge=1,
        le=50 * 1024 * 1024 * 1024,
        description="The largest file `POST /api/media` accepts; larger ones are a 413.",
    )
    search_rank_window: int = Field(
        default=500,
        ge=20,
        le=100_000,
        description="Matching documents a search scores per type (the rank window of docs/search.md).",
    )
    media_dir: Path | None = Field(
        default=None, description="Where uploaded files are stored. Default: `media` under data_dir."
    )
    # -- media storage and renditions (docs/media.md)
    media_storage: Literal["local", "s3"] = Field(
        default="local", description="Where media bytes live: `local` (media_dir) or `s3` (an S3 bucket)."
    )
    media_s3_bucket: str | None = Field(default=None, description="The bucket, when media_storage is s3.")
    media_s3_endpoint_url: str | None = Field(
        default=None, description="An S3-compatible endpoint (MinIO, R2, ...). Default: AWS's."
    )
    media_s3_region: str | None = Field(default=None, description="Default: AWS_REGION, else us-east-1.")
    media_s3_access_key_id: str | None = Field(default=None, description="Default: AWS_ACCESS_KEY_ID.")
    media_s3_secret_access_key: SecretStr | None = Field(
        default=None, description="Default: AWS_SECRET_ACCESS_KEY."
    )
    media_s3_prefix: str = Field(
        default="",
        pattern=r"^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,127}(?:/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,3})?$",
        description="Keys are stored under this prefix of the bucket (segments as storage keys have).",
    )
    media_rendition_widths: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(160, 320, 640, 1024, 1600), description="The widths `?w=` may ask for (comma-separated)."
    )
    media_rendition_heights: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(160, 320, 640, 1024, 1600), description="The heights `?h=` may ask for (comma-separated)."
    )

    @field_validator("media_rendition_widths", "media_rendition_heights", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(part) for part in value.split(",") if part.strip())
        return value

    @field_validator("media_rendition_widths", "media_rendition_heights")
    @classmethod
    def _sizes_in_range(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= size <= 8192 for size in value):
            raise ValueError("rendition sizes are between 1 and 8192 pixels")
        return tuple(sorted(set(value)))

    @field_validator(
        "media_s3_bucket", "media_s3_endpoint_url", "media_s3_region", "media_s3_access_key_id", mode="before"
    )
    @classmethod
    def _blank_s3_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> Settings:
        if self.media_storage == "s3" and not self.media_s3_bucket:
            raise ValueError("RUSTOK_MEDIA_STORAGE=s3 needs RUSTOK_MEDIA_S3_BUCKET")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(dotenv_settings, DotEnvSettingsSource)
        return init_settings, env_settings, _EnvFileSource(dotenv_settings), file_secret_settings

    @field_validator("data_dir", mode="after")
    @classmethod
    def _data_dir_is_absolute(cls, value: Path) -> Path:
        """Resolved once, at load, so every message shows the directory actually used."""
        return _absolute(value, Path.cwd())

    @field_validator(
        "database_url", "redis_url", "nats_url", "default_tenant", "tenant_subdomain_base", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            secret = self.jwt_secret.get_secret_value()
            if secret == DEFAULT_JWT_SECRET:
                raise ValueError("RUSTOK_JWT_SECRET must be set in production; the default secret is public")
            if len(secret) < 32:
                raise ValueError("RUSTOK_JWT_SECRET must be at least 32 characters in production")
        return self

    @property
    def effective_media_dir(self) -> Path:
        return self.media_dir if self.media_dir is not None else self.data_dir / "media"

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the async driver this project uses for its backend."""
        if self.database_url is None:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'rustok.db').as_posix()}"
        return async_database_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def effective_log_format(self) -> Literal["json", "console"]:
        if self.log_format is not None:
            return self.log_format
        return "console" if self.env is Environment.DEVELOPMENT else "json"

    @property
    def should_run_relay_in_process(self) -> bool:
        return self.is_sqlite if self.relay_in_process is None else self.relay_in_process

    @property
    def should_auto_migrate(self) -> bool:
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate


def async_database_url(url: str) -> str:
    """Give a plain ``sqlite://`` or ``postgres(ql)://`` URL the async driver SQLAlchemy needs."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    drivers = {
        "sqlite": "sqlite+aiosqlite",
        "postgres": "postgresql+asyncpg",
        "postgresql": "postgresql+asyncpg",
    }
    return f"{drivers.get(scheme, scheme)}://{rest}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once, from the environment and the env file `find_env_file` finds
    (`EnvFileMissing` when ``RUSTOK_ENV_FILE`` names no file). Tests build their own `Settings` instead."""
    return Settings(_env_file=find_env_file())
