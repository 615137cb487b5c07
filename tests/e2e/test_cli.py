"""The ``rustok`` command, driven as an operator drives it: the installed console script, in a subprocess,
configured by ``RUSTOK_*`` environment variables only.

Every subprocess runs in a temporary directory (so no ``.env`` file is picked up) with the caller's
``RUSTOK_*`` variables removed, and with a bounded timeout.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory

from rustok.migrations import alembic_config
from rustok.testing.services import postgres_admin_url, reachable, require_service

RUSTOK = Path(sys.executable).parent / "rustok"
COMMAND_TIMEOUT = 60.0
SERVE_START_TIMEOUT = 30.0
PRODUCTION_SECRET = "a-production-secret-that-is-long-enough-0123456789"


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without any ``RUSTOK_*`` setting, plus a private data directory, and XDG
    directories that do not exist (so no ``rustok.env`` of the user running the tests is read)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("RUSTOK_")}
    env["RUSTOK_DATA_DIR"] = str(data_dir)
    env["XDG_CONFIG_HOME"] = str(data_dir / ".no-xdg-config")
    env["XDG_DATA_HOME"] = str(data_dir / ".no-xdg-data")
    env.update(extra)
    return env


def rustok(
    *args: str, env: dict[str, str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the console script; ``stdin`` is what it reads (by default nothing: stdin is not a terminal)."""
    return subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [str(RUSTOK), *args],
        env=env,
        cwd=cwd,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def migrated_revision(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def json_lines(text: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for raw in text.splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


# ------------------------------------------------------------------------------------------------------ help


def test_the_console_script_is_installed() -> None:
    assert RUSTOK.is_file(), f"no console script at {RUSTOK}"


def test_help_lists_serve_and_migrate(tmp_path: Path) -> None:
    result = rustok("--help", env=clean_env(tmp_path), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout
    assert "migrate" in result.stdout


def test_no_command_shows_the_usage(tmp_path: Path) -> None:
    result = rustok(env=clean_env(tmp_path), cwd=tmp_path)

    assert "Usage" in result.stdout + result.stderr
    assert "serve" in result.stdout + result.stderr


def test_the_package_runs_as_a_module_too(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rustok", "--help"],
        env=clean_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "migrate" in result.stdout


def test_serve_help_shows_host_port_and_workers(tmp_path: Path) -> None:
    result = rustok("serve", "--help", env=clean_env(tmp_path), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    for option in ("--host", "--port", "--workers"):
        assert option in result.stdout


def test_an_unknown_command_fails(tmp_path: Path) -> None:
    result = rustok("frobnicate", env=clean_env(tmp_path), cwd=tmp_path)

    assert result.returncode != 0


def test_serve_refuses_a_port_out_of_range(tmp_path: Path) -> None:
    result = rustok("serve", "--port", "70000", env=clean_env(tmp_path), cwd=tmp_path)

    assert result.returncode != 0
    assert "--port" in result.stderr
    assert not (tmp_path / "rustok.db").exists(), "nothing is done before the options are valid"


# --------------------------------------------------------------------------------------------------- migrate


def test_migrate_creates_the_embedded_database_at_the_newest_revision(tmp_path: Path) -> None:
    """Given no database configured, when ``rustok migrate`` runs, then the SQLite file under
    ``RUSTOK_DATA_DIR`` exists and records the newest revision."""
    data_dir = tmp_path / "data"

    result = rustok("migrate", env=clean_env(data_dir), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert migrated_revision(data_dir / "rustok.db") == [head_revision()]


def test_migrate_twice_is_harmless(tmp_path: Path) -> None:
    env = clean_env(tmp_path)

    first = rustok("migrate", env=env, cwd=tmp_path)
    second = rustok("migrate", env=env, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert migrated_revision(tmp_path / "rustok.db") == [head_revision()]


def test_migrate_honours_the_database_url(tmp_path: Path) -> None:
    database = tmp_path / "elsewhere" / "custom.db"
    env = clean_env(tmp_path / "data", RUSTOK_DATABASE_URL=f"sqlite:///{database.as_posix()}")

    result = rustok("migrate", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert migrated_revision(database) == [head_revision()]
    assert not (tmp_path / "data" / "rustok.db").exists()


async def test_migrate_on_postgresql(tmp_path: Path) -> None:
    """Given ``RUSTOK_DATABASE_URL`` naming an empty PostgreSQL database (a plain ``postgresql://`` URL, as
    an operator writes it), when ``rustok migrate`` runs, then that database is at the newest revision."""
    import asyncpg

    admin_url = postgres_admin_url()
    if not reachable(admin_url, 5432):
        require_service("postgres", admin_url)
    name = f"rustok_cli_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{admin_url.rpartition('/')[0]}/{name}"
        process = await asyncio.create_subprocess_exec(
            str(RUSTOK),
            "migrate",
            env=clean_env(tmp_path, RUSTOK_DATABASE_URL=url),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), COMMAND_TIMEOUT)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0, stderr.decode()

        migrated = await asyncpg.connect(url)
        try:
            versions = [row[0] for row in await migrated.fetch("SELECT version_num FROM alembic_version")]
        finally:
            await migrated.close()
        assert versions == [head_revision()]
        assert not (tmp_path / "rustok.db").exists()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# ----------------------------------------------------------------------------------------------- production


def test_production_without_a_jwt_secret_refuses_to_migrate(tmp_path: Path) -> None:
    """Given ``RUSTOK_ENV=production`` and no ``RUSTOK_JWT_SECRET``, then ``rustok migrate`` does nothing and
    fails with a message that names the variable to set."""
    result = rustok("migrate", env=clean_env(tmp_path, RUSTOK_ENV="production"), cwd=tmp_path)

    assert result.returncode != 0
    assert "RUSTOK_JWT_SECRET" in result.stdout + result.stderr
    assert not (tmp_path / "rustok.db").exists()


def test_production_without_a_jwt_secret_refuses_to_serve(tmp_path: Path) -> None:
    result = rustok(
        "serve", "--port", str(free_port()), env=clean_env(tmp_path, RUSTOK_ENV="production"), cwd=tmp_path
    )

    assert result.returncode != 0
    assert "RUSTOK_JWT_SECRET" in result.stdout + result.stderr


def test_production_with_a_short_jwt_secret_refuses_to_migrate(tmp_path: Path) -> None:
    env = clean_env(tmp_path, RUSTOK_ENV="production", RUSTOK_JWT_SECRET="too-short")

    result = rustok("migrate", env=env, cwd=tmp_path)

    assert result.returncode != 0
    assert "RUSTOK_JWT_SECRET" in result.stdout + result.stderr


def test_the_production_refusal_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    result = rustok("migrate", env=clean_env(tmp_path, RUSTOK_ENV="production"), cwd=tmp_path)

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    assert "ValidationError" not in output
    assert "pydantic" not in output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_the_production_refusal_does_not_print_the_secret(tmp_path: Path) -> None:
    secret = "hunter2-but-short"
    env = clean_env(tmp_path, RUSTOK_ENV="production", RUSTOK_JWT_SECRET=secret)

    result = rustok("migrate", env=env, cwd=tmp_path)

    assert result.returncode != 0
    assert "RUSTOK_JWT_SECRET" in result.stderr
    assert secret not in result.stdout + result.stderr


def test_production_with_a_strong_jwt_secret_migrates(tmp_path: Path) -> None:
    env = clean_env(tmp_path, RUSTOK_ENV="production", RUSTOK_JWT_SECRET=PRODUCTION_SECRET)

    result = rustok("migrate", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert migrated_revision(tmp_path / "rustok.db") == [head_revision()]
    assert PRODUCTION_SECRET not in result.stdout + result.stderr


# ----------------------------------------------------------------------------------------------------- serve


def test_serve_migrates_the_embedded_database_and_answers(tmp_path: Path) -> None:
    """Given nothing configured but a data directory, when ``rustok serve`` starts, then it migrates the
    SQLite database under it, answers ``/health/live`` and ``/health/ready``, logs one JSON access line per
    request (with ``RUSTOK_LOG_FORMAT=json``), and, when terminated, runs its shutdown before it exits."""
    port = free_port()
    data_dir = tmp_path / "data"
    env = clean_env(data_dir, RUSTOK_LOG_FORMAT="json")
    base_url = f"http://127.0.0.1:{port}"
    stdout_path, stderr_path = tmp_path / "serve.out", tmp_path / "serve.err"

    with stdout_path.open("w") as stdout, stderr_path.open("w") as stderr:
        process = subprocess.Popen(  # noqa: S603
            [str(RUSTOK), "serve", "--port", str(port)], env=env, cwd=tmp_path, stdout=stdout, stderr=stderr
        )
        try:
            live = _wait_until_live(process, base_url, stderr_path)
            ready = httpx.get(f"{base_url}/health/ready", timeout=5.0)
            missing = httpx.get(f"{base_url}/no/such/thing", headers={"X-Request-ID": "smoke-1"}, timeout=5.0)
        finally:
            process.terminate()
            try:
                exit_code = process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
                raise

    assert live.json() == {"status": "ok"}
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.headers["x-request-id"] == "smoke-1"
    assert "server" not in missing.headers
    assert migrated_revision(data_dir / "rustok.db") == [head_revision()]
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal: the exit is "killed by SIGTERM".
    assert exit_code in (0, -signal.SIGTERM), stderr_path.read_text()

    logs = json_lines(stdout_path.read_text())
    assert logs, f"no JSON log lines on stdout:\n{stdout_path.read_text()}\n{stderr_path.read_text()}"
    [access] = [
        line for line in logs if line.get("event") == "request" and line.get("request_id") == "smoke-1"
    ]
    assert access["path"] == "/no/such/thing"
    assert access["status"] == 404
    events = [line.get("event") for line in logs]
    assert events.index("migrating") < events.index("started") < events.index("stopped")


def _wait_until_live(process: subprocess.Popen[bytes], base_url: str, stderr_path: Path) -> httpx.Response:
    """Poll ``/health/live`` until it answers 200; fail if the process exits or the time is up."""
    deadline = time.monotonic() + SERVE_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"rustok serve exited with {process.returncode}:\n{stderr_path.read_text()}")
        try:
            response = httpx.get(f"{base_url}/health/live", timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        if response.status_code == 200:
            return response
        time.sleep(0.1)
    pytest.fail(f"rustok serve did not answer within {SERVE_START_TIMEOUT}s:\n{stderr_path.read_text()}")
