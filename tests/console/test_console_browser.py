"""The operator console in a real Chromium, on the demo appliance running as ``vistter run``.

Screenshots land in ``var/screenshots/`` (desktop 1280x800, phone 390x844).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect
from support.browser import DESKTOP, PHONE, OpenPage, screenshot
from support.demo_appliance import DemoAppliance

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(90)]

CAMERA = re.compile(r"^camera:(\d+)$")


def source_name(source: str) -> str:
    match = CAMERA.match(source)
    return f"Camera {match.group(1)}" if match else source.capitalize()


@pytest.fixture(autouse=True)
def no_override_left(demo: DemoAppliance) -> Iterator[None]:
    """Every test starts and ends with no override active on the shared demo."""
    yield
    released = demo.post("/api/show/overrides/release-all")
    assert released.status_code == 200, released.text


def wait_on_air_matches_api(page: Page, demo: DemoAppliance, timeout: float = 5.0) -> str:
    """The page's "on air" equals what the API says (read together, retried past a cue)."""
    deadline = time.monotonic() + timeout
    shown = expected = ""
    while time.monotonic() < deadline:
        expected = source_name(demo.get("/api/status")["on_air"]["source"])
        shown = page.get_by_test_id("on-air").inner_text()
        if shown == expected:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"the page shows {shown!r} on air, the API says {expected!r}")


def test_the_console_shows_the_demo_show_live(open_page: OpenPage, demo: DemoAppliance) -> None:
    page = open_page(DESKTOP)
    expect(page.get_by_test_id("show-state")).to_have_text("LIVE")
    expect(page.get_by_test_id("timeline-name")).to_have_text("Daily Marina Stream")
    expect(page.get_by_test_id("connection")).to_contain_text("Live updates")
    assert wait_on_air_matches_api(page, demo).startswith("Camera ")
    expect(page.get_by_test_id("next-cue")).to_contain_text(re.compile(r"cue_v\d in \d+:\d\d"))
    recorder = page.get_by_test_id("destination-recorder")
    expect(recorder.get_by_test_id("destination-state")).to_have_text("Live")
    expect(page.get_by_test_id("cpu")).to_have_text(re.compile(r"^\d+ %$"))
    expect(page.get_by_test_id("memory")).to_contain_text("GB")
    expect(page.get_by_role("button", name="Go live")).to_be_disabled()
    expect(page.get_by_role("button", name="Pause")).to_be_enabled()
    screenshot(page, "console-desktop")


def test_emergency_slate_from_the_page_shows_active_and_releases(
    open_page: OpenPage, demo: DemoAppliance
) -> None:
    page = open_page(DESKTOP)
    expect(page.get_by_test_id("show-state")).to_have_text("LIVE")
    state = page.get_by_test_id("override-slate-state")
    expect(state).to_have_text("off")

    page.get_by_role("button", name="Emergency slate", exact=True).click()
    expect(state).to_have_text("ACTIVE")
    expect(page.get_by_test_id("on-air")).to_have_text("Slate")
    expect(page.get_by_test_id("on-air-why")).to_contain_text("Emergency slate")
    expect(page.get_by_test_id("override-slate")).to_contain_text("Release it to go back")
    assert demo.get("/api/show")["overrides"]["slate"] is True
    demo.wait_until("the program on the slate",
                    lambda: demo.get("/api/status")["on_air"]["source"] == "slate", 5)
    expect(page.get_by_role("button", name="Release slate")).to_be_enabled()
    screenshot(page, "console-slate-desktop")

    page.get_by_role("button", name="Release slate").click()
    expect(state).to_have_text("off")
    assert demo.get("/api/show")["overrides"]["slate"] is False
    demo.wait_until("a camera back on air",
                    lambda: CAMERA.match(demo.get("/api/status")["on_air"]["source"]), 5)
    assert wait_on_air_matches_api(page, demo).startswith("Camera ")


