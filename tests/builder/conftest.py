"""Fixtures of the builder tests: the demo appliance, a real Chromium and ``open_page`` of
:mod:`support.console_pages` (the console tests' own), one of each per test module, stopped
by PID, with more time per step: the builder page loads more (vis-timeline, the panels) and
several pages are open at once in the conflict tests, on a machine that may be busy.
"""

from __future__ import annotations

import pytest
from support.console_pages import browser, demo, open_page, page_problems

__all__ = ["browser", "demo", "open_page", "page_problems", "page_timeout_ms"]

BUILDER_TIMEOUT_MS = 30_000


@pytest.fixture
def page_timeout_ms() -> int:
    """Each step on a builder page may take 30 s (Playwright's default timeout)."""
    return BUILDER_TIMEOUT_MS
