"""The ``rustok`` command.

Every command that reads or writes data first checks the database it is configured for (README "The
`rustok` command"): a SQLite file that is not there is not created, a database that is not at the newest
migration or cannot be reached is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from rustok.bootstrap import Runtime, open_runtime
from rustok.core.errors import NotFound, ProblemError
from rustok.core.logging import configure_logging, get_logger
from rustok.core.permissions import Role
from rustok.core.settings import EnvFileMissing, Settings, get_settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork
from rustok.outbox.models import EventStatus
from rustok.users.models import UserStatus

if TYPE_CHECKING:
    from rustok.tenants.models import Tenant

T = TypeVar("T")

# How long the check before a command waits for the database to answer.
CONNECT_TIMEOUT_SECONDS = 10.0

app = typer.Typer(
    name="rustok",
    help="RusToK: a multi-tenant, event-driven headless CMS and commerce platform.",
    no_args_is_help=True,
    add_completion=False,
)
events_app = typer.Typer(help="The event outbox: list, stats, retry, replay, schema.", no_args_is_help=True)
app.add_typer(events_app, name="events")
log = get_logger("rustok.cli")


def _version() -> str:
    try:
        return version("rustok")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree that is not installed
        from rustok import __version__

        return __version__


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"rustok {_version()}")
        raise typer.Exit


@app.callback()
def _options(
    _version_option: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """RusToK: a multi-tenant, event-driven headless CMS and commerce platform."""


def _fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, then exit (2: the command cannot run as configured or given)."""
    typer.echo(f"rustok: {message}", err=True)
    raise typer.Exit(code=code)


def _settings() -> Settings:
    """The settings, or a plain message and exit code 2 when the configuration is not acceptable."""
    try:
        settings = get_settings()
    except EnvFileMissing as exc:
        _fail(str(exc))
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            name = f"RUSTOK_{where.upper()}: " if where else ""
            message = error["msg"].removeprefix("Value error, ")
            typer.echo(f"rustok: invalid configuration: {name}{message}", err=True)
        raise typer.Exit(code=2) from None
    try:
        _ = settings.sqlalchemy_url
    except ValueError as exc:
        _fail(f"invalid configuration: RUSTOK_DATABASE_URL: {exc}")
    configure_logging(settings.effective_log_format, settings.log_level)
    return settings


def _sqlite_file(settings: Settings) -> Path | None:
    """The absolute path of the SQLite database file, or None (another backend, an in-memory database)."""
    url = make_url(settings.sqlalchemy_url)
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(os.path.abspath(database))


def _database_name(settings: Settings) -> str:
    """The database as messages show it: the SQLite file's absolute path, else the URL without its
    password (and without the driver the code adds)."""
    path = _sqlite_file(settings)
    if path is not None:
        return str(path)
    url = make_url(settings.sqlalchemy_url)
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


def _reason(exc: BaseException) -> str:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def _require_database(settings: Settings, *, migrated: bool = True) -> None:
    """Exit 2 with one line unless the database can be reached and, when ``migrated``, is at the newest
    revision. A SQLite file that is not there is reported, never created (``migrated=False`` is for the
    commands that migrate it next)."""
    where = _database_name(settings)
    path = _sqlite_file(settings)
    if migrated and path is not None and not path.is_file():
        _fail(
            f"there is no database at {where} "
            "(run: rustok migrate; or set RUSTOK_DATA_DIR or RUSTOK_DATABASE_URL)"
        )
    # Alembic logs at INFO on import and on configure: not on the stdout a command prints its JSON to.
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(logging.WARNING)
    try:
        from rustok.migrations import check_revision

        state = check_revision(settings, timeout=CONNECT_TIMEOUT_SECONDS)
    except TimeoutError:
        _fail(f"cannot connect to the database at {where}: no answer within {CONNECT_TIMEOUT_SECONDS:g}s")
    except (OSError, SQLAlchemyError) as exc:
        _fail(f"cannot connect to the database at {where}: {_reason(exc)}")
    finally:
        alembic_log.setLevel(level)
    if state.unknown:
        _fail(
            f"the database at {where} is at revision {', '.join(state.unknown)}, which rustok {_version()} "
            "does not have (a newer release migrated it)"
        )
    if migrated and not state.is_current:
        _fail(f"the database at {where} is not migrated (run: rustok migrate)")


