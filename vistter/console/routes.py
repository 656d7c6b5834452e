"""The operator console's routes, mounted by the control app (:func:`console_routes`).

* ``GET /`` -- the page (``static/index.html``), with a strict Content-Security-Policy: only
  this appliance's own scripts, styles and connections; the one inline script (the import map
  that names the vendored libraries) is allowed by its sha256;
* ``/static/...`` -- our ES modules and CSS, and the vendored libraries (``static/vendor``,
  see ``vendor.json``), served from the package;
* ``GET /api/events`` -- the telemetry bus as Server-Sent Events (:mod:`vistter.console.stream`);
* ``GET /api/telemetry/latest`` -- the latest metrics messages, for a page that polls.

The page is a client of the public API like any other; these routes read nothing but files and
the telemetry bus.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Iterable
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from vistter.console.hub import (
    DEFAULT_CAPACITY,
    DEFAULT_MAX_SUBSCRIBERS,
    EventFeed,
    EventHub,
    TooManySubscribersError,
)
from vistter.console.stream import EventStreamResponse, json_safe, parse_topics
from vistter.errors import OperatorError

_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)


NO_STORE = {"Cache-Control": "no-store"}


class EventsUnavailableError(OperatorError):
    """Live events cannot be served now: no telemetry bus, or every stream slot taken.

    The control app answers it with 503 (its ``http_status``) and the JSON problem and hint.
    """

    http_status = 503


def page_policy(html: str) -> str:
    """The Content-Security-Policy of the page: its inline import map is allowed by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _IMPORT_MAP.findall(html)
    )
    return (
        "default-src 'self'; "
        f"script-src 'self' {hashes}; "
        "style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


class _Console:
    """Endpoints; each runs in the event loop thread and does no blocking work."""

    def __init__(self, hub: EventHub | None) -> None:
        self._hub = hub
        self._html = (resources.files("vistter.console") / "static" / "index.html").read_text(
            encoding="utf-8"
        )
        self._policy = page_policy(self._html)

    async def page(self, request: Request) -> Response:
        return HTMLResponse(self._html, headers={
            "Content-Security-Policy": self._policy,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        })

    def _require_hub(self) -> EventHub:
        if self._hub is None:
            raise EventsUnavailableError(
                "Live events are not available here: this app has no telemetry bus.",
                hint="Use the appliance's API (vistter run); the page polls instead.",
            )
        return self._hub

    async def events(self, request: Request) -> EventStreamResponse:
        hub = self._require_hub()
        prefixes = parse_topics(request.query_params.get("topics"))
        try:
            subscription = hub.subscribe(asyncio.get_running_loop(), prefixes)
        except TooManySubscribersError as error:
            raise EventsUnavailableError(
                f"{error} Close a console tab or a telemetry client.",
                hint="Retry in a few seconds; the page polls meanwhile.",
            ) from None
        return EventStreamResponse(hub, subscription)

    async def latest(self, request: Request) -> JSONResponse:
        hub = self._require_hub()
        body: dict[str, Any] = {
            "latest": [event.to_dict() for event in hub.latest()],
            "stream": hub.stats(),
        }
        return JSONResponse(json_safe(body), headers=NO_STORE)


class EventsRoute(Route):
    """``GET /api/events``, carrying the hub it serves so that the server can end every open
    stream when it stops (:func:`close_event_streams`)."""

    def __init__(self, path: str, endpoint: Any, hub: EventHub | None) -> None:
        super().__init__(path, endpoint, methods=["GET"])
        self.hub = hub


def close_event_streams(routes: Iterable[BaseRoute]) -> int:
    """End every open event stream of ``routes`` (an app's routes) at once; returns how many
    hubs were closed. Called by the API server before it asks uvicorn to exit: an open
    console tab would otherwise hold the exit for uvicorn's whole graceful-shutdown timeout.
    Any thread; never raises."""
    closed = 0
    for route in routes:
        if isinstance(route, EventsRoute) and route.hub is not None:
            route.hub.close()
            closed += 1
    return closed


def console_routes(
    events: EventFeed | None,
    *,
    capacity: int = DEFAULT_CAPACITY,
    max_subscribers: int = DEFAULT_MAX_SUBSCRIBERS,
) -> list[BaseRoute]:
    """The page, its static files, and the event routes (fed from ``events``, the telemetry
    bus; without one the event routes answer 503 and the page polls). ``capacity`` is how many
    messages one client may have waiting before it is dropped; ``max_subscribers`` how many
    event streams may be open at once."""
    hub = None
    if events is not None:
        hub = EventHub(events, capacity=capacity, max_subscribers=max_subscribers)
    console = _Console(hub)
    return [
        Route("/", console.page, methods=["GET"]),
        EventsRoute("/api/events", console.events, hub),
        Route("/api/telemetry/latest", console.latest, methods=["GET"]),
        Mount("/static", StaticFiles(packages=[("vistter.console", "static")]), name="static"),
    ]
