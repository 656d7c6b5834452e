"""Fixtures of the operator-console tests: the demo appliance and a real Chromium.

Both are started once per test module (they take a few seconds each) and always stopped by
PID afterwards; every test gets its own browser context (cookies, storage, routes), closed
after it. A JavaScript error on a page fails the test that opened it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize
from support.browser import DESKTOP, OpenPage, chromium
from support.demo_appliance import DemoAppliance, demo_appliance

PAGE_TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoAppliance]:
    """The demo configuration running as ``vistter run``, its show live."""
    with demo_appliance(Path(tmp_path_factory.mktemp("demo"))) as appliance:
        yield appliance


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def open_page(browser: Browser, demo: DemoAppliance) -> Iterator[OpenPage]:
    """``open_page(viewport=DESKTOP, block_events=False, path="/")``: a fresh context on the
    demo's console (``path`` e.g. ``"/#/library"`` opens that page directly);
    ``block_events`` makes every ``/api/events`` request fail (no live events)."""
    errors: list[str] = []
    contexts = []

    def open_(viewport: ViewportSize = DESKTOP, *, block_events: bool = False,
              path: str = "/") -> Page:
        context = browser.new_context(viewport=viewport, base_url=demo.base_url)
        contexts.append(context)
        if block_events:
            context.route("**/api/events*", lambda route: route.abort())
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(path)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"

