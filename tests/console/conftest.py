"""Fixtures of the operator-console tests: the demo appliance, a real Chromium and
``open_page`` (each step may take ``page_timeout_ms``: 10 s here), shared with the builder
tests from :mod:`support.console_pages`. A JavaScript error or a Content-Security-Policy
violation on a page fails the test that opened it.
"""

from __future__ import annotations

from support.console_pages import browser, demo, open_page, page_problems, page_timeout_ms

__all__ = ["browser", "demo", "open_page", "page_problems", "page_timeout_ms"]