def _ready() -> Settings:
    """The settings of a command that works on data, after the database check."""
    settings = _settings()
    _require_database(settings)
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
    _require_listenable(host, port)  # before a database is made or migrated for a server that cannot start
    if settings.should_auto_migrate:
        _require_database(settings, migrated=False)
        log.info("migrating", database=settings.sqlalchemy_url.split("://", 1)[0])
        upgrade(settings)
    else:
        _require_database(settings)
    _announce(settings, host, port, has_tenant=_run_with(_has_tenant, settings))
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


def _require_listenable(host: str, port: int) -> None:
    """Exit 2 with one line when ``host:port`` cannot be bound (taken, or not an address of this host)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


async def _has_tenant(runtime: Runtime) -> bool:
    from rustok.core.pagination import PageParams
    from rustok.tenants.service import list_tenants

    async with runtime.platform() as uow:
        return bool((await list_tenants(uow, PageParams(limit=1))).items)


def _command_name() -> str:
    """How to call this command again: ``rustok`` when that is what the PATH finds, else the path used."""
    argv0 = sys.argv[0]
    if argv0.endswith("__main__.py"):
        return f"{sys.executable} -m rustok"
    found = shutil.which(Path(argv0).name)
    try:
        on_path = found is not None and os.path.samefile(found, argv0)
    except OSError:
        on_path = False
    return Path(argv0).name if on_path else argv0


def _announce(settings: Settings, host: str, port: int, *, has_tenant: bool) -> None:
    """Where the server listens and what to do next, on stderr, once (before the workers start)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104 - a name, not a bind
    base = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
    bound = "" if shown == host else f" (bound to {host}:{port}: every interface)"
    typer.echo(f"rustok: serving {base}{bound}; the API reference: {base}/docs", err=True)
    typer.echo(f"rustok: database: {_database_name(settings)}", err=True)
    if not has_tenant:
        typer.echo(
            "rustok: no tenant yet; create one (and its admin) with: "
            f"{_command_name()} tenant create --name 'My shop' --slug my-shop --admin-email you@example.com",
            err=True,
        )


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations (to the newest revision by default)."""
    from rustok.migrations import upgrade

    settings = _settings()
    _require_database(settings, migrated=False)
    upgrade(settings, revision)
    log.info("migrated", revision=revision)


@app.command()
def worker() -> None:
    """Run the event relay and the consumers until SIGTERM/SIGINT. Several may run against PostgreSQL."""
    from rustok.bootstrap import run_worker
    from rustok.migrations import upgrade

    settings = _settings()
    if settings.should_auto_migrate:
        _require_database(settings, migrated=False)
        upgrade(settings)
    else:
        _require_database(settings)
    asyncio.run(run_worker(settings))


# ------------------------------------------------------------------------------------------------ events


def _print(value: BaseModel | dict[str, Any] | list[Any]) -> None:
    if isinstance(value, BaseModel):
        typer.echo(value.model_dump_json(indent=2))
    else:
        typer.echo(json.dumps(value, indent=2, default=str))


def _uuid(value: str, option: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        typer.echo(f"rustok: {option} must be a UUID, not {value!r}", err=True)
        raise typer.Exit(code=2) from None


def _run_with(work: Callable[[Runtime], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run ``work`` on a runtime built from the settings (`rustok.bootstrap`), after the database check
    unless ``settings`` were already checked; a problem (404, 409) is a message and exit 1."""
    settings = settings or _ready()

    async def run() -> T:
        async with open_runtime(settings, redis=False) as runtime:
            return await work(runtime)

    try:
        return asyncio.run(run())
    except ProblemError as exc:
        _fail(exc.detail or exc.title, code=1)


