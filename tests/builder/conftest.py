"""Fixtures of the builder tests: the demo appliance and the real Chromium of the console
tests (``tests/console/conftest.py``), one of each per test module, stopped by PID.

``open_page`` is the console's, with more time per step: the builder page loads more
(vis-timeline, the panels) and several pages are open at once in the conflict tests, on a
machine that may be busy.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from console.conftest import browser, demo
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize
from support.browser import DESKTOP, OpenPage
from support.demo_appliance import DemoAppliance

__all__ = ["browser", "demo", "open_page"]

BUILDER_TIMEOUT_MS = 30_000


@pytest.fixture
def open_page(browser: Browser, demo: DemoAppliance) -> Iterator[OpenPage]:
    """``open_page(viewport=DESKTOP, block_events=False, address="/")``: a fresh context on
    the demo's console, opened at ``address`` (e.g. ``/#/builder/3``); a JavaScript error on
    any of its pages fails the test."""
    errors: list[str] = []
    contexts: list[BrowserContext] = []

    def open_(viewport: ViewportSize = DESKTOP, *, block_events: bool = False,
              address: str = "/") -> Page:
        context = browser.new_context(viewport=viewport, base_url=demo.base_url)
        contexts.append(context)
        if block_events:
            context.route("**/api/events*", lambda route: route.abort())
        page = context.new_page()
        page.set_default_timeout(BUILDER_TIMEOUT_MS)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(address)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
