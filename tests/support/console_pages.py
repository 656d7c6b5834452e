"""Fixtures of the browser tests of tests/console and tests/builder: the demo appliance, a
real Chromium and ``open_page``, one definition for both folders.

Each folder's ``conftest.py`` imports them; ``page_timeout_ms`` is the one parameter that
differs (the console's pages answer within 10 s, the builder's load more: vis-timeline, the
panels, several pages at once in the conflict tests) and a folder, module or test sets it by
overriding that fixture. The appliance is started once per test module, the browser once per
folder (they take seconds each), and both are always stopped by PID afterwards; every test
gets its own browser contexts (cookies, storage, routes), closed after it.

A JavaScript error or a Content-Security-Policy violation on any page a test opened fails
that test: both mean the operator sees a broken page (a refused style is a page without its
look, a refused script a page without its behaviour).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize

from support.browser import DESKTOP, OpenPage, chromium
from support.demo_appliance import DemoAppliance, demo_appliance

__all__ = ["PageProblems", "browser", "demo", "open_page", "page_problems", "page_timeout_ms"]

CONSOLE_PAGE_TIMEOUT_MS = 10_000

REPORT_CSP_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (event) => {
  console.error(`CSP violation: ${event.violatedDirective} refused ` +
                `${event.blockedURI || 'an inline resource'} (${event.sourceFile || 'page'}` +
                `:${event.lineNumber})`);
});
"""
"""An init script: every Content-Security-Policy violation on the page becomes a console error
that names the directive (Chromium's own report of it is a console error too)."""


class PageProblems:
    """What went wrong on the pages of one browser context: uncaught JavaScript errors, CSP
    violations and, for a test that wants a page quiet, every console error. Filled by
    Playwright's event callbacks (in the test's thread, while it waits on the page)."""

    def __init__(self) -> None:
        self.page_errors: list[str] = []
        self.csp_violations: list[str] = []
        self.console_errors: list[str] = []

    def watch(self, context: BrowserContext) -> None:
        """Watch every page ``context`` opens from now on."""
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        context.on("page", self._watch_page)

    def _watch_page(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = message.text
        self.console_errors.append(text)
        if "Content Security Policy" in text or text.startswith("CSP violation"):
            self.csp_violations.append(text)

    def assert_none(self) -> None:
        """Fail naming the JavaScript errors and CSP violations seen (console errors such as
        a refused request are left to the tests that provoke or forbid them)."""
        assert not self.page_errors, f"JavaScript errors on the page: {self.page_errors}"
        assert not self.csp_violations, (
            f"{len(self.csp_violations)} Content-Security-Policy violations on the page, "
            f"first of each kind: {sorted(set(self.csp_violations))[:6]}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoAppliance]:
    """The demo configuration running as ``vistter run``, its show live."""
    with demo_appliance(Path(tmp_path_factory.mktemp("demo"))) as appliance:
        yield appliance


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for every test of the folder (each test opens contexts of its own, which
    share no cookie, storage or cache): launching it costs seconds on a busy box."""
    with chromium() as running:
        yield running


@pytest.fixture
def page_timeout_ms() -> int:
    """How long each step on a page may take (Playwright's default timeout), in ms."""
    return CONSOLE_PAGE_TIMEOUT_MS


@pytest.fixture
def page_problems() -> PageProblems:
    """The problems of the pages ``open_page`` opened in this test (see :class:`PageProblems`);
    asserted empty of JavaScript errors and CSP violations after the test."""
    return PageProblems()


@pytest.fixture
def open_page(browser: Browser, demo: DemoAppliance, page_timeout_ms: int,
              page_problems: PageProblems) -> Iterator[OpenPage]:
    """``open_page(viewport=DESKTOP, *, block_events=False, path="/")``: a fresh context on
    the demo's console, opened at ``path`` (e.g. ``"/#/library"``, ``"/#/builder/3"``);
    ``block_events`` makes every ``/api/events`` request fail (no live events)."""
    contexts: list[BrowserContext] = []

    def open_(viewport: ViewportSize = DESKTOP, *, block_events: bool = False,
              path: str = "/") -> Page:
        context = browser.new_context(viewport=viewport, base_url=demo.base_url)
        contexts.append(context)
        page_problems.watch(context)
        if block_events:
            context.route("**/api/events*", lambda route: route.abort())
        page = context.new_page()
        page.set_default_timeout(page_timeout_ms)
        page.goto(path)
        return page

    yield open_
    for context in contexts:
        context.close()
    page_problems.assert_none()
