"""The console login and the access guard: cookie flags, CSRF, the login limit, sessions that
end, the bearer token still working, 401 on every route but health, login and the page."""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import argon2
import httpx
import pytest
from starlette.routing import Mount, Route
from support.asgi_server import serving
from support.sse_client import SseReader
from test_openapi import full_deps

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from vistter.api import ApiDeps, create_app
from vistter.api.auth import SESSION_COOKIE, LoginSettings
from vistter.clock import FakeClock
from vistter.telemetry import TelemetryBus

PASSWORD = "marina-office-2026"
TOKEN = "auth-test-token"
LIFETIME = 600.0
ATTEMPTS = 3
WINDOW = 60.0
# Cheap argon2 parameters for tests; the verify reads them from the hash itself.
PASSWORD_HASH = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
PUBLIC = {("GET", "/api/health"), ("HEAD", "/api/health"), ("POST", "/api/login"),
          ("GET", "/"), ("HEAD", "/")}
SAMPLE = {"int": "1", "str": "x", "path": "x/y"}


def login_settings(password_hash: str | None = PASSWORD_HASH) -> LoginSettings:
    return LoginSettings(password_hash=password_hash, session_lifetime=LIFETIME,
                         login_attempts=ATTEMPTS, login_window=WINDOW)


def guarded_deps(root: Path, *, password: bool = True, token: str | None = None) -> Iterator[
        ApiDeps]:
    for deps in full_deps(root, token=token):
        yield dataclasses.replace(
            deps, login=login_settings(PASSWORD_HASH if password else None),
            events=TelemetryBus(),
        )


@pytest.fixture
def deps(tmp_path: Path) -> Iterator[ApiDeps]:
    yield from guarded_deps(tmp_path, token=TOKEN)


@pytest.fixture
def client(deps: ApiDeps) -> Iterator[TestClient]:
    with TestClient(create_app(deps)) as test_client:
        yield test_client


def clock_of(deps: ApiDeps) -> FakeClock:
    assert isinstance(deps.clock, FakeClock)
    return deps.clock


