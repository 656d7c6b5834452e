"""GO LIVE routes: the pre-flight checklist, start (now or after a countdown), cancel, stop.

The same orchestrator methods as the ``/api/show/*`` routes (one implementation, two paths):
``POST /api/live/start`` with no countdown is ``POST /api/show/go-live``, ``POST
/api/live/stop`` is ``POST /api/show/stop`` (or cancels a countdown under way) and
``GET /api/preflight`` runs the checks of ``POST /api/show/preflight`` in any state.

* ``GET  /api/preflight`` -- the checklist: each item ok / warning / error with what to do;
* ``POST /api/live/start`` -- ``{"countdown": 0..60, "force": false}`` (both optional):
  returns at once; the countdown runs in the appliance and shows in ``GET /api/show`` as
  ``countdown.seconds_left``;
* ``POST /api/live/cancel`` -- withdraw the countdown; ``POST /api/live/stop`` -- end the show
  (platform destinations finish their streams unless always on air).

Endpoints run in the event loop thread; the orchestrator is called from the thread pool.
"""

from __future__ import annotations

from typing import Any

import pykka
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from vistter.api.contract import ModelBody, Operation, Reply
from vistter.api.errors import NO_STORE, TreeUnavailableError
from vistter.api.replies import ShowStatusReply
from vistter.api.show import CALL_TIMEOUT, ShowDeps
from vistter.models._types import Int, StrictModel
from vistter.show.going_live import MAX_COUNTDOWN_SECONDS

__all__ = ["LiveStartRequest", "PreflightReply", "live_operations"]


class LiveStartRequest(StrictModel):
    """GO LIVE, now or after a countdown (the body is optional)."""

    model_config = ConfigDict(strict=True, json_schema_extra={"examples": [{"countdown": 5}]})

    countdown: Int = Field(default=0, ge=0, le=MAX_COUNTDOWN_SECONDS,
                           description="Seconds to count down before going live (0: now).")
    force: bool = Field(default=False,
                        description="Go live even when a preflight check blocks it.")


class PreflightItemReply(BaseModel):
    """One item of the checklist: what was checked, how it went, what to do."""

    model_config = ConfigDict(extra="forbid")

    check: str = Field(description="cameras, camera, backup, timeline, asset, destinations, "
                       "destination, encoder or disk.")
    subject: str
    status: str = Field(description="ok, warning or error.")
    message: str
    hint: str = Field(description="What to do.")


class PreflightReply(BaseModel):
    """The checklist: ``ok`` when nothing blocks GO LIVE (warnings allowed)."""

    model_config = ConfigDict(extra="forbid")

    ok: bool
    errors: int
    warnings: int
    items: list[PreflightItemReply]


class _LiveRoutes:
    """The endpoints (event loop thread); an :class:`~vistter.errors.OperatorError` from the
    orchestrator becomes a 4xx answer."""

    def __init__(self, deps: ShowDeps) -> None:
        self._deps = deps

    def _call_blocking(self, method: str, *args: Any) -> dict[str, Any]:
        try:
            proxy = self._deps.orchestrator()
            result: dict[str, Any] = getattr(proxy, method)(*args).get(timeout=CALL_TIMEOUT)
        except (pykka.ActorDeadError, pykka.Timeout):
            raise TreeUnavailableError(
                "The show's orchestrator is not answering; it may be restarting.",
                hint="Retry in a few seconds; GET /api/supervision shows its state.",
            ) from None
        return result

    async def _call(self, method: str, *args: Any) -> JSONResponse:
        result = await run_in_threadpool(self._call_blocking, method, *args)
        return JSONResponse(result, headers=NO_STORE)

    async def preflight(self, request: Request) -> JSONResponse:
        return await self._call("checklist")

    async def start(self, request: Request, body: LiveStartRequest) -> JSONResponse:
        return await self._call("start_live", body.countdown, body.force)

    async def cancel(self, request: Request) -> JSONResponse:
        return await self._call("cancel_live")

    async def stop(self, request: Request) -> JSONResponse:
        return await self._call("stop_live")


_STATUS = {200: Reply("The show's status after the call (with ``countdown`` and "
                      "``publishing``).", ShowStatusReply)}
_ERRORS = {
    400: "The request names something the show does not have.",
    409: "The show's state does not allow this now; the hint says what is allowed.",
    503: "The orchestrator is not answering (restarting); retry in a few seconds.",
}


def live_operations(deps: ShowDeps | None) -> list[Operation]:
    """The GO LIVE operations, or none when the app has no show to control."""
    if deps is None:
        return []
    r = _LiveRoutes(deps)
    return [
        Operation("GET", "/api/preflight", r.preflight,
                  "The pre-flight checklist: each item ok, warning or error, with what to do.",
                  {200: Reply("The checklist.", PreflightReply)},
                  errors={503: _ERRORS[503]}, tag="show"),
        Operation("POST", "/api/live/start", r.start,
                  "GO LIVE now, or after a countdown run by the appliance.", _STATUS,
                  body=ModelBody(LiveStartRequest,
                                 "live/start takes an optional countdown and force flag.",
                                 f'Send no body, or {{"countdown": 5}} (0 to '
                                 f'{MAX_COUNTDOWN_SECONDS} s), or {{"force": true}}.',
                                 optional=True),
                  errors=_ERRORS, tag="show"),
        Operation("POST", "/api/live/cancel", r.cancel, "Cancel the GO LIVE countdown.",
                  _STATUS, errors=_ERRORS, tag="show"),
        Operation("POST", "/api/live/stop", r.stop,
                  "Stop the show (or cancel the countdown); platforms stop publishing.",
                  _STATUS, errors=_ERRORS, tag="show"),
    ]
