"""Show control routes: the GO LIVE button, live controls and manual overrides.

Each route translates HTTP into one call on the orchestrator actor (through its proxy, in
Starlette's worker threads) and answers with the orchestrator's status. A call the show's
state does not allow answers 409 with a hint saying what is allowed now.

* ``GET  /api/show`` -- status: state, timeline position, cue on air, next cue, overrides;
* ``POST /api/show/load`` -- ``{"timeline_id": N, "loop": true|false}`` from the library;
* ``POST /api/show/preflight``, ``/go-live`` (``{"force": true}`` skips blocking checks),
  ``/pause``, ``/resume``, ``/skip``, ``/stop``;
* ``POST /api/show/jump`` -- ``{"cue_id": "..."}`` or ``{"seconds": 12.5}``;
* ``POST /api/show/overrides/<name>`` -- ``slate``, ``release-slate``, ``force-camera``
  (``{"camera_id": 2}``), ``release-camera``, ``pin``, ``unpin``, ``clear-overlays``,
  ``restore-overlays``, ``release-all``;
* ``POST /api/show/text`` -- ``{"cue_id": "...", "text": "..."}``: change an overlay's text live.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pykka
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from vistter.api.body import read_json
from vistter.api.errors import NO_STORE, BadRequestError, TreeUnavailableError
from vistter.models.config import ApplianceConfig
from vistter.models.validation import load_timeline
from vistter.store import TimelineLibrary

CALL_TIMEOUT = 30.0

OVERRIDES: dict[str, str] = {
    "slate": "emergency_slate",
    "release-slate": "release_slate",
    "force-camera": "force_camera",
    "release-camera": "release_camera",
    "pin": "pin_camera",
    "unpin": "unpin_camera",
    "clear-overlays": "clear_overlays",
    "restore-overlays": "restore_overlays",
    "release-all": "release_overrides",
}


@dataclass(frozen=True)
class ShowDeps:
    """``orchestrator`` returns the orchestrator's proxy, resolved at each call."""

    orchestrator: Callable[[], Any]
    timelines: TimelineLibrary | None
    config: ApplianceConfig | None


class _ShowRoutes:
    def __init__(self, deps: ShowDeps) -> None:
        self._deps = deps

    def _call_blocking(self, method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            proxy = self._deps.orchestrator()
            result: dict[str, Any] = getattr(proxy, method)(*args, **kwargs).get(
                timeout=CALL_TIMEOUT
            )
        except (pykka.ActorDeadError, pykka.Timeout):
            raise TreeUnavailableError(
                "The show's orchestrator is not answering; it may be restarting.",
                hint="Retry in a few seconds; GET /api/supervision shows its state.",
            ) from None
        return result

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> JSONResponse:
        result = await run_in_threadpool(self._call_blocking, method, *args, **kwargs)
        return JSONResponse(result, headers=NO_STORE)

    async def status(self, request: Request) -> JSONResponse:
        return await self._call("status")

    async def load(self, request: Request) -> JSONResponse:
        body = await _object(request)
        timeline_id = body.get("timeline_id")
        if not isinstance(timeline_id, int) or isinstance(timeline_id, bool):
            raise BadRequestError(
                "The body must name a timeline of the library.",
                hint='Send {"timeline_id": 1}; GET /api/timelines lists them.',
            )
        loop = body.get("loop")
        if loop is not None and not isinstance(loop, bool):
            raise BadRequestError("loop must be true or false.", hint='e.g. {"loop": true}')
        if self._deps.timelines is None:
            raise BadRequestError("There is no timeline library here.", hint="Use the appliance.")
        library = self._deps.timelines
        record = await run_in_threadpool(library.get, timeline_id)
        # checked again: cameras or assets may have changed since it was stored
        document = await run_in_threadpool(load_timeline, record.document, self._deps.config)
        return await self._call("load", document, timeline_id, loop)

    async def preflight(self, request: Request) -> JSONResponse:
        return await self._call("preflight")

    async def go_live(self, request: Request) -> JSONResponse:
        body = await _object(request, optional=True)
        return await self._call("go_live", force=bool(body.get("force", False)))

    async def pause(self, request: Request) -> JSONResponse:
        return await self._call("pause")

    async def resume(self, request: Request) -> JSONResponse:
        return await self._call("resume")

    async def skip(self, request: Request) -> JSONResponse:
        return await self._call("skip")

    async def stop(self, request: Request) -> JSONResponse:
        return await self._call("stop_show")

    async def jump(self, request: Request) -> JSONResponse:
        body = await _object(request)
        cue_id, seconds = body.get("cue_id"), body.get("seconds")
        if (cue_id is None) == (seconds is None) or (
            seconds is not None and not isinstance(seconds, int | float)
        ):
            raise BadRequestError(
                "Jump needs either a cue id or a time in seconds.",
                hint='Send {"cue_id": "cue_v3"} or {"seconds": 65}.',
            )
        return await self._call("jump", cue_id=cue_id, seconds=seconds)

    async def override(self, request: Request) -> JSONResponse:
        name = str(request.path_params["name"])
        method = OVERRIDES.get(name)
        if method is None:
            raise BadRequestError(
                f"There is no override {name!r}.", hint=f"Use one of: {', '.join(OVERRIDES)}."
            )
        if name == "force-camera":
            camera_id = (await _object(request)).get("camera_id")
            if not isinstance(camera_id, int) or isinstance(camera_id, bool):
                raise BadRequestError(
                    "force-camera needs a camera id.", hint='Send {"camera_id": 2}.'
                )
            return await self._call(method, camera_id)
        return await self._call(method)

    async def text(self, request: Request) -> JSONResponse:
        body = await _object(request)
        cue_id, text = body.get("cue_id"), body.get("text")
        if not isinstance(cue_id, str) or not (text is None or isinstance(text, str)):
            raise BadRequestError(
                "Live text needs the overlay cue and the new text.",
                hint='Send {"cue_id": "cue_o3", "text": "Tide: High 4:10 PM"} (null: back to '
                "the timeline's text).",
            )
        return await self._call("update_text", cue_id, text)


async def _object(request: Request, *, optional: bool = False) -> dict[str, Any]:
    if optional and not (await request.body()):
        return {}
    body = await read_json(request)
    if not isinstance(body, dict):
        raise BadRequestError("The body must be a JSON object.", hint="e.g. {}")
    return body


def show_routes(deps: ShowDeps | None) -> list[Route]:
    """The show routes, or none when the app has no show to control."""
    if deps is None:
        return []
    r = _ShowRoutes(deps)
    post = ["POST"]
    return [
        Route("/api/show", r.status, methods=["GET"]),
        Route("/api/show/load", r.load, methods=post),
        Route("/api/show/preflight", r.preflight, methods=post),
        Route("/api/show/go-live", r.go_live, methods=post),
        Route("/api/show/pause", r.pause, methods=post),
        Route("/api/show/resume", r.resume, methods=post),
        Route("/api/show/skip", r.skip, methods=post),
        Route("/api/show/stop", r.stop, methods=post),
        Route("/api/show/jump", r.jump, methods=post),
        Route("/api/show/overrides/{name}", r.override, methods=post),
        Route("/api/show/text", r.text, methods=post),
    ]
