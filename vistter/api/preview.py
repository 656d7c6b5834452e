"""Preview routes: what viewers see, for the operator console.

* ``GET /api/preview.ts`` -- the encoded program as an endless MPEG-TS stream
  (``video/mp2t``, chunked), the same bytes the destinations get (no second encode); it starts
  with PAT, PMT and a keyframe. Each request is one viewer of the ``preview`` output
  (:mod:`vistter.actors.outputs.preview`): at most ``[preview] max_viewers`` at once (503 with
  ``Retry-After`` beyond), and one that does not keep up is dropped (the response ends);
* ``GET /api/preview.jpg`` -- the newest program frame as a JPEG at the program's size, for
  browsers without MSE (remade at most once per ``[preview] jpeg_interval``);
* ``GET /api/cameras/{camera_id}/thumbnail.jpg`` -- a camera's newest frame, small (404 for
  an unknown camera, 503 while it has delivered no frame).

Endpoints run in the event loop thread; a viewer's queue is read there without waiting;
opening a viewer (an actor ask) and encoding JPEGs run in the worker pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import pykka
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from vistter.actors.bus import ProgramBus
from vistter.actors.outputs.preview import PREVIEW, PreviewViewer
from vistter.actors.outputs.preview_stills import PreviewStills, Still
from vistter.api.contract import Operation, Parameter, Reply
from vistter.api.errors import ApiError, NotFoundError
from vistter.console.streaming import wait_for_disconnect, write_body
from vistter.errors import OperatorError, UnknownChildError
from vistter.models.config import ApplianceConfig
from vistter.supervisors.handle import SupervisorHandle

__all__ = ["PreviewDeps", "PreviewStreamResponse", "PreviewUnavailableError",
           "preview_deps", "preview_operations"]

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.02
"""How often an idle viewer's queue is looked at: at most this much delay added, and no
thread per viewer (a blocking read per chunk in the worker pool cost more CPU)."""
WRITE_TIMEOUT_SECONDS = 5.0
"""A viewer whose connection takes no bytes for this long is dropped."""
OPEN_TIMEOUT_SECONDS = 5.0
RETRY_AFTER_SECONDS = 5
MAX_CAMERA_ID = 2**31 - 1
CLIENT_GONE = "client gone"

_STREAM_HEADERS = [
    (b"content-type", b"video/mp2t"),
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-accel-buffering", b"no"),
]


class PreviewUnavailableError(ApiError):
    """The preview cannot be served now: no slot free, no preview output, or no frame yet
    (503, with ``Retry-After``)."""

    status_code = 503

    def __init__(self, problem: str, *, hint: str = "") -> None:
        super().__init__(problem, hint=hint, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


@dataclass(frozen=True)
class PreviewDeps:
    """``viewers``: the running preview actor's proxy (any thread; raises
    :class:`~vistter.errors.UnknownChildError` or ``pykka.ActorDeadError`` when there is
    none); ``stills``: the program JPEG and camera thumbnails."""

    viewers: Callable[[], Any]
    stills: PreviewStills


class PreviewStreamResponse(Response):
    """An ASGI response that streams one viewer's queue until it ends or the client goes.

    Runs in the server's event loop thread, reading the queue without waiting (every
    :data:`POLL_SECONDS` when it is empty). It owns ``viewer`` and always closes it,
    however the response ends (disconnect, too slow, a write not taken within
    :data:`WRITE_TIMEOUT_SECONDS`, the preview output stopping, server shutdown).
    """

    def __init__(self, viewer: PreviewViewer) -> None:
        super().__init__(status_code=200, media_type="video/mp2t")
        self._viewer = viewer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        viewer = self._viewer
        watcher = asyncio.create_task(self._watch_disconnect(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": _STREAM_HEADERS})
            ended = viewer.ended
            while ended is None:
                data = viewer.read(0)  # never waits: takes what is queued, under a short lock
                if data:
                    await self._write(send, data)
                else:
                    await asyncio.sleep(POLL_SECONDS)
                ended = viewer.ended
            if ended != CLIENT_GONE:
                logger.info("preview: viewer %s ended: %s", viewer.viewer_id, ended)
                await self._write(send, b"", more_body=False)
        except TimeoutError:
            viewer.close("too slow: its connection took nothing for "
                         f"{WRITE_TIMEOUT_SECONDS:g} s")
            logger.info("preview: viewer %s stopped reading; dropped", viewer.viewer_id)
        except OSError:
            logger.debug("preview: viewer %s went away", viewer.viewer_id)
        finally:
            viewer.close(CLIENT_GONE)
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    @staticmethod
    async def _write(send: Send, body: bytes, *, more_body: bool = True) -> None:
        await write_body(send, body, timeout=WRITE_TIMEOUT_SECONDS, more_body=more_body)

    async def _watch_disconnect(self, receive: Receive) -> None:
        await wait_for_disconnect(receive, lambda: self._viewer.close(CLIENT_GONE))


def _jpeg(still: Still) -> Response:
    return Response(still.jpeg, media_type="image/jpeg", headers={
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })


class _Routes:
    """The endpoints (event loop thread)."""

    def __init__(self, deps: PreviewDeps) -> None:
        self._deps = deps

    def _open(self, peer: str) -> PreviewViewer:
        """Worker thread: ask the preview actor for a viewer slot."""
        try:
            viewer: PreviewViewer = self._deps.viewers().open_viewer(peer).get(
                timeout=OPEN_TIMEOUT_SECONDS)
        except (UnknownChildError, pykka.ActorDeadError, pykka.Timeout):
            raise PreviewUnavailableError(
                "The preview output is not running.",
                hint="Set [preview] enabled = true, or retry in a few seconds if it is "
                "restarting (GET /api/supervision shows outputs/"
                f"{PREVIEW.prefix}-preview).",
            ) from None
        except OperatorError as error:  # full, or stopping
            raise PreviewUnavailableError(str(error), hint=error.hint) from None
        return viewer

    async def stream(self, request: Request) -> Response:
        if request.method == "HEAD":  # headers only: takes no viewer slot
            return Response(headers={"Cache-Control": "no-store"}, media_type="video/mp2t")
        client = request.client
        peer = f"{client.host}:{client.port}" if client is not None else ""
        viewer = await run_in_threadpool(self._open, peer)
        return PreviewStreamResponse(viewer)

    async def program_jpeg(self, request: Request) -> Response:
        still = await run_in_threadpool(self._deps.stills.program)
        if still is None:
            raise PreviewUnavailableError(
                "The program has no frame yet.",
                hint="The mixer is starting; retry in a second.",
            )
        return _jpeg(still)

    async def thumbnail(self, request: Request) -> Response:
        stills = self._deps.stills
        camera_id = int(request.path_params["camera_id"])
        if not stills.has_camera(camera_id):
            known = ", ".join(str(c) for c in stills.camera_ids()) or "none"
            raise NotFoundError(
                f"There is no camera {camera_id}.",
                hint=f"Configured cameras: {known} (GET /api/status lists the sources).",
            )
        still = await run_in_threadpool(stills.thumbnail, camera_id)
        if still is None:
            raise PreviewUnavailableError(
                f"Camera {camera_id} has delivered no frame yet.",
                hint="It may be starting or offline; GET /api/status shows its state.",
            )
        return _jpeg(still)


_CAMERA_ID = Parameter("camera_id", "path", {"type": "integer", "minimum": 0,
                                             "maximum": MAX_CAMERA_ID}, "The camera's id.")
_UNAVAILABLE = {503: "Not available now (see the hint); retry after Retry-After seconds."}


def preview_operations(deps: PreviewDeps | None) -> list[Operation]:
    """The preview operations, or none when the app has no appliance behind it."""
    if deps is None:
        return []
    r = _Routes(deps)
    return [
        Operation("GET", "/api/preview.ts", r.stream,
                  "The program as viewers see it: an endless MPEG-TS stream (for mpegts.js).",
                  {200: Reply("MPEG-TS from a keyframe on, until the viewer falls behind.", None,
                              media_type="video/mp2t")},
                  errors={503: "Every preview slot is taken ([preview] max_viewers) or the "
                          "preview is off; retry after Retry-After seconds."},
                  tag="console"),
        Operation("GET", "/api/preview.jpg", r.program_jpeg,
                  "The newest program frame as a JPEG (for browsers without MSE).",
                  {200: Reply("A JPEG at the program's size.", None, media_type="image/jpeg")},
                  errors=_UNAVAILABLE, tag="console"),
        Operation("GET", "/api/cameras/{camera_id:int}/thumbnail.jpg", r.thumbnail,
                  "A camera's newest frame as a small JPEG (about one new image a second).",
                  {200: Reply("A JPEG [preview] thumbnail_width pixels wide.", None,
                              media_type="image/jpeg")},
                  parameters=[_CAMERA_ID],
                  errors={404: "There is no camera with this id.", **_UNAVAILABLE},
                  tag="console"),
    ]


def preview_deps(
    program: ProgramBus, config: ApplianceConfig, root: Callable[[], SupervisorHandle],
    camera_ids: Callable[[], Collection[int]] | None = None,
) -> PreviewDeps:
    """What the preview routes of an appliance use: its preview actor (found through
    ``root()``, the root supervisor's handle, at each request), its frame queue and source
    table; ``camera_ids``: the cameras now (default: the configured ones). Runs in the
    thread that builds the tree."""
    preview = config.preview
    child = f"outputs/{PREVIEW.child_id(preview)}"
    stills = PreviewStills(
        program.fmt, program.frames, program.sources,
        camera_ids or (lambda: config.camera_ids),
        clock=program.sources.clock, interval=float(preview.jpeg_interval),
        thumbnail_width=preview.thumbnail_width,
    )
    return PreviewDeps(viewers=lambda: root().child(child).proxy(), stills=stills)