def focus_button(page: Page, name: str, presses: int = 40) -> None:
    """Press Tab until the button named ``name`` has the keyboard focus."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement && document.activeElement.innerText")
        if isinstance(focused, str) and focused.strip() == name:
            return
    raise AssertionError(f"{presses} Tab presses never reached the {name!r} button")


def test_on_a_phone_with_the_keyboard_only(open_page: OpenPage, demo: DemoAppliance) -> None:
    page = open_page(PHONE)
    expect(page.get_by_test_id("show-state")).to_have_text("LIVE")
    expect(page.get_by_test_id("cpu")).to_have_text(re.compile(r"^\d+ %$"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a 390 px phone"
    screenshot(page, "console-phone")

    focus_button(page, "Emergency slate")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("override-slate-state")).to_have_text("ACTIVE")
    assert demo.get("/api/show")["overrides"]["slate"] is True
    screenshot(page, "console-slate-phone")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    focus_button(page, "Release slate")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("override-slate-state")).to_have_text("off")
    assert demo.get("/api/show")["overrides"]["slate"] is False


def seconds_until(page: Page, test_id: str, text: str, since: float) -> float:
    expect(page.get_by_test_id(test_id)).to_have_text(text, timeout=5_000)
    return time.monotonic() - since


def test_a_change_made_elsewhere_shows_within_a_second(
    open_page: OpenPage, demo: DemoAppliance
) -> None:
    page = open_page(DESKTOP)
    expect(page.get_by_test_id("connection")).to_contain_text("Live updates")
    expect(page.get_by_test_id("override-slate-state")).to_have_text("off")
    started = time.monotonic()
    assert demo.post("/api/show/overrides/slate").status_code == 200
    shown = seconds_until(page, "override-slate-state", "ACTIVE", started)
    started = time.monotonic()
    assert demo.post("/api/show/overrides/release-slate").status_code == 200
    released = seconds_until(page, "override-slate-state", "off", started)
    print(f"API call -> page (pushed by SSE): slate {shown * 1e3:.0f} ms, "
          f"release {released * 1e3:.0f} ms")
    assert shown < 1.0 and released < 1.0, (shown, released)


def test_without_live_events_the_page_polls(open_page: OpenPage, demo: DemoAppliance) -> None:
    page = open_page(DESKTOP, block_events=True)
    expect(page.get_by_test_id("connection")).to_contain_text("Polling")
    expect(page.get_by_test_id("show-state")).to_have_text("LIVE")
    expect(page.get_by_test_id("cpu")).to_have_text(re.compile(r"^\d+ %$"))
    assert demo.post("/api/show/overrides/slate").status_code == 200
    expect(page.get_by_test_id("override-slate-state")).to_have_text("ACTIVE", timeout=5_000)


def test_a_refused_command_shows_the_apis_problem_and_hint(
    open_page: OpenPage, demo: DemoAppliance
) -> None:
    """The status read is given one camera that is not configured, so the page offers it and
    the real API refuses to force it; the page shows the API's own words."""

    def with_camera_nine(route: Route) -> None:
        response = route.fetch()
        status: dict[str, Any] = response.json()
        status["sources"]["camera:9"] = {"state": "online", "detail": "not configured"}
        route.fulfill(response=response, body=json.dumps(status))

    page = open_page(DESKTOP)
    page.context.route("**/api/status", with_camera_nine)
    page.reload()
    page.get_by_role("button", name="Camera 9").click()
    refused = demo.post("/api/show/overrides/force-camera", {"camera_id": 9})
    assert 400 <= refused.status_code < 500
    problem = page.get_by_test_id("problem")
    expect(problem).to_contain_text("Force camera 9 did not work.")
    expect(page.get_by_test_id("problem-text")).to_have_text(refused.json()["problem"])
    expect(page.get_by_test_id("problem-hint")).to_have_text(
        f"What to do: {refused.json()['hint']}"
    )
    expect(page.get_by_test_id("override-camera-state")).to_have_text("off")
    screenshot(page, "console-problem-desktop")
    problem.get_by_role("button", name="Dismiss").click()
    expect(problem).to_have_count(0)
