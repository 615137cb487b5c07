"""``rustok tenant`` and ``rustok user`` as an operator runs them: ``--tenant`` by slug or id on every command
that takes one, ``tenant list`` and ``user list`` pages, and passwords that never need to be an argument.

The console script runs in a subprocess on a database of the test's own (``RUSTOK_DATABASE_URL``, on each
backend), from a directory that is not the data directory, with stdin not a terminal unless a test gives it
one (a pseudo-terminal, for the prompt).
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from rustok.core.settings import Settings
from rustok.testing import live_app
from tests.e2e.test_cli import COMMAND_TIMEOUT, RUSTOK, clean_env
from tests.e2e.test_cli_events import CliResult, run_rustok

PASSWORD = "correct horse battery"
NO_TENANT = "rustok: no tenant 'nobody'\n"


@dataclass(frozen=True, slots=True)
class Cli:
    env: dict[str, str]
    cwd: Path
    settings: Settings

    async def __call__(self, *args: str, stdin: str | None = None, **env: str) -> CliResult:
        return await run_rustok(*args, env={**self.env, **env}, cwd=self.cwd, stdin=stdin)

    async def tenant(self, slug: str, *admin: str) -> dict[str, Any]:
        result = await self("tenant", "create", "--name", slug.title(), "--slug", slug, *admin)
        created: dict[str, Any] = result.json()["tenant"]
        return created

    async def signs_in(self, tenant: str, email: str, password: str) -> bool:
        """Whether ``email`` can sign in to ``tenant`` (a slug) with ``password``, over HTTP."""
        async with live_app(self.settings) as live:
            answer = await live.client.post(
                "/api/auth/login",
                headers={"X-Tenant-ID": tenant},
                json={"email": email, "password": password},
            )
        return answer.status_code == 200


@pytest_asyncio.fixture(loop_scope="session")
async def cli(isolated_settings: Settings, isolated_database_url: str, tmp_path: Path) -> AsyncIterator[Cli]:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(tmp_path / "data", RUSTOK_DATABASE_URL=isolated_database_url)
    # The CLI hashes passwords as the app signing in checks them: the test kit's cheap hashes.
    env.update(RUSTOK_PASSWORD_HASH_TIME_COST="1", RUSTOK_PASSWORD_HASH_MEMORY_COST="64")
    yield Cli(env, elsewhere, isolated_settings)


def items(result: CliResult) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = result.json()["items"]
    return found


# ------------------------------------------------------------------------------------------- tenant list


async def test_tenant_list_pages_through_every_tenant_oldest_first(cli: Cli) -> None:
    for slug in ("acme", "beta", "gamma"):
        await cli.tenant(slug)

    first = (await cli("tenant", "list", "--limit", "2")).json()
    second = (await cli("tenant", "list", "--limit", "2", "--cursor", first["next_cursor"])).json()

    assert [t["slug"] for t in first["items"]] == ["acme", "beta"]
    assert first["next_cursor"] is not None
    assert [t["slug"] for t in second["items"]] == ["gamma"]
    assert second["next_cursor"] is None
    assert set(second["items"][0]) >= {"id", "name", "slug", "domain", "default_locale", "is_active"}


async def test_tenant_list_refuses_a_bad_limit(cli: Cli) -> None:
    result = await cli("tenant", "list", "--limit", "0")

    assert result.returncode == 2
    assert "--limit" in result.stderr


# --------------------------------------------------------------------------------------------- user list


async def test_user_list_shows_one_tenant_s_users_by_role_and_page(cli: Cli) -> None:
    await cli("tenant", "create", "--name", "Acme", "--slug", "acme", "--admin-email", "boss@acme.example",
              RUSTOK_ADMIN_PASSWORD=PASSWORD)  # fmt: skip
    await cli.tenant("other", "--admin-email", "boss@other.example", "--admin-password", PASSWORD)
    for email, role in (("m@acme.example", "manager"), ("c@acme.example", "customer")):
        created = await cli(
            "user", "create", "--tenant", "acme", "--email", email, "--role", role, RUSTOK_PASSWORD=PASSWORD
        )
        assert created.returncode == 0, created.stderr

    everyone = await cli("user", "list", "--tenant", "acme")
    managers = await cli("user", "list", "--tenant", "acme", "--role", "manager")
    page = (await cli("user", "list", "--tenant", "acme", "--limit", "2")).json()
    rest = (
        await cli("user", "list", "--tenant", "acme", "--limit", "2", "--cursor", page["next_cursor"])
    ).json()
    bad_role = await cli("user", "list", "--tenant", "acme", "--role", "owner")

    assert [(u["email"], u["role"]) for u in items(everyone)] == [
        ("boss@acme.example", "admin"),
        ("m@acme.example", "manager"),
        ("c@acme.example", "customer"),
    ]
    assert [u["email"] for u in items(managers)] == ["m@acme.example"]
    assert [u["email"] for u in page["items"] + rest["items"]] == [u["email"] for u in items(everyone)]
    assert rest["next_cursor"] is None
    assert all("password" not in key for user in items(everyone) for key in user)
    assert bad_role.returncode == 2
    assert "--role" in bad_role.stderr


# ---------------------------------------------------------------------------------- --tenant: slug or id


def same_run(printed: Any) -> Any:
    """What two runs of a command print alike: all of it but the id each rebuild gets."""
    if isinstance(printed, dict):
        return {key: same_run(value) for key, value in printed.items() if key != "rebuild_id"}
    if isinstance(printed, list):
        return [same_run(value) for value in printed]
    return printed


async def test_every_tenant_option_takes_a_slug_or_an_id_and_refuses_an_unknown_one_alike(cli: Cli) -> None:
    """``user create``, ``user list``, ``events list``, ``events replay``, ``index rebuild`` and ``index
    verify`` answer the same for the tenant's slug as for its id, and the same line for a tenant that does
    not exist (exit 1)."""
    acme = await cli.tenant("acme")
    await cli.tenant("other")
    commands: list[tuple[str, ...]] = [
        ("user", "list"),
        ("events", "list"),
        ("events", "replay", "--consumer", "index.content"),
        ("index", "rebuild", "--target", "content"),
        ("index", "verify"),
    ]

    for command in commands:
        by_slug = await cli(*command, "--tenant", "acme")
        by_id = await cli(*command, "--tenant", acme["id"])
        unknown = await cli(*command, "--tenant", "nobody")

        assert by_slug.returncode == 0, (command, by_slug.stderr)
        assert same_run(by_slug.json()) == same_run(by_id.json()), command
        assert (unknown.returncode, unknown.stderr, unknown.stdout) == (1, NO_TENANT, ""), command

    events = (await cli("events", "list", "--tenant", "acme")).json()
    assert "tenant.created" in {e["event_type"] for e in events["items"]}
    assert {e["tenant_id"] for e in events["items"]} == {acme["id"]}

    made = []
    for ref, email in (("acme", "slug@acme.example"), (acme["id"], "id@acme.example")):
        created = await cli(
            "user", "create", "--tenant", ref, "--email", email, "--role", "manager", RUSTOK_PASSWORD=PASSWORD
        )
        made.append(created.json()["tenant_id"])
    unknown = await cli(
        "user", "create", "--tenant", "nobody", "--email", "x@acme.example", "--role", "manager",
        RUSTOK_PASSWORD=PASSWORD,
    )  # fmt: skip
    assert made == [acme["id"], acme["id"]]
    assert (unknown.returncode, unknown.stderr) == (1, NO_TENANT)


async def test_an_id_of_no_tenant_is_unknown_like_a_slug(cli: Cli) -> None:
    result = await cli("events", "list", "--tenant", str(uuid.uuid4()))

    assert result.returncode == 1
    assert result.stderr.startswith("rustok: no tenant '")


# ----------------------------------------------------------------------------------------------- passwords


async def test_user_create_reads_the_password_from_stdin(cli: Cli) -> None:
    await cli.tenant("acme")

    created = await cli(
        "user", "create", "--tenant", "acme", "--email", "ops@acme.example", "--role", "admin",
        "--password-stdin", stdin=f"{PASSWORD}\nthe rest is not read\n",
    )  # fmt: skip

    assert created.json()["email"] == "ops@acme.example"
    assert await cli.signs_in("acme", "ops@acme.example", PASSWORD)


async def test_user_create_reads_the_password_from_rustok_password(cli: Cli) -> None:
    await cli.tenant("acme")

    created = await cli(
        "user", "create", "--tenant", "acme", "--email", "ops@acme.example", "--role", "admin",
        RUSTOK_PASSWORD=PASSWORD,
    )  # fmt: skip

    assert created.returncode == 0, created.stderr
    assert await cli.signs_in("acme", "ops@acme.example", PASSWORD)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            (),
            None,
            "rustok: no password: pipe it with --password-stdin, set RUSTOK_PASSWORD, or run in a terminal "
            "to be asked (--password works too, but stays in the shell history)",
        ),
        (
            ("--password-stdin",),
            "",
            "rustok: --password-stdin: no password on stdin (its first line is read)",
        ),
        (
            ("--password-stdin",),
            "short\n",
            "rustok: --password-stdin: String should have at least 8 characters",
        ),
        (("--password-stdin", "--password", PASSWORD), f"{PASSWORD}\n", "rustok: give --password or "
         "--password-stdin, not both"),
    ],
    ids=["none-and-no-terminal", "empty-stdin", "too-short", "two-sources"],
)  # fmt: skip
async def test_user_create_without_a_usable_password_is_refused_and_creates_nobody(
    cli: Cli, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    await cli.tenant("acme")

    refused = await cli(
        "user", "create", "--tenant", "acme", "--email", "ops@acme.example", "--role", "admin", *args,
        stdin=stdin,
    )  # fmt: skip

    assert (refused.returncode, refused.stderr.strip(), refused.stdout) == (2, message, "")
    assert items(await cli("user", "list", "--tenant", "acme")) == []


async def test_tenant_create_takes_the_admin_password_from_stdin_or_rustok_admin_password(cli: Cli) -> None:
    from_stdin = await cli(
        "tenant", "create", "--name", "A", "--slug", "a", "--admin-email", "boss@a.example",
        "--password-stdin", stdin=f"{PASSWORD}\n",
    )  # fmt: skip
    from_env = await cli(
        "tenant", "create", "--name", "B", "--slug", "b", "--admin-email", "boss@b.example",
        RUSTOK_ADMIN_PASSWORD=PASSWORD,
    )  # fmt: skip
    refused = await cli("tenant", "create", "--name", "C", "--slug", "c", "--admin-email", "boss@c.example")
    stray = await cli("tenant", "create", "--name", "D", "--slug", "d", "--password-stdin", stdin=PASSWORD)

    assert from_stdin.json()["admin"]["email"] == "boss@a.example"
    assert from_env.json()["admin"]["email"] == "boss@b.example"
    assert await cli.signs_in("a", "boss@a.example", PASSWORD)
    assert await cli.signs_in("b", "boss@b.example", PASSWORD)
    assert refused.returncode == 2
    assert refused.stderr.startswith(
        "rustok: no password: pipe it with --password-stdin, set RUSTOK_ADMIN_PASSWORD"
    )
    assert (stray.returncode, stray.stderr) == (
        2,
        "rustok: a password is for the first admin: give --admin-email too\n",
    )
    assert [t["slug"] for t in items(await cli("tenant", "list"))] == ["a", "b"]


def run_in_terminal(args: list[str], env: dict[str, str], cwd: Path, typed: list[str]) -> tuple[int, str]:
    """Run the console script with a pseudo-terminal as its controlling terminal and stdin; answer each
    prompt it shows with the next of ``typed``. Its exit status and everything it wrote to the terminal."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the script, or exit
        try:
            os.chdir(cwd)
            os.execve(str(RUSTOK), [str(RUSTOK), *args], env)  # noqa: S606 - our own console script
        finally:
            os._exit(127)
    shown = b""
    answers = list(typed)
    deadline = time.monotonic() + COMMAND_TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child is gone and the terminal closed
                break
            if not chunk:
                break
            shown += chunk
            # A hidden prompt ends with the space getpass writes once it has turned the echo off; typing
            # earlier would be flushed away.
            if answers and shown.endswith(b": "):
                os.write(fd, answers.pop(0).encode() + b"\n")
                shown += b"\n"
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail(f"rustok did not finish in a terminal:\n{shown.decode(errors='replace')}")
    finally:
        os.close(fd)


async def test_in_a_terminal_user_create_asks_for_the_password_twice_without_echoing_it(cli: Cli) -> None:
    await cli.tenant("acme")

    code, screen = run_in_terminal(
        ["user", "create", "--tenant", "acme", "--email", "ops@acme.example", "--role", "admin"],
        cli.env,
        cli.cwd,
        typed=[PASSWORD, PASSWORD],
    )

    assert code == 0, screen
    assert "Password:" in screen
    assert "Repeat for confirmation:" in screen
    assert PASSWORD not in screen
    assert json.loads(screen[screen.index("{") :])["email"] == "ops@acme.example"
    assert await cli.signs_in("acme", "ops@acme.example", PASSWORD)
