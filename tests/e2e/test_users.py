"""The staff's management of the tenant's users (api.md "Users of the tenant", rbac.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from rustok.bootstrap import open_runtime
from rustok.core.settings import Settings
from rustok.core.uow import UnitOfWork
from rustok.migrations import upgrade_async
from rustok.outbox.registry import ConsumerRegistry
from rustok.testing import EventRecorder, login_as, new_tenant, sign_in_as

MakeUoW = Callable[..., UnitOfWork]
PASSWORD = "s3cret-enough"


def new_user(email: str = "mia@example.com", **fields: str) -> dict[str, str]:
    return {"email": email, "password": PASSWORD, **fields}


async def test_an_admin_creates_a_manager_who_can_sign_in(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await login_as(client, app, acme, "admin")

    async with event_recorder.watch() as events:
        response = await client.post("/api/users", json=new_user(role="manager", name="Mia"), headers=admin)

    assert response.status_code == 201, response.text
    user = response.json()
    assert (user["email"], user["role"], user["status"], user["name"]) == (
        "mia@example.com",
        "manager",
        "active",
        "Mia",
    )
    assert events.one("user.registered").payload.user_id == uuid.UUID(user["id"])
    signed_in = await client.post(
        "/api/auth/login",
        json={"email": "mia@example.com", "password": PASSWORD},
        headers={"X-Tenant-ID": str(acme)},
    )
    assert signed_in.status_code == 200
    assert signed_in.json()["user"]["role"] == "manager"


async def test_a_manager_reads_users_but_does_not_create_them(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    manager = await sign_in_as(client, app, acme, "manager")

    listed = await client.get("/api/users", headers=manager.headers)
    read = await client.get(f"/api/users/{manager.user_id}", headers=manager.headers)
    created = await client.post("/api/users", json=new_user(), headers=manager.headers)
    changed = await client.patch(
        f"/api/users/{manager.user_id}", json={"name": "Me"}, headers=manager.headers
    )
    deleted = await client.delete(f"/api/users/{manager.user_id}", headers=manager.headers)

    assert listed.status_code == 200
    assert [u["id"] for u in listed.json()["items"]] == [str(manager.user_id)]
    assert read.status_code == 200
    assert (created.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
    assert created.json()["code"] == "forbidden"


async def test_customers_get_403_and_anonymous_callers_401(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    customer = await login_as(client, app, acme, "customer")

    as_customer = await client.get("/api/users", headers=customer)
    anonymous = await client.get("/api/users", headers={"X-Tenant-ID": str(acme)})

    assert as_customer.status_code == 403
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "unauthorized"


async def test_the_list_is_paginated_and_filtered(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await login_as(client, app, acme, "admin")
    for n in range(4):
        await client.post("/api/users", json=new_user(f"u{n}@example.com"), headers=admin)

    first = await client.get("/api/users", params={"limit": 3}, headers=admin)
    second = await client.get(
        "/api/users", params={"limit": 3, "cursor": first.json()["next_cursor"]}, headers=admin
    )
    customers = await client.get("/api/users", params={"role": "customer"}, headers=admin)

    assert len(first.json()["items"]) == 3
    assert len(second.json()["items"]) == 2
    assert second.json()["next_cursor"] is None
    assert len(customers.json()["items"]) == 4


async def test_only_a_super_admin_grants_super_admin(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await login_as(client, app, acme, "admin")
    root = await login_as(client, app, acme, "super_admin")
    manager = (await client.post("/api/users", json=new_user(role="manager"), headers=admin)).json()

    by_admin = await client.post(
        "/api/users", json=new_user("x@example.com", role="super_admin"), headers=admin
    )
    promoted_by_admin = await client.patch(
        f"/api/users/{manager['id']}", json={"role": "super_admin"}, headers=admin
    )
    by_root = await client.post(
        "/api/users", json=new_user("y@example.com", role="super_admin"), headers=root
    )
    promoted_by_root = await client.patch(
        f"/api/users/{manager['id']}", json={"role": "super_admin"}, headers=root
    )

    assert by_admin.status_code == 403
    assert by_admin.json()["code"] == "cannot_grant_role"
    assert promoted_by_admin.status_code == 403
    assert by_root.status_code == 201
    assert promoted_by_root.status_code == 200
    assert promoted_by_root.json()["role"] == "super_admin"


async def test_an_admin_cannot_change_or_delete_a_super_admin(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await login_as(client, app, acme, "admin")
    root = await sign_in_as(client, app, acme, "super_admin")

    changed = await client.patch(
        f"/api/users/{root.user_id}", json={"password": "taken-over!"}, headers=admin
    )
    deleted = await client.delete(f"/api/users/{root.user_id}", headers=admin)

    assert changed.status_code == deleted.status_code == 403
    assert (await client.get("/api/auth/me", headers=root.headers)).status_code == 200


async def test_nobody_changes_their_own_role(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await sign_in_as(client, app, acme, "admin")

    response = await client.patch(
        f"/api/users/{admin.user_id}", json={"role": "manager"}, headers=admin.headers
    )
    same_role = await client.patch(
        f"/api/users/{admin.user_id}", json={"role": "admin", "name": "Still Admin"}, headers=admin.headers
    )

    assert response.status_code == 403
    assert response.json()["code"] == "cannot_change_own_role"
    assert same_role.status_code == 200, "naming the role one has is no change"


async def test_a_user_of_another_tenant_is_a_404(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    other = await new_tenant(make_uow, "other")
    admin = await login_as(client, app, acme, "admin")
    stranger = await sign_in_as(client, app, other, "customer")
    path = f"/api/users/{stranger.user_id}"

    answers = [
        await client.get(path, headers=admin),
        await client.patch(path, json={"name": "Hijacked"}, headers=admin),
        await client.delete(path, headers=admin),
    ]

    assert [r.status_code for r in answers] == [404, 404, 404]
    assert answers[0].json()["code"] == "not_found"
    listed = (await client.get("/api/users", headers=admin)).json()["items"]
    assert str(stranger.user_id) not in {u["id"] for u in listed}
    assert (await client.get("/api/auth/me", headers=stranger.headers)).json()["name"] is None


async def test_update_changes_only_what_is_sent_and_records_it(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await login_as(client, app, acme, "admin")
    user = (await client.post("/api/users", json=new_user(name="Mia"), headers=admin)).json()

    async with event_recorder.watch() as events:
        renamed = await client.patch(
            f"/api/users/{user['id']}", json={"email": "Mia.New@example.com"}, headers=admin
        )
        cleared = await client.patch(f"/api/users/{user['id']}", json={"name": None}, headers=admin)

    assert renamed.status_code == 200
    assert (renamed.json()["email"], renamed.json()["name"]) == ("Mia.New@example.com", "Mia")
    assert cleared.json()["name"] is None
    assert events.types == ["user.updated", "user.updated"]
    assert all(e.payload.user_id == uuid.UUID(user["id"]) for e in events)


async def test_a_new_password_set_by_staff_ends_the_users_sessions(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await login_as(client, app, acme, "admin")
    customer = await sign_in_as(client, app, acme, "customer")

    response = await client.patch(
        f"/api/users/{customer.user_id}", json={"password": "reset-by-staff"}, headers=admin
    )

    assert response.status_code == 200
    assert (await client.get("/api/auth/me", headers=customer.headers)).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"email": None},
        {"role": None},
        {"status": "sleeping"},
        {"role": "owner"},
        {"password": "short"},
        {"unknown": 1},
    ],
)
async def test_bad_changes_are_a_422_and_change_nothing(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, body: dict[str, object]
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await login_as(client, app, acme, "admin")
    user = (await client.post("/api/users", json=new_user(), headers=admin)).json()

    response = await client.patch(f"/api/users/{user['id']}", json=body, headers=admin)

    assert response.status_code == 422
    assert (await client.get(f"/api/users/{user['id']}", headers=admin)).json() == user


async def test_a_taken_email_is_a_409(client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await login_as(client, app, acme, "admin")
    await client.post("/api/users", json=new_user("a@example.com"), headers=admin)
    other = (await client.post("/api/users", json=new_user("b@example.com"), headers=admin)).json()

    created = await client.post("/api/users", json=new_user("A@EXAMPLE.com"), headers=admin)
    changed = await client.patch(f"/api/users/{other['id']}", json={"email": "a@Example.com"}, headers=admin)

    assert created.status_code == changed.status_code == 409
    assert created.json()["code"] == changed.json()["code"] == "email_taken"


async def test_delete_removes_the_user_and_its_sessions(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await login_as(client, app, acme, "admin")
    customer = await sign_in_as(client, app, acme, "customer")

    async with event_recorder.watch() as events:
        response = await client.delete(f"/api/users/{customer.user_id}", headers=admin)

    assert response.status_code == 204
    assert events.one("user.deleted").payload.user_id == customer.user_id
    assert (await client.get(f"/api/users/{customer.user_id}", headers=admin)).status_code == 404
    assert (await client.get("/api/auth/me", headers=customer.headers)).status_code == 401


# ---------------------------------------------------------------------------------------------------- CLI


async def test_the_cli_creates_a_user(tmp_path: Path) -> None:
    """``rustok user create`` as an operator runs it: the console script, configured by the environment."""
    settings = Settings(_env_file=None, data_dir=tmp_path)
    async with open_runtime(settings, consumers=ConsumerRegistry(), redis=False) as runtime:
        await upgrade_async(runtime.engine)
        await new_tenant(runtime.uow, "acme")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSTOK_")}
    env |= {
        "RUSTOK_DATA_DIR": str(tmp_path),
        "RUSTOK_LOG_LEVEL": "WARNING",
        "RUSTOK_PASSWORD_HASH_TIME_COST": "1",
    }

    def rustok(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(Path(sys.executable).parent / "rustok"), "user", "create", *args]
        return subprocess.run(  # noqa: S603 - our own console script, fixed arguments
            command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
        )

    created = rustok(
        "--tenant", "acme", "--email", "Ops@Example.com", "--password", PASSWORD, "--role", "admin"
    )
    taken = rustok(
        "--tenant", "acme", "--email", "ops@example.com", "--password", PASSWORD, "--role", "admin"
    )
    no_tenant = rustok(
        "--tenant", "nope", "--email", "a@example.com", "--password", PASSWORD, "--role", "admin"
    )
    bad_role = rustok(
        "--tenant", "acme", "--email", "a@example.com", "--password", PASSWORD, "--role", "owner"
    )

    assert created.returncode == 0, created.stderr
    user = json.loads(created.stdout)
    assert (user["email"], user["role"], user["status"]) == ("Ops@Example.com", "admin", "active")
    assert (taken.returncode, taken.stderr.strip()) == (
        1,
        "rustok: A user with email 'ops@example.com' exists in this tenant.",
    )
    assert (no_tenant.returncode, no_tenant.stderr.strip()) == (1, "rustok: no tenant 'nope'")
    assert bad_role.returncode == 2
    assert len(bad_role.stderr.strip().splitlines()) == 1
