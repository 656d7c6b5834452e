"""The console login in a real Chromium, on the demo appliance run with an admin password
(``VISTTER_ADMIN_PASSWORD``, hashed at start): wrong password, log in, work, log out.

Screenshots: ``var/screenshots/login-desktop.png``, ``login-phone.png`` and
``login-wrong-password-phone.png``.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from support.browser import DESKTOP, PHONE, screenshot
from support.demo_appliance import (
    START_TIMEOUT,
    DemoAppliance,
    demo_config,
    free_port,
    stop_by_pid,
)

PASSWORD = "harbour-lights-at-dusk"
PAGE_TIMEOUT_MS = 20_000  # a loaded 2-core box
PUBLIC = {("get", "/api/health"), ("post", "/api/login")}


@contextlib.contextmanager
def guarded_demo(workdir: Path) -> Iterator[DemoAppliance]:
    """The demo appliance with an admin password, its show live; stopped by PID after."""
    api_port = free_port()
    config = demo_config(workdir, api_port, free_port())
    log_path = workdir / "vistter.log"
    env = {**os.environ, "VISTTER_ADMIN_PASSWORD": PASSWORD}
    env.pop("VISTTER_API_TOKEN", None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "vistter", "run", "--config", str(config)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir,
            env=env,
        )
    appliance = DemoAppliance(process, f"http://127.0.0.1:{api_port}", log_path, workdir)
    try:
        with httpx.Client(base_url=appliance.base_url, timeout=10) as client:
            appliance.wait_until("the API to answer",
                                 lambda: client.get("/api/health").status_code == 200,
                                 START_TIMEOUT)
            client.post("/api/login", json={"password": PASSWORD}).raise_for_status()
            appliance.wait_until("the demo show to be live",
                                 lambda: client.get("/api/show").json()["state"] == "live",
                                 START_TIMEOUT)
        yield appliance
    finally:
        stop_by_pid(process)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoAppliance]:
    with guarded_demo(Path(tmp_path_factory.mktemp("guarded"))) as appliance:
        yield appliance


@contextlib.contextmanager
def console(browser: Browser, appliance: DemoAppliance,
            viewport: ViewportSize) -> Iterator[Page]:
    """A fresh browser context on the console; a JavaScript error fails the test."""
    context = browser.new_context(viewport=viewport, base_url=appliance.base_url)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto("/")
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(120)
def test_log_in_wrong_password_work_and_log_out(
    browser: Browser, guarded: DemoAppliance,
) -> None:
    with console(browser, guarded, DESKTOP) as page:
        expect(page.get_by_role("heading", name="Vistter operator console")).to_be_visible()
        password = page.get_by_label("Admin password")
        expect(password).to_be_focused()  # type at once, no mouse needed
        expect(page.get_by_test_id("show-state")).to_have_count(0)  # nothing shown before
        screenshot(page, "login-desktop")

        password.fill("not-the-password")
        password.press("Enter")
        problem = page.get_by_test_id("login-problem")
        expect(problem).to_contain_text("The password is not right.")
        expect(problem).to_have_attribute("role", "alert")
        expect(password).to_be_focused()
        expect(password).to_have_value("")

        password.fill(PASSWORD)
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Log in")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("show-state")).to_have_text("LIVE")
        expect(page.get_by_test_id("connection")).to_contain_text("Live updates")  # SSE
        [cookie] = [c for c in page.context.cookies() if c["name"] == "vistter_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert page.evaluate("document.cookie") == ""  # the page never sees the session

        # a change from the page carries the session's CSRF token
        page.get_by_role("button", name="Emergency slate", exact=True).click()
        expect(page.get_by_test_id("override-slate-state")).to_have_text("ACTIVE")
        page.get_by_role("button", name="Release slate").click()
        expect(page.get_by_test_id("override-slate-state")).to_have_text("off")
        expect(page.get_by_test_id("problem")).to_have_count(0)

        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_test_id("login-notice")).to_have_text("You are logged out.")
        expect(page.get_by_label("Admin password")).to_be_visible()
        expect(page.get_by_test_id("show-state")).to_have_count(0)
        assert page.evaluate("fetch('/api/session').then((r) => r.status)") == 401
        page.reload()
        expect(page.get_by_label("Admin password")).to_be_visible()  # still logged out


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(90)
def test_the_login_on_a_phone(browser: Browser, guarded: DemoAppliance) -> None:
    with console(browser, guarded, PHONE) as page:
        password = page.get_by_label("Admin password")
        expect(password).to_be_visible()
        box = password.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        screenshot(page, "login-phone")
        password.fill("wrong-again-1")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_test_id("login-problem")).to_contain_text("not right")
        screenshot(page, "login-wrong-password-phone")


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_every_documented_route_of_the_appliance_needs_the_login(
    guarded: DemoAppliance,
) -> None:
    with httpx.Client(base_url=guarded.base_url, timeout=10) as client:
        assert client.post("/api/login", json={"password": PASSWORD}).status_code == 200
        document = client.get("/api/openapi.json").json()
    operations = [(method, path) for path, methods in document["paths"].items()
                  for method in methods]
    assert len(operations) > 40, operations
    with httpx.Client(base_url=guarded.base_url, timeout=10) as anonymous:
        for method, path in operations:
            url = re.sub(r"\{(\w+)\}", "1", path)
            response = anonymous.request(method.upper(), url)
            if (method, path) in PUBLIC:
                assert response.status_code != 401, (method, path)
            else:
                assert response.status_code == 401, (method, path, response.text)
        assert anonymous.get("/metrics").status_code == 401
        assert anonymous.get("/").status_code == 200
        assert anonymous.get("/static/console/login.js").status_code == 200
        assert anonymous.get("/api/health").json()["status"] in ("ok", "degraded")
