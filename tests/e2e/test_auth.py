"""Sign-up, sign-in, tokens and sessions through the HTTP API (api.md "Auth")."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI

from rustok.core.uow import UnitOfWork
from rustok.testing import EventRecorder, FrozenClock, new_tenant, sign_in_as

MakeUoW = Callable[..., UnitOfWork]
PASSWORD = "s3cret-enough"


def tenant(tenant_id: uuid.UUID) -> dict[str, str]:
    return {"X-Tenant-ID": str(tenant_id)}


def bearer(tenant_id: uuid.UUID, access_token: str) -> dict[str, str]:
    return {"X-Tenant-ID": str(tenant_id), "Authorization": f"Bearer {access_token}"}


async def register(
    client: httpx.AsyncClient, tenant_id: uuid.UUID, email: str = "ada@example.com", **extra: Any
) -> httpx.Response:
    body = {"email": email, "password": PASSWORD, **extra}
    return await client.post("/api/auth/register", json=body, headers=tenant(tenant_id))


async def login(
    client: httpx.AsyncClient, tenant_id: uuid.UUID, email: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post(
        "/api/auth/login", json={"email": email, "password": password}, headers=tenant(tenant_id)
    )


async def test_register_signs_up_a_customer_and_signs_in(
    client: httpx.AsyncClient, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")

    async with event_recorder.watch() as events:
        response = await register(client, acme, email="  Ada@Example.com ", name="Ada")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["access_token"]
    assert body["refresh_token"]
    user = body["user"]
    assert (user["email"], user["name"], user["role"], user["status"]) == (
        "Ada@Example.com",
        "Ada",
        "customer",
        "active",
    )
    assert user["tenant_id"] == str(acme)
    assert "password_hash" not in user
    assert events.types == ["user.registered"]
    assert events.one("user.registered").payload.user_id == uuid.UUID(user["id"])

    me = await client.get("/api/auth/me", headers=bearer(acme, body["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]


async def test_an_email_is_taken_whatever_its_case(client: httpx.AsyncClient, make_uow: MakeUoW) -> None:
    acme = await new_tenant(make_uow, "acme")
    other = await new_tenant(make_uow, "other")
    assert (await register(client, acme, email="ada@example.com")).status_code == 201

    again = await register(client, acme, email="ADA@example.COM")
    elsewhere = await register(client, other, email="ada@example.com")

    assert again.status_code == 409
    assert again.json()["code"] == "email_taken"
    assert elsewhere.status_code == 201, "emails are unique per tenant"


async def test_register_refuses_bad_input_with_a_422(client: httpx.AsyncClient, make_uow: MakeUoW) -> None:
    acme = await new_tenant(make_uow, "acme")
    bad = [
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "a@b.c", "password": "short"},
        {"email": "a@b.c", "password": "x" * 257},
        {"email": "a" * 310 + "@example.com", "password": PASSWORD},
        {"email": "a@b.c", "password": PASSWORD, "name": "nul\x00"},
        {"email": "a@b.c", "password": PASSWORD, "role": "admin"},
    ]
    for body in bad:
        response = await client.post("/api/auth/register", json=body, headers=tenant(acme))
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"


async def test_a_tenant_can_close_registration(client: httpx.AsyncClient, make_uow: MakeUoW) -> None:
    closed = await new_tenant(make_uow, "closed", settings={"registration_open": False})
    also_closed = await new_tenant(make_uow, "shut", settings={"registration": "closed"})

    for tenant_id in (closed, also_closed):
        response = await register(client, tenant_id)
        assert response.status_code == 403
        assert response.json()["code"] == "registration_closed"


async def test_login_answers_a_token_pair_and_records_the_login(
    client: httpx.AsyncClient, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    user_id = (await register(client, acme)).json()["user"]["id"]

    async with event_recorder.watch() as events:
        response = await login(client, acme, "ADA@example.com")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["id"] == user_id
    assert body["user"]["last_login_at"] is not None
    logged_in = events.one("user.logged_in")
    assert logged_in.payload.user_id == uuid.UUID(user_id)


async def test_wrong_email_and_wrong_password_look_the_same(
    client: httpx.AsyncClient, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    await register(client, acme)

    unknown = await login(client, acme, "nobody@example.com")
    wrong = await login(client, acme, "ada@example.com", "wrong-password")

    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["code"] == wrong.json()["code"] == "invalid_credentials"
    assert unknown.json()["detail"] == wrong.json()["detail"]


async def test_a_user_of_another_tenant_cannot_log_in_here(
    client: httpx.AsyncClient, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    other = await new_tenant(make_uow, "other")
    await register(client, acme)

    response = await login(client, other, "ada@example.com")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


async def test_refresh_rotates_the_refresh_token(client: httpx.AsyncClient, make_uow: MakeUoW) -> None:
    acme = await new_tenant(make_uow, "acme")
    first = (await register(client, acme)).json()

    response = await client.post(
        "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}, headers=tenant(acme)
    )

    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"]["id"] == first["user"]["id"]
    me = await client.get("/api/auth/me", headers=bearer(acme, second["access_token"]))
    assert me.status_code == 200
    # The next refresh uses the new token; the pair keeps rotating in the same session.
    third = await client.post(
        "/api/auth/refresh", json={"refresh_token": second["refresh_token"]}, headers=tenant(acme)
    )
    assert third.status_code == 200


async def test_a_reused_refresh_token_revokes_its_session(
    client: httpx.AsyncClient, make_uow: MakeUoW
) -> None:
    """Given a refresh token that was used once, when it is presented again, then the answer is 401
    refresh_token_reused and every token of that session stops working."""
    acme = await new_tenant(make_uow, "acme")
    first = (await register(client, acme)).json()
    rotated = (
        await client.post(
            "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}, headers=tenant(acme)
        )
    ).json()

    reused = await client.post(
        "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}, headers=tenant(acme)
    )

    assert reused.status_code == 401
    assert reused.json()["code"] == "refresh_token_reused"
    me = await client.get("/api/auth/me", headers=bearer(acme, rotated["access_token"]))
    assert me.status_code == 401
    assert me.json()["code"] == "invalid_token"
    newest = await client.post(
        "/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]}, headers=tenant(acme)
    )
    assert newest.status_code == 401
    assert newest.json()["code"] == "invalid_refresh_token"


async def test_an_unknown_or_expired_refresh_token_is_refused(
    client: httpx.AsyncClient, make_uow: MakeUoW, frozen_clock: FrozenClock
) -> None:
    acme = await new_tenant(make_uow, "acme")
    other = await new_tenant(make_uow, "other")
    tokens = (await register(client, acme)).json()

    unknown = await client.post("/api/auth/refresh", json={"refresh_token": "nope"}, headers=tenant(acme))
    elsewhere = await client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, headers=tenant(other)
    )
    frozen_clock.advance(31 * 86400)
    expired = await client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, headers=tenant(acme)
    )

    for response in (unknown, elsewhere, expired):
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_refresh_token"


async def test_logout_revokes_the_session(client: httpx.AsyncClient, make_uow: MakeUoW) -> None:
    acme = await new_tenant(make_uow, "acme")
    tokens = (await register(client, acme)).json()
    headers = bearer(acme, tokens["access_token"])

    response = await client.post("/api/auth/logout", headers=headers)

    assert response.status_code == 204
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 401
    refreshed = await client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, headers=tenant(acme)
    )
    assert refreshed.status_code == 401


async def test_account_routes_need_a_signed_in_caller(client: httpx.AsyncClient, make_uow: MakeUoW) -> None:
    acme = await new_tenant(make_uow, "acme")

    for method, path in [
        ("GET", "/api/auth/me"),
        ("POST", "/api/auth/logout"),
        ("GET", "/api/auth/sessions"),
        ("POST", "/api/auth/sessions/revoke-all"),
    ]:
        response = await client.request(method, path, headers=tenant(acme))
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_change_password_keeps_this_session_and_ends_the_others(
    client: httpx.AsyncClient, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    here = (await register(client, acme)).json()
    elsewhere = (await login(client, acme, "ada@example.com")).json()
    change = {"current_password": PASSWORD, "new_password": "an-even-better-one"}

    wrong = await client.post(
        "/api/auth/change-password",
        json={**change, "current_password": "not-it"},
        headers=bearer(acme, here["access_token"]),
    )
    response = await client.post(
        "/api/auth/change-password", json=change, headers=bearer(acme, here["access_token"])
    )

    assert wrong.status_code == 403
    assert wrong.json()["code"] == "invalid_credentials"
    assert response.status_code == 204
    assert (await client.get("/api/auth/me", headers=bearer(acme, here["access_token"]))).status_code == 200
    gone = await client.get("/api/auth/me", headers=bearer(acme, elsewhere["access_token"]))
    assert gone.status_code == 401
    assert (await login(client, acme, "ada@example.com")).status_code == 401
    assert (await login(client, acme, "ada@example.com", "an-even-better-one")).status_code == 200


async def test_sessions_lists_the_live_sessions_and_revoke_all_ends_them(
    client: httpx.AsyncClient, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    here = (await register(client, acme)).json()
    there = (await login(client, acme, "ada@example.com")).json()
    await client.post("/api/auth/logout", headers=bearer(acme, there["access_token"]))
    await login(client, acme, "ada@example.com")
    headers = {**bearer(acme, here["access_token"]), "User-Agent": "pytest"}

    listed = await client.get("/api/auth/sessions", headers=headers)

    assert listed.status_code == 200
    items = listed.json()["items"]
    assert len(items) == 2, "the logged-out session is not listed"
    assert [item["current"] for item in items] == [True, False]
    assert listed.json()["next_cursor"] is None

    assert (await client.post("/api/auth/sessions/revoke-all", headers=headers)).status_code == 204
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 401


async def test_a_disabled_users_token_stops_working_at_once(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await sign_in_as(client, app, acme, "admin")
    customer = await sign_in_as(client, app, acme, "customer")
    assert (await client.get("/api/auth/me", headers=customer.headers)).status_code == 200

    disabled = await client.patch(
        f"/api/users/{customer.user_id}", json={"status": "disabled"}, headers=admin.headers
    )

    assert disabled.status_code == 200, disabled.text
    assert (await client.get("/api/auth/me", headers=customer.headers)).status_code == 401
    again = await login(client, acme, customer.email, customer.password)
    assert again.status_code == 401
    assert again.json()["code"] == "invalid_credentials"


async def test_a_role_change_takes_effect_at_once(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await sign_in_as(client, app, acme, "admin")
    manager = await sign_in_as(client, app, acme, "manager")
    assert (await client.get("/api/users", headers=manager.headers)).status_code == 200

    await client.patch(f"/api/users/{manager.user_id}", json={"role": "customer"}, headers=admin.headers)

    assert (await client.get("/api/users", headers=manager.headers)).status_code == 403


async def test_a_token_of_another_tenant_is_refused(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")
    other = await new_tenant(make_uow, "other")
    admin = await sign_in_as(client, app, acme, "admin")

    response = await client.get("/api/users", headers=bearer(other, admin.access_token))

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_an_expired_access_token_is_refused(
    client: httpx.AsyncClient, make_uow: MakeUoW, frozen_clock: FrozenClock
) -> None:
    acme = await new_tenant(make_uow, "acme")
    tokens = (await register(client, acme)).json()
    headers = bearer(acme, tokens["access_token"])

    frozen_clock.advance(899)
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200
    frozen_clock.advance(1)
    response = await client.get("/api/auth/me", headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    # The refresh token still works, and its new access token does.
    fresh = await client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, headers=tenant(acme)
    )
    assert fresh.status_code == 200
    assert (await client.get("/api/auth/me", headers=bearer(acme, fresh.json()["access_token"]))).is_success


async def test_malformed_credentials_are_a_401_even_on_public_routes(
    client: httpx.AsyncClient, make_uow: MakeUoW
) -> None:
    acme = await new_tenant(make_uow, "acme")

    for authorization in ("Bearer not-a-jwt", "Basic YTpi", "Bearer ", "Token abc"):
        response = await client.get("/api/tenant", headers={**tenant(acme), "Authorization": authorization})
        assert response.status_code == 401, authorization
        assert response.json()["code"] == "invalid_token"


async def test_events_of_a_signed_in_caller_name_the_actor(
    client: httpx.AsyncClient, app: FastAPI, make_uow: MakeUoW, event_recorder: EventRecorder
) -> None:
    acme = await new_tenant(make_uow, "acme")
    admin = await sign_in_as(client, app, acme, "admin")

    async with event_recorder.watch() as events:
        response = await client.post(
            "/api/users",
            json={"email": "new@example.com", "password": PASSWORD, "role": "manager"},
            headers=admin.headers,
        )
        await register(client, acme, email="self@example.com")

    assert response.status_code == 201
    created, registered = events.of_type("user.registered")
    assert created.actor_id == admin.user_id
    assert registered.actor_id is None