def log_in(client: TestClient, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/api/login", json={"password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def concrete(path: str) -> str:
    """``/api/timelines/{record_id:int}`` -> ``/api/timelines/1``."""
    return re.sub(r"\{\w+(?::(\w+))?\}", lambda m: SAMPLE.get(m.group(1) or "str", "x"), path)


def every_route(app: Any) -> list[tuple[str, str]]:
    pairs = []
    for route in app.routes:
        if isinstance(route, Route):
            pairs += [(method, concrete(route.path)) for method in sorted(route.methods or ())]
        else:
            assert isinstance(route, Mount) and route.path == "/static", route
    return pairs


# -- 401 on every route ---------------------------------------------------------------------


@pytest.mark.parametrize(("password", "token"), [(True, None), (False, TOKEN), (True, TOKEN)])
def test_every_route_but_health_login_and_the_page_needs_credentials(
    tmp_path: Path, password: bool, token: str | None,
) -> None:
    [deps] = list(guarded_deps(tmp_path, password=password, token=token))
    app = create_app(deps)
    routes = every_route(app)
    assert len(routes) > 40, routes  # the whole app, not a sample
    refusals = {"none": {}, "wrong token": {"Authorization": "Bearer nope"},
                "stale cookie": {"Cookie": f"{SESSION_COOKIE}=not-a-session"}}
    with TestClient(app) as client:
        for method, path in [*routes, ("GET", "/nope"), ("POST", "/api/nope"),
                             ("GET", "/metrics")]:
            for why, headers in refusals.items():
                response = client.request(method, path, headers=headers)
                if (method, path) in PUBLIC:
                    assert response.status_code != 401, (method, path, why)
                    continue
                assert response.status_code == 401, (method, path, why, response.text)
                assert "www-authenticate" in response.headers
                if method != "HEAD":
                    body = response.json()
                    assert body["error"] == "UnauthorizedError" and body["hint"], body
        assert client.get("/api/health").status_code == 200
        assert client.get("/").status_code == 200
        assert client.get("/static/console/login.js").status_code == 200


def test_health_is_open_and_the_login_answers_401_for_a_wrong_password(
    client: TestClient,
) -> None:
    assert client.get("/api/health").json()["status"] == "ok"
    wrong = client.post("/api/login", json={"password": "not-it"})
    assert wrong.status_code == 401
    assert wrong.json()["problem"] == "The password is not right."
    assert "set-cookie" not in wrong.headers
    assert client.get("/api/session").status_code == 401


# -- the cookie -----------------------------------------------------------------------------


def cookie_of(response: httpx.Response) -> Any:
    jar: SimpleCookie = SimpleCookie()
    jar.load(response.headers["set-cookie"])
    return jar[SESSION_COOKIE]


def test_login_sets_an_httponly_strict_cookie_that_lasts_the_session(
    client: TestClient,
) -> None:
    response = client.post("/api/login", json={"password": PASSWORD})
    assert response.status_code == 200
    cookie = cookie_of(response)
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "strict"
    assert cookie["path"] == "/"
    assert int(cookie["max-age"]) == int(LIFETIME)
    assert not cookie["secure"]  # plain http: a Secure cookie would never come back
    assert len(cookie.value) >= 40
    body = response.json()
    assert body["via"] == "session" and body["login_required"] is True
    assert body["csrf_token"] and body["csrf_token"] != cookie.value
    assert cookie.value not in response.text  # the id travels only in the HttpOnly cookie
    assert response.headers["cache-control"] == "no-store"


def test_over_https_the_cookie_is_secure(deps: ApiDeps) -> None:
    with TestClient(create_app(deps), base_url="https://vistter.local") as client:
        response = client.post("/api/login", json={"password": PASSWORD})
        assert response.status_code == 200
        assert cookie_of(response)["secure"] is True
        assert client.get("/api/supervision").status_code == 200


def test_a_session_reads_and_says_who_it_is(client: TestClient) -> None:
    login = log_in(client)
    assert client.get("/api/supervision").status_code == 200
    session = client.get("/api/session").json()
    assert session["via"] == "session"
    assert session["csrf_token"] == login["csrf_token"]
    assert 0 < session["expires_in_seconds"] <= LIFETIME


# -- CSRF -----------------------------------------------------------------------------------


def test_a_change_with_the_cookie_needs_the_csrf_token(client: TestClient) -> None:
    csrf = log_in(client)["csrf_token"]
    body = {"path": "telemetry/system"}
    missing = client.post("/api/supervision/restart", json=body)
    assert missing.status_code == 403
    assert missing.json()["error"] == "CsrfTokenError"
    wrong = client.post("/api/supervision/restart", json=body, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    right = client.post("/api/supervision/restart", json=body, headers={"X-CSRF-Token": csrf})
    assert right.status_code == 200, right.text


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://testserver:9999"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
])
def test_a_change_from_another_site_is_refused_even_with_the_token(
    client: TestClient, headers: dict[str, str],
) -> None:
    csrf = log_in(client)["csrf_token"]
    response = client.post("/api/supervision/restart", json={"path": "telemetry/system"},
                           headers={"X-CSRF-Token": csrf, **headers})
    assert response.status_code == 403
    assert response.json()["error"] == "CrossSiteRefusedError"
    login = client.post("/api/login", json={"password": PASSWORD}, headers=headers)
    assert login.status_code == 403  # no login planted from another site either
    same = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin",
            "X-CSRF-Token": csrf}
    ok = client.post("/api/supervision/restart", json={"path": "telemetry/system"},
                     headers=same)
    assert ok.status_code == 200, ok.text


