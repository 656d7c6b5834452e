"""Debian's Chromium driven by Playwright, for the operator-console tests.

Playwright never downloads a browser here: :func:`chromium` launches ``/usr/bin/chromium``
(installed by ``scripts/install-system-deps.sh``) through ``executable_path``. Every process
the launch started (Playwright's driver and the browser's own processes) is remembered by PID
and killed at the end if closing left any behind. Screenshots go to ``var/screenshots/``.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "var" / "screenshots"
LAUNCH_TIMEOUT_MS = 30_000
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}

OpenPage = Callable[..., Page]
"""The ``open_page`` fixture of :mod:`support.console_pages`:
``open_page(viewport=DESKTOP, *, block_events=False, path="/")``."""

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


def require_chromium() -> Path:
    """The browser, or a failure that says how to install it (never a skip)."""
    if not CHROMIUM.is_file():
        raise AssertionError(
            f"{CHROMIUM} is missing: run scripts/install-system-deps.sh (it installs Debian's "
            "chromium package), then run the tests again."
        )
    return CHROMIUM


def _children() -> set[int]:
    return {child.pid for child in psutil.Process().children()}


def _tree(roots: list[psutil.Process]) -> dict[int, psutil.Process]:
    """``roots`` and every process under them that is still alive, by PID. A kept
    :class:`psutil.Process` refuses to signal a PID that was reused by another process."""
    processes: dict[int, psutil.Process] = {}
    for root in roots:
        with contextlib.suppress(psutil.NoSuchProcess):
            processes[root.pid] = root
            processes.update({child.pid: child for child in root.children(recursive=True)})
    return processes


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium; everything it started is gone when the block ends.

    Playwright's driver is the one new child of this process; the browser runs under it.
    Their PIDs are taken while they run, and whichever survive the orderly close are killed.
    """
    executable = require_chromium()
    before = _children()
    playwright: Playwright = sync_playwright().start()
    drivers = [psutil.Process(pid) for pid in _children() - before]
    owned = _tree(drivers)
    try:
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, timeout=LAUNCH_TIMEOUT_MS,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        owned |= _tree(drivers)
        try:
            yield browser
        finally:
            owned |= _tree(drivers)
            browser.close()
    finally:
        owned |= _tree(drivers)
        playwright.stop()
        for process in owned.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as ``var/screenshots/<name>.png`` and return the path."""
    if not re.fullmatch(r"[a-z0-9-]+", name):
        raise ValueError(f"screenshot name {name!r}: use lower-case letters, digits and '-'")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.mouse.move(0, 0)  # no hover effect on whatever was clicked last
    page.evaluate("window.scrollTo(0, 0)")  # sticky header at the top of a full-page shot
    page.screenshot(path=str(path), full_page=True)
    return path
