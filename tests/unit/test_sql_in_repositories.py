"""All SQL lives in repositories: a module of ``src/rustok`` that builds statements is a repository.

The rule, checked on the imports of every module (parsed with `ast`, not run):

- **Who may build SQL**: a repository (a module named ``repository.py``, or any module inside a
  ``repository/`` package) and a migration (``src/rustok/migrations/**``). They may import anything.
- **What building SQL is**: importing one of SQLAlchemy's statement or expression constructors
  (`CONSTRUCTORS`: ``select``, ``insert``, ``update``, ``delete``, ``text``, ``func``, ``and_``, ...) from
  ``sqlalchemy`` or any of its submodules (``sqlalchemy.sql``, ``sqlalchemy.sql.expression``,
  ``sqlalchemy.dialects.postgresql``, ...); reaching one through an imported module
  (``import sqlalchemy as sa`` then ``sa.select(...)``, ``from sqlalchemy.dialects import postgresql``
  then ``postgresql.insert(...)``); and running a SQL string on a connection (``exec_driver_sql``).
- **Models** (a module named ``models.py``) may import ``func`` and ``text`` and nothing else of them: for
  server defaults (``server_default=func.now()``), and for the expressions of ``Index`` and
  ``CheckConstraint`` declarations (``postgresql_where=text("status = 'pending'")``). Declaring columns,
  types and constraints (``Column``, ``ForeignKey``, ``Index``, ...) is not building SQL at all.
- **The kernel's mechanisms** (`KERNEL`) may build SQL, each for the reason given: they are what
  repositories are built on.
  The list is exact: an entry that no longer builds SQL fails the test too.

Type names used in annotations (``Select``, ``ColumnElement``, ``TextClause``) are not constructors.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "rustok"

# SQLAlchemy's statement and SQL expression constructors (sqlalchemy.sql.expression's functions, and the
# dialects' insert).
CONSTRUCTORS = frozenset(
    {
        "select", "insert", "update", "delete", "text", "func", "and_", "or_", "not_", "exists", "union",
        "union_all", "intersect", "except_", "literal", "literal_column", "bindparam", "case", "cast",
        "type_coerce", "values", "tuple_", "column", "table", "null", "true", "false", "lateral", "alias",
        "join", "outerjoin", "over", "within_group", "any_", "all_", "distinct", "desc", "asc",
        "nulls_first", "nulls_last", "collate", "extract", "between", "label", "cte", "tablesample",
    }
)  # fmt: skip
MODELS_MAY_USE = frozenset({"func", "text"})

KERNEL = {
    "rustok/core/db.py": "the engine's own statements: SQLite's PRAGMAs and BEGIN, and the readiness ping",
    "rustok/core/pagination.py": "keyset pagination adds the cursor's row-value condition to any SELECT",
    "rustok/core/repository.py": "the base every repository derives from (get, list, count, page)",
    "rustok/testing/concurrency.py": "the test kit's barrier reads pg_locks (who waits on which lock)",
}


def is_repository(relative: str) -> bool:
    parts = relative.split("/")
    return parts[-1] == "repository.py" or "repository" in parts[:-1]


def is_migration(relative: str) -> bool:
    return relative.startswith("rustok/migrations/")


def sql_built(source: str) -> Iterator[tuple[int, str]]:
    """(line, what) for each way ``source`` builds SQL, as the module docstring defines it."""
    tree = ast.parse(source)
    modules: dict[str, str] = {}  # local name -> the sqlalchemy module it is
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "sqlalchemy" or alias.name.startswith("sqlalchemy."):
                    # ``import sqlalchemy.sql`` binds ``sqlalchemy``; ``import x.y as z`` binds ``z``.
                    local = alias.asname or alias.name.split(".")[0]
                    modules[local] = alias.name if alias.asname else "sqlalchemy"
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module != "sqlalchemy" and not node.module.startswith("sqlalchemy."):
                continue
            for alias in node.names:
                if alias.name in CONSTRUCTORS:
                    yield node.lineno, f"from {node.module} import {alias.name}"
                elif alias.name[:1].islower():  # a submodule, such as ``from sqlalchemy import sql``
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in modules and node.attr in CONSTRUCTORS:
                yield node.lineno, f"{ast.unparse(node)} (through {modules[base.id]})"
            if node.attr == "exec_driver_sql":
                yield node.lineno, f"{ast.unparse(node)} (a SQL string)"


def violations(relative: str, source: str) -> list[str]:
    if is_repository(relative) or is_migration(relative):
        return []
    found = list(sql_built(source))
    if relative.split("/")[-1] == "models.py":
        found = [(line, what) for line, what in found if what.rsplit(" ", 1)[-1] not in MODELS_MAY_USE]
    return [f"{relative}:{line}: {what}" for line, what in sorted(set(found))]


def modules_of_the_package() -> Iterator[tuple[str, str]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(SRC).as_posix(), path.read_text(encoding="utf-8")


def test_only_repositories_and_migrations_build_sql() -> None:
    found: dict[str, list[str]] = {}
    for relative, source in modules_of_the_package():
        if relative in KERNEL:
            continue
        if problems := violations(relative, source):
            found[relative] = problems
    assert found == {}, "SQL outside a repository (move it into the module's repository.py):\n" + "\n".join(
        line for problems in found.values() for line in problems
    )


def test_the_allowances_are_exact() -> None:
    """Every module allowed to build SQL by name does so (else its entry is stale), and exists."""
    sources = dict(modules_of_the_package())
    for relative in KERNEL:
        assert relative in sources, f"{relative} is allowed to build SQL but does not exist"
        assert list(sql_built(sources[relative])), f"{relative} builds no SQL: drop its allowance"


@pytest.mark.parametrize(
    ("relative", "source", "expected"),
    [
        (
            "rustok/x/service.py",
            "from sqlalchemy import select, ColumnElement\n",
            ["from sqlalchemy import select"],
        ),
        ("rustok/x/service.py", "from sqlalchemy.sql import text\n", ["from sqlalchemy.sql import text"]),
        ("rustok/x/service.py", "from sqlalchemy.sql.expression import and_\n", ["import and_"]),
        (
            "rustok/x/service.py",
            "import sqlalchemy as sa\nsa.select(1)\n",
            ["sa.select (through sqlalchemy)"],
        ),
        ("rustok/x/service.py", "import sqlalchemy\nsqlalchemy.sql.text('x')\n", ["sqlalchemy.sql.text"]),
        ("rustok/x/service.py", "from sqlalchemy import sql\nsql.func.now()\n", ["sql.func (through"]),
        (
            "rustok/x/service.py",
            "from sqlalchemy.dialects.postgresql import insert\n",
            ["postgresql import insert"],
        ),
        (
            "rustok/x/service.py",
            "from sqlalchemy.dialects import sqlite\nsqlite.insert(t)\n",
            ["sqlite.insert (through sqlalchemy.dialects.sqlite)"],
        ),
        (
            "rustok/x/service.py",
            "async def f(c):\n    await c.exec_driver_sql('SELECT 1')\n",
            ["a SQL string"],
        ),
        ("rustok/x/service.py", "from sqlalchemy import ColumnElement, Select, TextClause\n", []),
        ("rustok/x/service.py", "from sqlalchemy.exc import IntegrityError\n", []),
        ("rustok/x/models.py", "from sqlalchemy import Index, func, text\n", []),
        ("rustok/x/models.py", "from sqlalchemy import select\n", ["from sqlalchemy import select"]),
        ("rustok/x/repository.py", "from sqlalchemy import select, text\n", []),
        ("rustok/x/repository/nodes.py", "from sqlalchemy import select\n", []),
        ("rustok/migrations/versions/0001_x.py", "import sqlalchemy as sa\nsa.text('x')\n", []),
        ("rustok/x/search_repository.py", "from sqlalchemy import text\n", ["from sqlalchemy import text"]),
    ],
)
def test_the_rule_on_examples(relative: str, source: str, expected: list[str]) -> None:
    """Guards the guard: each way of building SQL is caught where it is not allowed, and only there."""
    found = violations(relative, source)
    assert len(found) == len(expected), found
    for line, fragment in zip(found, expected, strict=True):
        assert fragment in line, (fragment, line)