def test_without_any_login_a_change_from_another_site_is_still_refused(
    tmp_path: Path,
) -> None:
    [deps] = list(full_deps(tmp_path))
    with TestClient(create_app(deps)) as client:
        assert client.get("/api/session").json() == {
            "login_required": False, "via": "open", "csrf_token": None,
            "expires_in_seconds": None}
        body = {"path": "telemetry/system"}
        assert client.post("/api/supervision/restart", json=body).status_code == 200
        evil = client.post("/api/supervision/restart", json=body,
                           headers={"Origin": "http://evil.example"})
        assert evil.status_code == 403
        assert client.get("/api/supervision",
                          headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200
        assert client.post("/api/login", json={"password": "x"}).json()["via"] == "open"


# -- the bearer token -----------------------------------------------------------------------


def test_the_bearer_token_still_works_without_csrf(client: TestClient) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/api/supervision", headers=bearer).status_code == 200
    restarted = client.post("/api/supervision/restart", json={"path": "telemetry/system"},
                            headers=bearer)
    assert restarted.status_code == 200
    assert client.get("/api/session", headers=bearer).json()["via"] == "token"
    assert client.post("/api/logout", headers=bearer).json() == {"logged_out": False}


def test_with_a_token_and_no_password_the_token_logs_in(tmp_path: Path) -> None:
    [deps] = list(guarded_deps(tmp_path, password=False, token=TOKEN))
    with TestClient(create_app(deps)) as client:
        assert client.post("/api/login", json={"password": PASSWORD}).status_code == 401
        assert log_in(client, TOKEN)["via"] == "session"
        assert client.get("/api/supervision").status_code == 200


# -- the login limit ------------------------------------------------------------------------


def test_too_many_wrong_passwords_are_429_with_retry_after(
    client: TestClient, deps: ApiDeps,
) -> None:
    for _ in range(ATTEMPTS):
        assert client.post("/api/login", json={"password": "guess"}).status_code == 401
    limited = client.post("/api/login", json={"password": PASSWORD})  # even the right one
    assert limited.status_code == 429
    assert limited.json()["error"] == "TooManyLoginAttemptsError"
    assert limited.headers["retry-after"] == str(int(WINDOW))
    assert "try again in 60 s" in limited.json()["problem"]
    clock_of(deps).advance(WINDOW / 2)
    assert int(client.post("/api/login", json={"password": PASSWORD})
               .headers["retry-after"]) == int(WINDOW / 2)
    clock_of(deps).advance(WINDOW / 2)
    assert log_in(client)["via"] == "session"


# -- sessions end ---------------------------------------------------------------------------


def test_a_session_ends_at_its_lifetime(client: TestClient, deps: ApiDeps) -> None:
    log_in(client)
    clock_of(deps).advance(LIFETIME - 1)
    assert client.get("/api/supervision").status_code == 200  # not extended by use
    clock_of(deps).advance(1)
    ended = client.get("/api/supervision")
    assert ended.status_code == 401
    assert "has ended" in ended.json()["problem"]


def test_logout_ends_the_session_and_clears_the_cookie(client: TestClient) -> None:
    csrf = log_in(client)["csrf_token"]
    stolen = client.cookies.get(SESSION_COOKIE)
    assert client.post("/api/logout").status_code == 403  # a change: it needs the token
    response = client.post("/api/logout", headers={"X-CSRF-Token": csrf})
    assert response.json() == {"logged_out": True}
    cleared = cookie_of(response)
    assert cleared.value == "" and int(cleared["max-age"]) == 0
    assert client.get("/api/session").status_code == 401
    replayed = client.get("/api/session", headers={"Cookie": f"{SESSION_COOKIE}={stolen}"})
    assert replayed.status_code == 401


def test_a_new_login_gets_a_new_session(client: TestClient) -> None:
    log_in(client)
    first = client.cookies.get(SESSION_COOKIE)
    log_in(client)
    assert client.cookies.get(SESSION_COOKIE) != first
    old = client.get("/api/session", headers={"Cookie": f"{SESSION_COOKIE}={first}"})
    assert old.status_code == 401


# -- streams --------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_the_event_stream_takes_the_cookie_and_ends_at_logout(tmp_path: Path) -> None:
    [deps] = list(guarded_deps(tmp_path))
    with serving(create_app(deps)) as url:
        assert httpx.get(f"{url}/api/events", timeout=5).status_code == 401
        login = httpx.post(f"{url}/api/login", json={"password": PASSWORD}, timeout=10)
        cookie = f"{SESSION_COOKIE}={login.cookies[SESSION_COOKIE]}"
        with SseReader(f"{url}/api/events", headers={"Cookie": cookie}) as reader:
            assert reader.next_of("hello").data == {"latest": []}
            assert reader.status == 200
            out = httpx.post(f"{url}/api/logout", timeout=5, headers={
                "Cookie": cookie, "X-CSRF-Token": login.json()["csrf_token"]})
            assert out.json() == {"logged_out": True}
            assert reader.ended.wait(5), "the stream outlived the logout"


# -- the contract ---------------------------------------------------------------------------


def test_the_login_routes_are_in_the_contract(client: TestClient) -> None:
    log_in(client)
    document = client.get("/api/openapi.json").json()
    login = document["paths"]["/api/login"]["post"]
    assert login["security"] == []
    assert {"200", "401", "429", "400"} <= set(login["responses"])
    assert "LoginRequest" in login["requestBody"]["content"]["application/json"]["schema"][
        "$ref"]
    assert "401" in document["paths"]["/api/session"]["get"]["responses"]
    assert "401" in document["paths"]["/api/logout"]["post"]["responses"]
    assert "401" in document["paths"]["/api/supervision"]["get"]["responses"]