def _run(
    work: Callable[[Settings, UnitOfWork], Awaitable[T]],
    *,
    write: bool = False,
    settings: Settings | None = None,
) -> T:
    """Run ``work`` in one platform-scoped unit of work; a problem (404, 409) is a message and exit 1."""

    async def in_one_uow(runtime: Runtime) -> T:
        async with runtime.platform(write=write) as uow:
            return await work(runtime.settings, uow)

    return _run_with(in_one_uow, settings)


async def _tenant(uow: UnitOfWork, ref: str) -> Tenant:
    """The tenant ``ref`` names, by its slug or its id, in a platform unit of work: what every
    ``--tenant`` takes. An unknown one is a problem (``no tenant 'x'``, exit 1), the same everywhere."""
    from rustok.tenants.service import find_tenant

    return await find_tenant(uow, ref)


def _page_params(limit: int, cursor: str | None) -> Any:
    from rustok.core.pagination import PageParams

    try:
        return PageParams(limit=limit, cursor=cursor)
    except ValidationError as exc:
        _refuse_options(exc)


@events_app.command("list")
def events_list(
    status: Annotated[EventStatus | None, typer.Option(help="Only events in this state.")] = None,
    event_type: Annotated[str | None, typer.Option("--type", help="Only this event type.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's events (its slug or id).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page.")] = None,
) -> None:
    """Events, newest first, as JSON: {"items": [...], "next_cursor": ...}."""
    from rustok.outbox import service

    params = _page_params(limit, cursor)

    async def work(_: Settings, uow: UnitOfWork) -> BaseModel:
        tenant_id = None if tenant is None else (await _tenant(uow, tenant)).id
        return await service.list_events(
            uow, params, status=status, event_type=event_type, tenant_id=tenant_id
        )

    _print(_run(work))


@events_app.command("stats")
def events_stats() -> None:
    """Pending and failed counts, the oldest pending event's age, and each consumer's lag, as JSON."""
    from rustok.outbox import service

    async def work(runtime: Runtime) -> BaseModel:
        async with runtime.platform() as uow:
            return await service.event_stats(uow, runtime.consumers)

    _print(_run_with(work))


@events_app.command("retry")
def events_retry(
    event_ids: Annotated[list[str] | None, typer.Argument(help="Ids of failed events.")] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="Every failed event.")] = False,
) -> None:
    """Give failed events (their dead-lettered deliveries) a fresh set of attempts, due now."""
    from rustok.outbox import service

    if bool(event_ids) == all_failed:
        typer.echo("rustok: name event ids or --all-failed (one of the two)", err=True)
        raise typer.Exit(code=2)
    ids = list(dict.fromkeys(_uuid(value, "EVENT_ID") for value in event_ids or []))

    async def work(_: Settings, uow: UnitOfWork) -> dict[str, Any]:
        if all_failed:
            return {"retried": await service.retry_failed(uow)}
        retried = [await service.retry_event(uow, event_id) for event_id in ids]
        return {"retried": len(retried), "events": [e.model_dump(mode="json") for e in retried]}

    _print(_run(work, write=True))


