"""The ``rustok`` command."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from rustok.bootstrap import Runtime, open_runtime
from rustok.core.errors import NotFound, ProblemError
from rustok.core.logging import configure_logging, get_logger
from rustok.core.settings import Settings, get_settings
from rustok.core.tenancy import TenantScope
from rustok.core.uow import UnitOfWork
from rustok.outbox.models import EventStatus

T = TypeVar("T")

app = typer.Typer(
    name="rustok",
    help="RusToK: a multi-tenant, event-driven headless CMS and commerce platform.",
    no_args_is_help=True,
    add_completion=False,
)
events_app = typer.Typer(help="The event outbox: list, stats, retry, replay, schema.", no_args_is_help=True)
app.add_typer(events_app, name="events")
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


@app.command()
def worker() -> None:
    """Run the event relay and the consumers until SIGTERM/SIGINT. Several may run against PostgreSQL."""
    from rustok.bootstrap import run_worker
    from rustok.migrations import upgrade

    settings = _settings()
    if settings.should_auto_migrate:
        upgrade(settings)
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


def _run_with(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run ``work`` on a runtime built from the settings (`rustok.bootstrap`); a problem (404, 409) is a
    message and exit 1."""
    settings = _settings()

    async def run() -> T:
        async with open_runtime(settings, redis=False) as runtime:
            return await work(runtime)

    try:
        return asyncio.run(run())
    except ProblemError as exc:
        typer.echo(f"rustok: {exc.detail}", err=True)
        raise typer.Exit(code=1) from None


def _run(work: Callable[[Settings, UnitOfWork], Awaitable[T]], *, write: bool = False) -> T:
    """Run ``work`` in one platform-scoped unit of work; a problem (404, 409) is a message and exit 1."""

    async def in_one_uow(runtime: Runtime) -> T:
        async with runtime.platform(write=write) as uow:
            return await work(runtime.settings, uow)

    return _run_with(in_one_uow)


@events_app.command("list")
def events_list(
    status: Annotated[EventStatus | None, typer.Option(help="Only events in this state.")] = None,
    event_type: Annotated[str | None, typer.Option("--type", help="Only this event type.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's events (its id).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page.")] = None,
) -> None:
    """Events, newest first, as JSON: {"items": [...], "next_cursor": ...}."""
    from rustok.core.pagination import PageParams
    from rustok.outbox import service

    tenant_id = _uuid(tenant, "--tenant") if tenant else None

    async def work(_: Settings, uow: UnitOfWork) -> BaseModel:
        params = PageParams(limit=limit, cursor=cursor)
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
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's events (its id).")] = None,
) -> None:
    """Deliver a range of events to one consumer again, in order, whether or not it applied them."""
    from rustok.outbox import service
    from rustok.outbox.relay import ReplayFailed

    tenant_id = _uuid(tenant, "--tenant") if tenant else None

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


@user_app.command("create")
def user_create(
    tenant: Annotated[str, typer.Option(help="The tenant: its slug (or id).")],
    email: Annotated[str, typer.Option(help="The user's email (unique in the tenant).")],
    password: Annotated[str, typer.Option(help="8 to 256 characters.")],
    role: Annotated[str, typer.Option(help="super_admin, admin, manager or customer.")],
    name: Annotated[str | None, typer.Option(help="The user's display name.")] = None,
) -> None:
    """Create a user of a tenant and print it as JSON."""
    from rustok.core.permissions import Role
    from rustok.tenants.service import find_tenant
    from rustok.users.schemas import UserCreate, UserOut
    from rustok.users.service import create_user

    if role not in {r.value for r in Role}:
        typer.echo(
            f"rustok: --role must be one of {', '.join(r.value for r in Role)}, not {role!r}", err=True
        )
        raise typer.Exit(code=2)
    try:
        data = UserCreate(email=email, password=password, name=name, role=Role(role))
    except ValidationError as exc:
        _refuse_options(exc)

    async def work(settings: Settings, uow: UnitOfWork) -> BaseModel:
        found = await find_tenant(uow, tenant)
        return UserOut.model_validate(await create_user(uow, found.id, data, settings=settings))

    _print(_run(work, write=True))


def _refuse_options(exc: ValidationError, rename: dict[str, str] | None = None) -> NoReturn:
    """Report invalid option values, one line each, and exit 2."""
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        where = "--" + (rename or {}).get(field, field).replace("_", "-")
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
    admin_password: Annotated[str | None, typer.Option(help="The first admin's password.")] = None,
) -> None:
    """Create a tenant (and its first admin) and print {"tenant": ..., "admin": ...} as JSON."""
    from rustok.core.permissions import Role
    from rustok.tenants.schemas import TenantCreate, TenantOut
    from rustok.tenants.service import create_tenant
    from rustok.users.schemas import UserCreate, UserOut
    from rustok.users.service import create_user

    if (admin_email is None) != (admin_password is None):
        typer.echo("rustok: give both --admin-email and --admin-password, or neither", err=True)
        raise typer.Exit(code=2)
    try:
        tenant_data = TenantCreate(name=name, slug=slug, domain=domain, default_locale=locale)
    except ValidationError as exc:
        _refuse_options(exc, {"default_locale": "locale"})
    admin_data: UserCreate | None = None
    if admin_email is not None and admin_password is not None:
        try:
            admin_data = UserCreate(email=admin_email, password=admin_password, role=Role.ADMIN)
        except ValidationError as exc:
            _refuse_options(exc, {"email": "admin_email", "password": "admin_password"})

    async def work(settings: Settings, uow: UnitOfWork) -> dict[str, Any]:
        tenant = await create_tenant(uow, tenant_data)
        admin = None
        if admin_data is not None:
            admin = await create_user(uow, tenant.id, admin_data, settings=settings)
        return {
            "tenant": TenantOut.model_validate(tenant).model_dump(mode="json"),
            "admin": None if admin is None else UserOut.model_validate(admin).model_dump(mode="json"),
        }

    _print(_run(work, write=True))


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
    from rustok.tenants.service import find_tenant, tenant_ids

    async with runtime.platform() as uow:
        return await tenant_ids(uow) if tenant is None else [(await find_tenant(uow, tenant)).id]


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
