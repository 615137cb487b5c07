"""``rustok tenant create`` as an operator runs it: a tenant and its first admin, who can then sign in."""

from __future__ import annotations

import json
from pathlib import Path

from rustok.api.app import create_app
from rustok.core.settings import Environment, Settings
from rustok.outbox.registry import ConsumerRegistry
from rustok.testing import app_client
from tests.e2e.test_cli import clean_env, rustok

PASSWORD = "correct horse battery"


def migrated(tmp_path: Path) -> dict[str, str]:
    env = clean_env(tmp_path / "data")
    assert rustok("migrate", env=env, cwd=tmp_path).returncode == 0
    return env


async def test_a_tenant_and_its_first_admin_who_can_sign_in(tmp_path: Path) -> None:
    env = migrated(tmp_path)

    result = rustok(
        "tenant", "create", "--name", "Acme", "--slug", "acme", "--domain", "acme.example.com",
        "--locale", "de", "--admin-email", "Boss@Acme.example", "--admin-password", PASSWORD,
        env=env, cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["tenant"]["slug"] == "acme"
    assert printed["tenant"]["domain"] == "acme.example.com"
    assert printed["tenant"]["default_locale"] == "de"
    assert printed["admin"]["role"] == "admin"
    assert printed["admin"]["tenant_id"] == printed["tenant"]["id"]

    settings = Settings(
        _env_file=None,
        env=Environment.TEST,
        data_dir=tmp_path / "data",
        relay_in_process=False,
        password_hash_time_cost=1,
        password_hash_memory_cost=64,
    )
    app = create_app(settings, consumers=ConsumerRegistry(), configure_logs=False)
    async with app_client(app) as http:
        login = await http.post(
            "/api/auth/login",
            headers={"X-Tenant-ID": "acme"},
            json={"email": "boss@acme.example", "password": PASSWORD},
        )
    assert login.status_code == 200, login.text
    assert login.json()["user"]["role"] == "admin"


def test_a_tenant_without_an_admin(tmp_path: Path) -> None:
    env = migrated(tmp_path)

    result = rustok("tenant", "create", "--name", "Solo", "--slug", "solo", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["admin"] is None


def test_a_taken_slug_is_refused_and_creates_nothing_more(tmp_path: Path) -> None:
    env = migrated(tmp_path)
    assert rustok("tenant", "create", "--name", "A", "--slug", "dup", env=env, cwd=tmp_path).returncode == 0

    again = rustok("tenant", "create", "--name", "B", "--slug", "dup", env=env, cwd=tmp_path)

    assert again.returncode == 1
    assert "slug 'dup'" in again.stderr


def test_bad_options_are_plain_messages(tmp_path: Path) -> None:
    env = migrated(tmp_path)

    bad_slug = rustok("tenant", "create", "--name", "A", "--slug", "Not A Slug", env=env, cwd=tmp_path)
    half_admin = rustok(
        "tenant",
        "create",
        "--name",
        "A",
        "--slug",
        "a",
        "--admin-email",
        "a@b.example",
        env=env,
        cwd=tmp_path,
    )
    short_password = rustok(
        "tenant", "create", "--name", "A", "--slug", "a", "--admin-email", "a@b.example",
        "--admin-password", "short", env=env, cwd=tmp_path,
    )  # fmt: skip

    assert (bad_slug.returncode, half_admin.returncode, short_password.returncode) == (2, 2, 2)
    assert bad_slug.stderr.startswith("rustok: --slug:")
    assert "--admin-password" in half_admin.stderr
    assert short_password.stderr.startswith("rustok: --admin-password:")
    assert "Traceback" not in bad_slug.stderr + half_admin.stderr + short_password.stderr