@events_app.command("replay")
def events_replay(
    consumer: Annotated[str, typer.Option(help="The consumer to deliver to.")],
    start: Annotated[
        str | None, typer.Option("--from", help="First event: its id or position (default: the first).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last event: its id or position (default: the newest).")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's events (its slug or id).")] = None,
) -> None:
    """Deliver a range of events to one consumer again, in order, whether or not it applied them."""
    from rustok.outbox import service
    from rustok.outbox.relay import ReplayFailed

    async def position(uow: UnitOfWork, value: str | None, option: str) -> int | None:
        if value is None or value.isdigit():
            return None if value is None else int(value)
        try:
            return await service.event_position(uow, _uuid(value, option))
        except NotFound:
            typer.echo(f"rustok: {option}: no event with id {value}", err=True)
            raise typer.Exit(code=2) from None

    async def work(runtime: Runtime) -> int:
        if consumer not in {c.name for c in runtime.consumers}:
            names = ", ".join(sorted(c.name for c in runtime.consumers)) or "none"
            typer.echo(f"rustok: no consumer named {consumer!r} (consumers: {names})", err=True)
            raise typer.Exit(code=2)
        async with runtime.platform() as uow:
            tenant_id = None if tenant is None else (await _tenant(uow, tenant)).id
            first = await position(uow, start, "--from")
            last = await position(uow, end, "--to")
        return await runtime.relay().replay(consumer, first=first, last=last, tenant_id=tenant_id)

    try:
        replayed = _run_with(work)
    except ReplayFailed as exc:
        typer.echo(f"rustok: {exc}", err=True)
        _print({"consumer": consumer, "replayed": exc.replayed, "failed_at": str(exc.event_id)})
        raise typer.Exit(code=1) from None
    _print({"consumer": consumer, "replayed": replayed})


@events_app.command("schema")
def events_schema() -> None:
    """The JSON Schema of every event type's current payload, with its version."""
    from rustok import modules
    from rustok.core.events import CATALOG

    modules.load_events()
    _print({"event_types": CATALOG.json_schemas()})


# ------------------------------------------------------------------------------------------------- users

user_app = typer.Typer(help="Users of a tenant.", no_args_is_help=True)
app.add_typer(user_app, name="user")
PASSWORD_STDIN_HELP = "Read the password from the first line of stdin."  # noqa: S105 - a help text


def _password(*, given: str | None, from_stdin: bool, variable: str, option: str) -> tuple[str, str]:
    """The password and where it came from (to name in messages): ``option`` (kept for compatibility; it
    stays in the shell's history), else one line of stdin with ``--password-stdin``, else the environment
    variable ``variable``, else a hidden prompt, asked twice, when stdin is a terminal; else exit 2."""
    if given is not None and from_stdin:
        _fail(f"give {option} or --password-stdin, not both")
    if given is not None:
        return given, option
    if from_stdin:
        value = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not value:
            _fail("--password-stdin: no password on stdin (its first line is read)")
        return value, "--password-stdin"
    from_env = os.environ.get(variable)
    if from_env:
        return from_env, variable
    if sys.stdin.isatty():
        prompted: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
        return prompted, "the password"
    _fail(
        f"no password: pipe it with --password-stdin, set {variable}, or run in a terminal to be asked "
        f"({option} works too, but stays in the shell history)"
    )


def _role(value: str) -> Role:
    if value not in {r.value for r in Role}:
        _fail(f"--role must be one of {', '.join(r.value for r in Role)}, not {value!r}")
    return Role(value)


@user_app.command("create")
def user_create(
    tenant: Annotated[str, typer.Option(help="The tenant: its slug or id.")],
    email: Annotated[str, typer.Option(help="The user's email (unique in the tenant).")],
    role: Annotated[str, typer.Option(help="super_admin, admin, manager or customer.")],
    password: Annotated[
        str | None,
        typer.Option(help="8 to 256 characters; visible in the shell history: prefer --password-stdin."),
    ] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help=PASSWORD_STDIN_HELP)] = False,
    name: Annotated[str | None, typer.Option(help="The user's display name.")] = None,
) -> None:
    """Create a user of a tenant and print it as JSON. The password: --password-stdin, else
    $RUSTOK_PASSWORD, else a prompt when run in a terminal."""
    from rustok.users.schemas import UserCreate, UserOut
    from rustok.users.service import create_user

    chosen_role = _role(role)
    settings = _ready()
    secret, source = _password(
        given=password, from_stdin=password_stdin, variable="RUSTOK_PASSWORD", option="--password"
    )
    try:
        data = UserCreate(email=email, password=secret, name=name, role=chosen_role)
    except ValidationError as exc:
        _refuse_options(exc, {"password": source})

    async def work(settings: Settings, uow: UnitOfWork) -> BaseModel:
        found = await _tenant(uow, tenant)
        return UserOut.model_validate(await create_user(uow, found.id, data, settings=settings))

    _print(_run(work, write=True, settings=settings))


