"""The ``rustok`` command."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from rustok.core.logging import configure_logging, get_logger
from rustok.core.settings import Settings, get_settings

app = typer.Typer(
    name="rustok",
    help="RusToK: a multi-tenant, event-driven headless CMS and commerce platform.",
    no_args_is_help=True,
    add_completion=False,
)
log = get_logger("rustok.cli")


def _settings() -> Settings:
    """The settings, or a plain message and exit code 2 when the configuration is not acceptable."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            name = f"RUSTOK_{where.upper()}: " if where else ""
            message = error["msg"].removeprefix("Value error, ")
            typer.echo(f"rustok: invalid configuration: {name}{message}", err=True)
        raise typer.Exit(code=2) from None
    configure_logging(settings.effective_log_format, settings.log_level)
    return settings


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
) -> None:
    """Serve the HTTP API. On the embedded default (SQLite) it applies migrations first."""
    import uvicorn

    from rustok.migrations import upgrade

    settings = _settings()
    if settings.should_auto_migrate:
        log.info("migrating", database=settings.sqlalchemy_url.split("://", 1)[0])
        upgrade(settings)
    uvicorn.run(
        "rustok.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        server_header=False,
    )


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations (to the newest revision by default)."""
    from rustok.migrations import upgrade

    settings = _settings()
    upgrade(settings, revision)
    log.info("migrated", revision=revision)


def main() -> None:
    app()
