"""The composition rules of docs/architecture.md, read from the source with `ast`:

- units of work, engines and session factories are made by the composition root (`rustok.bootstrap`), the
  kernel that defines them and the test kit, nowhere else (the benches and the tests included, but for the
  tests whose subject is the constructor itself);
- the request's state is read by the kernel's request dependencies alone: endpoints get the tenant, the
  caller and the unit of work from `rustok.core.deps.ContextDep`.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "rustok"
BENCH = ROOT / "bench"
TESTS = ROOT / "tests"


CONSTRUCTORS = frozenset(
    {"UnitOfWork", "create_engine", "create_async_engine", "async_sessionmaker", "create_sessionmaker"}
)
# Where those may be called, and why.
MAY_CONSTRUCT = {
    "src/rustok/bootstrap.py": "the composition root",
    "src/rustok/core/uow.py": "UnitOfWork.sibling: a unit of work like this one, for after-commit work",
    "src/rustok/core/db.py": "defines create_engine and create_sessionmaker",
    "src/rustok/migrations/__init__.py": "migrations run before (and without) a runtime",
    "src/rustok/migrations/env.py": "Alembic's own entry point",
}
MAY_CONSTRUCT_UNDER = ("src/rustok/testing/",)
# The tests that call them, and why: each one's subject is the constructor. Every other test gets its world
# from the test kit or the composition root (open_runtime, rustok.testing.live_app, make_uow).
TESTS_MAY_CONSTRUCT = {
    "tests/integration/test_database.py": "its subject is create_engine: the SQLite tuning, the default file",
    "tests/integration/test_outbox_writer.py": "a UnitOfWork made without an event sink refuses to commit",
}
MAY_CONSTRUCT_ANYWHERE = MAY_CONSTRUCT | TESTS_MAY_CONSTRUCT

# Who may touch ``request.state`` / ``app.state``, and why.
MAY_READ_STATE = {
    "src/rustok/core/request.py": "the request's tenant and unit of work: the one reader of request.state",
    "src/rustok/core/security.py": "the authenticator the app installs",
    "src/rustok/core/deps.py": "the app's settings",
    "src/rustok/tenants/resolution.py": "the middleware that resolves the tenant writes it",
    "src/rustok/api/app.py": "the app factory keeps the runtime",
    "src/rustok/api/deps.py": "the runtime, for the app's own routes (health)",
    "src/rustok/outbox/http.py": "the relay's consumer registry: a part of the runtime the kernel lacks",
    "src/rustok/content/media/http.py": "the media storage: a part of the runtime the kernel lacks",
}
MAY_READ_STATE_UNDER = ("src/rustok/testing/",)


def python_files(*roots: Path) -> Iterator[tuple[str, ast.Module]]:
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(), filename=str(path))


def called_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def constructions(tree: ast.Module) -> list[tuple[int, str]]:
    return [
        (node.lineno, name)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and (name := called_name(node)) in CONSTRUCTORS
    ]


def state_reads(tree: ast.Module) -> list[int]:
    """Lines reading ``<something>.state`` (``request.state``, ``request.app.state``, ``app.state``); a
    method of that name (``repository.state(...)``) is something else."""
    methods = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "state" and id(node) not in methods
    ]


def test_only_the_composition_root_and_the_test_kit_build_units_of_work_and_engines() -> None:
    found = [
        f"{path}:{line}: {name}(...)"
        for path, tree in python_files(SOURCE, BENCH, TESTS)
        if path not in MAY_CONSTRUCT_ANYWHERE and not path.startswith(MAY_CONSTRUCT_UNDER)
        for line, name in constructions(tree)
    ]
    assert found == [], "build these through rustok.bootstrap (Runtime.uow, open_runtime) or the test kit"


def test_no_endpoint_or_service_reads_the_request_state() -> None:
    found = [
        f"{path}:{line}"
        for path, tree in python_files(SOURCE)
        if path not in MAY_READ_STATE and not path.startswith(MAY_READ_STATE_UNDER)
        for line in state_reads(tree)
    ]
    assert found == [], "take the request context (rustok.core.deps.ContextDep) instead"


@pytest.mark.parametrize("path", sorted(MAY_CONSTRUCT_ANYWHERE) + sorted(MAY_READ_STATE))
def test_every_allowance_is_still_needed(path: str) -> None:
    """An allowance outlives its reason only by mistake: each allowed file still does what it is allowed."""
    tree = ast.parse((ROOT / path).read_text())
    uses = (constructions(tree) if path in MAY_CONSTRUCT_ANYWHERE else []) + [
        (line, "state") for line in (state_reads(tree) if path in MAY_READ_STATE else [])
    ]
    assert uses, f"{path} no longer needs its allowance"


def test_the_rules_see_what_they_forbid() -> None:
    """The readers find the shapes they look for (so an empty finding means something)."""
    tree = ast.parse(
        "uow = UnitOfWork(sessions, scope)\n"
        "engine = db.create_engine(settings)\n"
        "tenant = request.state.tenant\n"
        "cache = request.app.state.tenant_cache\n"
        "found = repository.state(session_id)\n"
    )
    assert constructions(tree) == [(1, "UnitOfWork"), (2, "create_engine")]
    assert sorted(state_reads(tree)) == [3, 4]


def matrix_declarations(tree: ast.Module) -> list[int]:
    """Lines calling ``MATRIX.resource(...)`` or ``MATRIX.grant(...)``."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"resource", "grant"}
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "MATRIX"
    ]


MODULES = ("outbox", "tenants", "users", "content", "commerce", "index")


def test_permissions_are_declared_by_their_modules_not_by_the_kernel() -> None:
    """The kernel keeps the mechanism (``MATRIX``); each module's ``permissions.py`` declares its resources
    and grants, and nothing else does."""
    owners = {path for path, tree in python_files(SOURCE) if matrix_declarations(tree)}
    assert owners == {f"src/rustok/{module}/permissions.py" for module in MODULES}


def test_every_dependency_of_a_route_is_a_coroutine() -> None:
    """FastAPI runs a plain-function dependency in a worker thread: a hop that costs more than the small
    work our dependencies do (it once halved the throughput of ``GET /api/tenant``)."""
    from rustok.api.app import create_app
    from rustok.core.routing import walk_routes
    from rustok.core.settings import Settings

    found = set()
    for route in walk_routes(create_app(Settings(_env_file=None), configure_logs=False).routes):
        pending = list(route.dependant.dependencies)
        while pending:
            dependant = pending.pop()
            pending.extend(dependant.dependencies)
            call: Any = dependant.call
            # A dependency object (a permission check) is called through its __call__ method.
            target = call if call is None or inspect.isfunction(call) else type(call).__call__
            if target is None or not str(getattr(target, "__module__", "")).startswith("rustok"):
                continue
            if not (inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)):
                found.add(f"{target.__module__}.{target.__qualname__}")
    assert sorted(found) == []