@user_app.command("list")
def user_list(
    tenant: Annotated[str, typer.Option(help="The tenant: its slug or id.")],
    role: Annotated[Role | None, typer.Option(help="Only users with this role.")] = None,
    status: Annotated[UserStatus | None, typer.Option(help="Only users in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page.")] = None,
) -> None:
    """A tenant's users, oldest first, as JSON: {"items": [...], "next_cursor": ...}."""
    from rustok.core.deps import RequestContext
    from rustok.core.pagination import Page
    from rustok.users.schemas import UserOut
    from rustok.users.service import list_users

    params = _page_params(limit, cursor)

    async def work(runtime: Runtime) -> BaseModel:
        async with runtime.platform() as uow:
            tenant_id = (await _tenant(uow, tenant)).id
        resolved = await runtime.tenant_cache.get(("id", str(tenant_id)))
        if resolved is None:  # deleted since
            raise NotFound(f"no tenant {tenant!r}")
        async with runtime.uow(TenantScope.of(tenant_id), write=False) as uow:
            ctx = RequestContext.system(uow, resolved, runtime.settings)
            found = await list_users(ctx, params, role=role, status=status)
        return Page(items=[UserOut.model_validate(u) for u in found.items], next_cursor=found.next_cursor)

    _print(_run_with(work))


def _refuse_options(exc: ValidationError, rename: dict[str, str] | None = None) -> NoReturn:
    """Report invalid option values, one line each, and exit 2. ``rename`` names a field's source when it
    is not the option of the same name (``{"default_locale": "--locale"}``)."""
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        where = (rename or {}).get(field) or "--" + field.replace("_", "-")
        typer.echo(f"rustok: {where}: {error['msg'].removeprefix('Value error, ')}", err=True)
    raise typer.Exit(code=2)


# ------------------------------------------------------------------------------------------------ tenants

tenant_app = typer.Typer(help="Tenants of the platform.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")


@tenant_app.command("create")
def tenant_create(
    name: Annotated[str, typer.Option(help="The tenant's name.")],
    slug: Annotated[str, typer.Option(help="Its slug: lower-case letters, digits and dashes.")],
    domain: Annotated[str | None, typer.Option(help="A host name that resolves to it.")] = None,
    locale: Annotated[str, typer.Option(help="Its default locale.")] = "en",
    admin_email: Annotated[str | None, typer.Option(help="Create its first admin with this email.")] = None,
    admin_password: Annotated[
        str | None,
        typer.Option(
            help="The first admin's password; visible in the shell history: prefer --password-stdin."
        ),
    ] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help=PASSWORD_STDIN_HELP)] = False,
) -> None:
    """Create a tenant (and its first admin) and print {"tenant": ..., "admin": ...} as JSON. The admin's
    password: --password-stdin, else $RUSTOK_ADMIN_PASSWORD, else a prompt when run in a terminal."""
    from rustok.tenants.schemas import TenantCreate, TenantOut
    from rustok.tenants.service import create_tenant
    from rustok.users.schemas import UserCreate, UserOut
    from rustok.users.service import create_user

    if admin_email is None and (admin_password is not None or password_stdin):
        _fail("a password is for the first admin: give --admin-email too")
    try:
        tenant_data = TenantCreate(name=name, slug=slug, domain=domain, default_locale=locale)
    except ValidationError as exc:
        _refuse_options(exc, {"default_locale": "--locale"})
    settings = _ready()
    admin_data: UserCreate | None = None
    if admin_email is not None:
        secret, source = _password(
            given=admin_password,
            from_stdin=password_stdin,
            variable="RUSTOK_ADMIN_PASSWORD",
            option="--admin-password",
        )
        try:
            admin_data = UserCreate(email=admin_email, password=secret, role=Role.ADMIN)
        except ValidationError as exc:
            _refuse_options(exc, {"email": "--admin-email", "password": source})

    async def work(settings: Settings, uow: UnitOfWork) -> dict[str, Any]:
        tenant = await create_tenant(uow, tenant_data)
        admin = None
        if admin_data is not None:
            admin = await create_user(uow, tenant.id, admin_data, settings=settings)
        return {
            "tenant": TenantOut.model_validate(tenant).model_dump(mode="json"),
            "admin": None if admin is None else UserOut.model_validate(admin).model_dump(mode="json"),
        }

    _print(_run(work, write=True, settings=settings))


