"""``rustok`` finds its database wherever it runs, and says in one line when it cannot use it.

Each test runs the installed console script in a subprocess, from a directory that is neither the data
directory nor the home directory, with ``HOME`` and the XDG variables pointed at directories of the test's
own (so the user's own ``~/.local/share/rustok`` and ``~/.config/rustok`` are never read or written).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from rustok.testing.services import postgres_admin_url, reachable, require_service
from tests.e2e.test_cli import (
    COMMAND_TIMEOUT,
    RUSTOK,
    SERVE_START_TIMEOUT,
    free_port,
    head_revision,
    migrated_revision,
    rustok,
)

PASSWORD = "correct horse battery"


@dataclass(frozen=True, slots=True)
class User:
    """An operator's account: a home directory, no RUSTOK_ variable, and directories to run from."""

    home: Path
    root: Path

    @property
    def data_dir(self) -> Path:
        return self.home / ".local" / "share" / "rustok"

    @property
    def database(self) -> Path:
        return self.data_dir / "rustok.db"

    def env(self, **extra: str) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith(("RUSTOK_", "XDG_"))}
        env["HOME"] = str(self.home)
        env.update(extra)
        return env

    def directory(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def rustok(
        self, *args: str, cwd: str = "elsewhere", stdin: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return rustok(*args, env=self.env(**env), cwd=self.directory(cwd), stdin=stdin)


@pytest.fixture
def user(tmp_path: Path) -> User:
    home = tmp_path / "home"
    home.mkdir()
    return User(home=home, root=tmp_path / "dirs")


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused command printed on stderr (and nothing on stdout, no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return lines[0]


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*")) if path.exists() else []


# ----------------------------------------------------------------------------------------- where it runs


def test_commands_run_from_any_directory_reach_the_same_database(user: User) -> None:
    """Given ``rustok migrate`` run in one directory and nothing configured, when ``tenant create`` runs in
    a second and ``tenant list`` in a third, then both reach the one database in ``~/.local/share/rustok``
    and no directory they ran in gets a database of its own."""
    migrated = user.rustok("migrate", cwd="project")
    created = user.rustok("tenant", "create", "--name", "Acme", "--slug", "acme", cwd="tmp")
    listed = user.rustok("tenant", "list", cwd="cron")

    assert migrated.returncode == 0, migrated.stderr
    assert created.returncode == 0, created.stderr
    assert listed.returncode == 0, listed.stderr
    assert [t["slug"] for t in json.loads(listed.stdout)["items"]] == ["acme"]
    assert migrated_revision(user.database) == [head_revision()]
    assert [path for path in files_under(user.root) if path.is_file()] == []


def test_xdg_data_home_moves_the_default_data_directory(user: User, tmp_path: Path) -> None:
    xdg = tmp_path / "xdg-data"

    result = user.rustok("migrate", XDG_DATA_HOME=str(xdg))

    assert result.returncode == 0, result.stderr
    assert migrated_revision(xdg / "rustok" / "rustok.db") == [head_revision()]
    assert not user.database.exists()


def test_a_relative_data_dir_in_the_user_s_config_file_is_taken_from_that_file_s_directory(
    user: User,
) -> None:
    """Given ``~/.config/rustok/rustok.env`` setting ``RUSTOK_DATA_DIR=state``, then every command, from
    any directory, uses ``~/.config/rustok/state``, and says so in its messages."""
    config = user.home / ".config" / "rustok" / "rustok.env"
    config.parent.mkdir(parents=True)
    config.write_text("RUSTOK_DATA_DIR=state\n")
    database = config.parent / "state" / "rustok.db"

    missing = user.rustok("tenant", "list", cwd="one")
    migrated = user.rustok("migrate", cwd="two")
    listed = user.rustok("tenant", "list", cwd="three")

    assert missing.returncode == 2
    assert str(database) in one_line(missing)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated_revision(database) == [head_revision()]
    assert listed.returncode == 0, listed.stderr


def test_a_dot_env_in_the_current_directory_is_read_and_the_environment_wins_over_it(user: User) -> None:
    project = user.directory("project")
    (project / ".env").write_text("RUSTOK_DATA_DIR=from-dot-env\n")
    chosen = user.root / "chosen"

    from_file = user.rustok("migrate", cwd="project")
    from_env = user.rustok("migrate", cwd="project", RUSTOK_DATA_DIR=str(chosen))

    assert from_file.returncode == 0, from_file.stderr
    assert from_env.returncode == 0, from_env.stderr
    assert migrated_revision(project / "from-dot-env" / "rustok.db") == [head_revision()]
    assert migrated_revision(chosen / "rustok.db") == [head_revision()]


def test_rustok_env_file_naming_no_file_is_one_line_and_exit_2(user: User) -> None:
    missing = user.root / "nowhere" / "rustok.env"

    result = user.rustok("tenant", "list", RUSTOK_ENV_FILE=str(missing))

    assert result.returncode == 2
    assert one_line(result) == f"rustok: RUSTOK_ENV_FILE names {missing}, which is not a file"
    assert not user.data_dir.exists()


def test_rustok_env_file_is_read_from_wherever_the_command_runs(user: User) -> None:
    env_file = user.root / "etc" / "rustok.env"
    env_file.parent.mkdir(parents=True)
    env_file.write_text("RUSTOK_DATA_DIR=../var/rustok\n")

    migrated = user.rustok("migrate", cwd="a", RUSTOK_ENV_FILE=str(env_file))
    listed = user.rustok("tenant", "list", cwd="b", RUSTOK_ENV_FILE=str(env_file))

    assert migrated.returncode == 0, migrated.stderr
    assert listed.returncode == 0, listed.stderr
    assert migrated_revision(user.root / "var" / "rustok" / "rustok.db") == [head_revision()]


# ------------------------------------------------------------------------------- a database not there


# Every command that reads or writes data, with what it needs besides a database.
DATA_COMMANDS = [
    ("tenant", "list"),
    ("tenant", "create", "--name", "Acme", "--slug", "acme", "--admin-email", "a@acme.example"),
    ("user", "list", "--tenant", "acme"),
    ("user", "create", "--tenant", "acme", "--email", "a@acme.example", "--role", "admin"),
    ("events", "list"),
    ("events", "stats"),
    ("events", "retry", "--all-failed"),
    ("events", "replay", "--consumer", "index.content"),
    ("index", "rebuild"),
    ("index", "verify"),
    ("serve", "--port", str(free_port())),
    ("worker",),
]
COMMAND_IDS = ["-".join(arg for arg in command if not arg.startswith("-"))[:30] for command in DATA_COMMANDS]
NO_AUTO_MIGRATE = {"RUSTOK_AUTO_MIGRATE": "0", "RUSTOK_PASSWORD": PASSWORD, "RUSTOK_ADMIN_PASSWORD": PASSWORD}


@pytest.mark.parametrize("command", DATA_COMMANDS, ids=COMMAND_IDS)
def test_a_command_against_no_database_says_so_in_one_line_and_creates_nothing(
    user: User, command: tuple[str, ...]
) -> None:
    """The operator's mistake of the issue: run where no database was ever made, a command does not make
    an empty one and die on ``no such table``; it names the file it looked for and the fix, exit 2."""
    result = user.rustok(*command, **NO_AUTO_MIGRATE)

    assert result.returncode == 2
    assert one_line(result) == (
        f"rustok: there is no database at {user.database} "
        "(run: rustok migrate; or set RUSTOK_DATA_DIR or RUSTOK_DATABASE_URL)"
    )
    assert files_under(user.home) == []
    assert files_under(user.root) == [user.root / "elsewhere"]


@pytest.mark.parametrize("command", DATA_COMMANDS, ids=COMMAND_IDS)
def test_a_command_against_an_unmigrated_database_says_so_in_one_line(
    user: User, command: tuple[str, ...]
) -> None:
    """Given the empty SQLite file an earlier version left behind, then every data command says the
    database is not migrated (not ``no such table: tenants``), exit 2, and leaves it as it was."""
    user.data_dir.mkdir(parents=True)
    sqlite3.connect(user.database).close()

    result = user.rustok(*command, **NO_AUTO_MIGRATE)

    assert result.returncode == 2
    assert (
        one_line(result) == f"rustok: the database at {user.database} is not migrated (run: rustok migrate)"
    )
    with sqlite3.connect(user.database) as connection:
        assert connection.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_a_database_behind_the_newest_migration_is_not_migrated(user: User) -> None:
    assert user.rustok("migrate", "0001").returncode == 0

    behind = user.rustok("tenant", "list")
    user.rustok("migrate")
    current = user.rustok("tenant", "list")

    assert behind.returncode == 2
    assert (
        one_line(behind) == f"rustok: the database at {user.database} is not migrated (run: rustok migrate)"
    )
    assert current.returncode == 0, current.stderr


def test_a_database_migrated_by_a_newer_release_is_refused_even_by_migrate(user: User) -> None:
    assert user.rustok("migrate").returncode == 0
    with sqlite3.connect(user.database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00dfeed'")

    listed = user.rustok("tenant", "list")
    migrated = user.rustok("migrate")

    version = importlib.metadata.version("rustok")
    expected = (
        f"rustok: the database at {user.database} is at revision f00dfeed, which rustok {version} does not "
        "have (a newer release migrated it)"
    )
    assert (listed.returncode, one_line(listed)) == (2, expected)
    assert (migrated.returncode, one_line(migrated)) == (2, expected)


# ------------------------------------------------------------------------------ a database not reachable


def closed_port() -> int:
    """A local port nothing listens on."""
    return free_port()


@pytest.mark.parametrize(
    "command", [("tenant", "list"), ("migrate",), ("serve", "--port", str(free_port())), ("worker",)], ids=str
)
def test_an_unreachable_postgresql_is_one_line_and_exit_2(user: User, command: tuple[str, ...]) -> None:
    url = f"postgresql://rustok:secret@127.0.0.1:{closed_port()}/rustok"

    result = user.rustok(*command, RUSTOK_DATABASE_URL=url, RUSTOK_AUTO_MIGRATE="1")

    assert result.returncode == 2
    line = one_line(result)
    assert line.startswith("rustok: cannot connect to the database at postgresql://rustok:***@127.0.0.1:")
    assert "secret" not in line


def test_a_database_url_that_is_not_a_url_is_an_invalid_setting(user: User) -> None:
    result = user.rustok("tenant", "list", RUSTOK_DATABASE_URL="rustok.db")

    assert result.returncode == 2
    assert (
        one_line(result)
        == "rustok: invalid configuration: RUSTOK_DATABASE_URL: not a database URL: 'rustok.db'"
    )


async def test_postgresql_that_is_reachable_but_unmigrated_or_missing(user: User) -> None:
    """Given a PostgreSQL server, then a database that does not exist is one line (the server's reason),
    and an empty one is "not migrated"; both exit 2."""
    import asyncpg

    admin_url = postgres_admin_url()
    if not reachable(admin_url, 5432):
        require_service("postgres", admin_url)
    server = admin_url.rpartition("/")[0]
    name = f"rustok_cli_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        missing = user.rustok("tenant", "list", RUSTOK_DATABASE_URL=f"{server}/{name}_missing")
        empty = user.rustok("tenant", "list", RUSTOK_DATABASE_URL=f"{server}/{name}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    assert missing.returncode == 2
    assert one_line(missing).startswith("rustok: cannot connect to the database at postgresql://")
    assert f'database "{name}_missing" does not exist' in missing.stderr
    assert empty.returncode == 2
    assert one_line(empty).endswith(f"/{name} is not migrated (run: rustok migrate)")


# ------------------------------------------------------------------------------------------------ version


def test_version_prints_the_installed_version_and_touches_nothing(user: User) -> None:
    result = user.rustok("--version")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"rustok {importlib.metadata.version('rustok')}\n"
    assert files_under(user.home) == []


# -------------------------------------------------------------------------------------------------- serve


def serve_until_listening(user: User, *args: str, **env: str) -> tuple[str, str]:
    """Start ``rustok serve`` on a free port, wait until it accepts connections, stop it: its stderr and
    the base URL."""
    port = free_port()
    err = user.root / f"serve-{port}.err"
    user.directory("elsewhere")
    with err.open("w") as stderr:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [str(RUSTOK), "serve", "--port", str(port), *args],
            env=user.env(RUSTOK_LOG_FORMAT="json", **env),
            cwd=user.root / "elsewhere",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            deadline = time.monotonic() + SERVE_START_TIMEOUT
            while True:
                assert process.poll() is None, f"serve exited {process.returncode}: {err.read_text()}"
                assert time.monotonic() < deadline, f"serve did not listen: {err.read_text()}"
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
                    break
                except OSError:
                    time.sleep(0.1)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
    return err.read_text(), f"http://127.0.0.1:{port}"


def test_serve_says_where_it_listens_and_how_to_make_the_first_tenant_once_for_all_workers(
    user: User,
) -> None:
    """Given a fresh install, when ``serve --workers 2`` starts, then its stderr says once (not once per
    worker) the URL, the API reference under it, the database file, and the command that creates a
    tenant; once a tenant exists, that hint is gone."""
    first, base = serve_until_listening(user, "--workers", "2")
    created = user.rustok("tenant", "create", "--name", "Acme", "--slug", "acme")
    second, second_base = serve_until_listening(user)

    *ours, hint = [line for line in first.splitlines() if line.startswith("rustok: ")]
    assert ours == [
        f"rustok: serving {base}; the API reference: {base}/docs",
        f"rustok: database: {user.database}",
    ]
    advice, _, command = hint.partition(" with: ")
    assert advice == "rustok: no tenant yet; create one (and its admin)"
    program, _, arguments = command.partition(" ")
    assert program in ("rustok", str(RUSTOK))  # the name when the PATH finds this script, else its path
    assert arguments == "tenant create --name 'My shop' --slug my-shop --admin-email you@example.com"
    assert created.returncode == 0, created.stderr
    assert [line for line in second.splitlines() if line.startswith("rustok: ")] == [
        f"rustok: serving {second_base}; the API reference: {second_base}/docs",
        f"rustok: database: {user.database}",
    ]


def test_serve_on_a_port_in_use_is_one_line_and_exit_2(user: User) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = user.rustok("serve", "--port", str(port))

    assert result.returncode == 2
    assert one_line(result) == f"rustok: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert files_under(user.home) == []


# --------------------------------------------------------------------------------------------- the test kit

KIT_TEST = """
from pathlib import Path

import httpx
from fastapi import FastAPI

from rustok.core.settings import Settings
from rustok.testing import live_app, login_as, new_tenant
from rustok.testing.media import upload_media


async def test_an_app_of_the_kit_keeps_its_files_in_the_test_s_directory(
    client: httpx.AsyncClient, app: FastAPI, make_uow, settings: Settings, isolated_settings: Settings,
    tmp_path: Path,
) -> None:
    tenant_id = await new_tenant(make_uow, "kit")
    headers = await login_as(client, app, tenant_id, "admin")
    await upload_media(client, headers)
    async with live_app(isolated_settings) as live:
        assert (await live.client.get("/health/ready")).status_code == 200
    assert settings.data_dir.is_relative_to(tmp_path)
    assert isolated_settings.data_dir.is_relative_to(tmp_path)
    assert [path for path in settings.effective_media_dir.rglob("*") if path.is_file()]
"""


def test_the_test_kit_never_reads_or_writes_the_user_s_data_directory(user: User) -> None:
    """A project's tests on the test kit (`rustok.testing.plugin`): an app on the test's database, a live
    app on an isolated one, an upload. Run with ``HOME`` pointed at an empty directory, nothing appears in
    ``~/.local/share/rustok`` (or anywhere in that home): every file stays under the test's tmp_path."""
    project = user.directory("project")
    (project / "conftest.py").write_text('pytest_plugins = ["rustok.testing.plugin"]\n')
    (project / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = session\n"
        "asyncio_default_test_loop_scope = session\n"
    )
    (project / "test_kit.py").write_text(KIT_TEST)

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_kit.py"],
        env=user.env(RUSTOK_TEST_BACKENDS="sqlite"),
        cwd=project,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT * 3,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert files_under(user.home) == []
    assert sorted(path.name for path in project.iterdir()) == ["conftest.py", "pytest.ini", "test_kit.py"]
