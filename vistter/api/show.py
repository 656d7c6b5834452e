"""Show control routes: the GO LIVE button, live controls and manual overrides.

Each route translates HTTP into one call on the orchestrator actor (through its proxy, in
Starlette's worker threads) and answers with the orchestrator's status. A call the show's
state does not allow answers 409 with a hint saying what is allowed now.

* ``GET  /api/show`` -- status: state, timeline position, cue on air, next cue, overrides;
* ``POST /api/show/load`` -- ``{"timeline_id": N, "loop": true|false}`` from the library;
* ``POST /api/show/next`` -- ``{"timeline_id": N}``: put a library timeline on air next, at
  the end of the running timeline's current pass (loaded at once when nothing is on air);
  ``DELETE /api/show/next`` withdraws it; ``GET /api/show`` says which in ``next``;
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

from vistter.api.contract import ModelBody, Operation, Parameter, Reply
from vistter.api.errors import NO_STORE, BadRequestError, TreeUnavailableError
from vistter.api.replies import ShowStatusReply
from vistter.api.requests import (
    JUMP_REQUEST,
    ForceCameraRequest,
    GoLiveRequest,
    JumpToCue,
    JumpToTime,
    LiveTextRequest,
    LoadRequest,
)
from vistter.models.config_source import ConfigSource, optional_config_now
from vistter.models.timeline import TimelineDocument
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
    """``orchestrator`` returns the orchestrator's proxy, resolved at each call; ``config``
    (a callable: read at each load, the cameras change while live) is what a stored timeline
    is checked against before it is loaded."""

    orchestrator: Callable[[], Any]
    timelines: TimelineLibrary | None
    config: ConfigSource | None


class _ShowRoutes:
    """The endpoints. Each runs in the event loop thread; the orchestrator is called from the
    thread pool. Its :class:`~vistter.errors.OperatorError` becomes a 4xx answer."""

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

    async def _library_timeline(self, timeline_id: int) -> TimelineDocument:
        """A stored timeline, validated again (cameras or assets may have changed since it
        was stored): 404 when there is none, 422 with every problem when it is invalid."""
        if self._deps.timelines is None:
            raise BadRequestError("There is no timeline library here.", hint="Use the appliance.")
        record = await run_in_threadpool(self._deps.timelines.get, timeline_id)
        config = optional_config_now(self._deps.config)
        return await run_in_threadpool(load_timeline, record.document, config)

    async def load(self, request: Request, body: LoadRequest) -> JSONResponse:
        document = await self._library_timeline(body.timeline_id)
        return await self._call("load", document, body.timeline_id, body.loop)

    async def put_next(self, request: Request, body: LoadRequest) -> JSONResponse:
        document = await self._library_timeline(body.timeline_id)
        return await self._call("put_next", document, body.timeline_id, body.loop)

    async def cancel_next(self, request: Request) -> JSONResponse:
        return await self._call("cancel_next")

    async def preflight(self, request: Request) -> JSONResponse:
        return await self._call("preflight")

    async def go_live(self, request: Request, body: GoLiveRequest) -> JSONResponse:
        return await self._call("go_live", force=body.force)

    async def pause(self, request: Request) -> JSONResponse:
        return await self._call("pause")

    async def resume(self, request: Request) -> JSONResponse:
        return await self._call("resume")

    async def skip(self, request: Request) -> JSONResponse:
        return await self._call("skip")

    async def stop(self, request: Request) -> JSONResponse:
        return await self._call("stop_show")

    async def jump(self, request: Request, body: JumpToCue | JumpToTime) -> JSONResponse:
        if isinstance(body, JumpToCue):
            return await self._call("jump", cue_id=body.cue_id)
        return await self._call("jump", seconds=body.seconds)

    async def force_camera(self, request: Request, body: ForceCameraRequest) -> JSONResponse:
        return await self._call("force_camera", body.camera_id)

    async def override(self, request: Request) -> JSONResponse:
        name = str(request.path_params["name"])
        method = OVERRIDES.get(name)
        if method is None or name == "force-camera":  # force-camera has its own route
            raise BadRequestError(
                f"There is no override {name[:40]!r}.",
                hint=f"Use one of: {', '.join(OVERRIDES)} (force-camera takes "
                '{"camera_id": 2}).',
            )
        return await self._call(method)

    async def text(self, request: Request, body: LiveTextRequest) -> JSONResponse:
        return await self._call("update_text", body.cue_id, body.text)


_STATUS = {200: Reply("The show's status after the call.", ShowStatusReply)}
_CALL_ERRORS = {
    409: "The show's state does not allow this now; the hint says what is allowed.",
    503: "The orchestrator is not answering (restarting); retry in a few seconds.",
}
_CONTROL_ERRORS = {400: "The request names something the show does not have.", **_CALL_ERRORS}
_OVERRIDE_NAMES = [name for name in OVERRIDES if name != "force-camera"]


def show_operations(deps: ShowDeps | None) -> list[Operation]:
    """The show operations, or none when the app has no show to control."""
    if deps is None:
        return []
    r = _ShowRoutes(deps)

    def control(path: str, endpoint: Any, summary: str) -> Operation:
        return Operation("POST", path, endpoint, summary, _STATUS, errors=_CONTROL_ERRORS,
                         tag="show")

    return [
        Operation("GET", "/api/show", r.status,
                  "The show: state, timeline position, cue on air, next cue, overrides.",
                  _STATUS, errors={503: _CALL_ERRORS[503]}, tag="show"),
        Operation("POST", "/api/show/load", r.load, "Load a timeline of the library.", _STATUS,
                  body=ModelBody(LoadRequest, "The body must name a timeline of the library.",
                                 'Send {"timeline_id": 1}; GET /api/timelines lists them.'),
                  errors={404: "There is no stored timeline with this id.",
                          422: "The stored timeline is no longer valid (e.g. a camera it "
                          "uses was removed): every problem with its path.",
                          **_CALL_ERRORS}, tag="show"),
        Operation("POST", "/api/show/next", r.put_next,
                  "Put a library timeline on air next: at the end of the running timeline's "
                  "current pass, frame-exact (loaded at once when nothing is on air).", _STATUS,
                  body=ModelBody(LoadRequest, "The body must name a timeline of the library.",
                                 'Send {"timeline_id": 2}; GET /api/timelines lists them.'),
                  errors={404: "There is no stored timeline with this id.",
                          422: "The stored timeline is no longer valid (e.g. a camera it "
                          "uses was removed): every problem with its path.",
                          **_CALL_ERRORS}, tag="show"),
        Operation("DELETE", "/api/show/next", r.cancel_next,
                  "Withdraw the timeline queued to go on air next.", _STATUS,
                  errors={409: "No timeline is queued; the hint says how to queue one.",
                          503: _CALL_ERRORS[503]}, tag="show"),
        control("/api/show/preflight", r.preflight, "Check cameras, media and outputs."),
        Operation("POST", "/api/show/go-live", r.go_live, "GO LIVE with the loaded timeline.",
                  _STATUS,
                  body=ModelBody(GoLiveRequest, "go-live takes an optional force flag.",
                                 'Send no body, or {"force": true} to skip blocking checks.',
                                 optional=True),
                  errors=_CONTROL_ERRORS, tag="show"),
        control("/api/show/pause", r.pause, "Hold the program on the current frame."),
        control("/api/show/resume", r.resume, "Continue from the held frame."),
        control("/api/show/skip", r.skip, "Jump to the next video cue."),
        control("/api/show/stop", r.stop, "End the run (the source on air stays)."),
        Operation("POST", "/api/show/jump", r.jump, "Jump to a cue or a time.", _STATUS,
                  body=ModelBody(JUMP_REQUEST, "Jump needs either a cue id or a time in seconds.",
                                 'Send {"cue_id": "cue_v3"} or {"seconds": 65}.'),
                  errors=_CONTROL_ERRORS, tag="show"),
        Operation("POST", "/api/show/overrides/force-camera", r.force_camera,
                  "Put a camera on air until released.", _STATUS,
                  body=ModelBody(ForceCameraRequest, "force-camera needs a camera id.",
                                 'Send {"camera_id": 2}.'),
                  errors=_CONTROL_ERRORS, tag="show"),
        Operation("POST", "/api/show/overrides/{name}", r.override,
                  "A manual override: slate, pin, clear overlays, or release them.", _STATUS,
                  parameters=[Parameter("name", "path", {"type": "string",
                                                         "enum": _OVERRIDE_NAMES})],
                  errors=_CONTROL_ERRORS, tag="show"),
        Operation("POST", "/api/show/text", r.text, "Change an overlay's text live.", _STATUS,
                  body=ModelBody(LiveTextRequest,
                                 "Live text needs the overlay cue and the new text.",
                                 'Send {"cue_id": "cue_o3", "text": "Tide: High 4:10 PM"} '
                                 "(null: back to the timeline's text)."),
                  errors=_CONTROL_ERRORS, tag="show"),
    ]