@tenant_app.command("list")
def tenant_list(
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page.")] = None,
) -> None:
    """The platform's tenants, oldest first, as JSON: {"items": [...], "next_cursor": ...}."""
    from rustok.core.pagination import Page
    from rustok.tenants.schemas import TenantOut
    from rustok.tenants.service import list_tenants

    params = _page_params(limit, cursor)

    async def work(_: Settings, uow: UnitOfWork) -> BaseModel:
        found = await list_tenants(uow, params)
        return Page(items=[TenantOut.model_validate(t) for t in found.items], next_cursor=found.next_cursor)

    _print(_run(work))


# ------------------------------------------------------------------------------------------------- index

index_app = typer.Typer(help="The search index: rebuild and verify the read models.", no_args_is_help=True)
app.add_typer(index_app, name="index")
INDEX_TARGETS = ("content", "products", "all")


def _index_targets(target: str) -> list[Any]:
    if target not in INDEX_TARGETS:
        typer.echo(f"rustok: --target must be one of {', '.join(INDEX_TARGETS)}, not {target!r}", err=True)
        raise typer.Exit(code=2)
    return ["content", "products"] if target == "all" else [target]


async def _index_tenants(runtime: Runtime, tenant: str | None) -> list[uuid.UUID]:
    """The tenant named by ``tenant`` (slug or id), or every tenant; an unknown one is a problem (exit 1)."""
    from rustok.tenants.service import tenant_ids

    async with runtime.platform() as uow:
        return await tenant_ids(uow) if tenant is None else [(await _tenant(uow, tenant)).id]


@index_app.command("rebuild")
def index_rebuild(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug or id); default: all.")] = None,
    target: Annotated[str, typer.Option(help="content, products or all.")] = "all",
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Source ids per transaction.")] = 500,
) -> None:
    """Rebuild the search documents from their source, in checkpointed batches (a rebuild that died
    resumes where it stopped); live updates keep flowing meanwhile. Prints what was done as JSON."""
    from rustok.index import service

    targets = _index_targets(target)

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        done = []
        for tenant_id in await _index_tenants(runtime, tenant):
            for name in targets:
                result = await service.rebuild(runtime.uow, tenant_id, name, batch_size=batch_size)
                done.append(result.as_dict())
        return done

    _print({"rebuilds": _run_with(work)})


@index_app.command("verify")
def index_verify(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug or id); default: all.")] = None,
    target: Annotated[str, typer.Option(help="content, products or all.")] = "all",
) -> None:
    """Compare every search document with what its source builds now: counts of missing, extra and
    different documents with examples, as JSON. Exit code 1 when anything drifted."""
    from rustok.index import service

    targets = _index_targets(target)

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        found = []
        for tenant_id in await _index_tenants(runtime, tenant):
            async with runtime.uow(TenantScope.of(tenant_id), write=False) as uow:
                for name in targets:
                    drift = await service.verify(uow, name)
                    found.append({"tenant_id": str(tenant_id), **drift.as_dict()})
        return found

    reports = _run_with(work)
    clean = all(report["clean"] for report in reports)
    _print({"clean": clean, "reports": reports})
    if not clean:
        raise typer.Exit(code=1)


def main() -> None:
    app()
