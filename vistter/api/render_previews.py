"""Preview render routes: a short range of a timeline rendered offline, for the builder.

* ``POST /api/render-previews`` -- body ``{"document": <timeline>, "start_s", "duration_s"}``
  (or ``"timeline_id"`` of a stored timeline instead of ``document``): 202 with the job
  (``id``, ``state`` ``queued``, ``progress`` 0, ``status_url``). An invalid document is a 422
  listing every problem as ``POST /api/timelines/validate`` does (path, message, hint); a range
  past the timeline's end a 422 naming its length; more previews than the queue holds a 429;
* ``GET /api/render-previews/{id}`` -- the job: ``state`` (queued, rendering, done, failed,
  cancelled), ``progress`` 0..1 from the frames the render has written, ``frames_done``,
  ``frames_total``, ``video_url`` once done, ``problem`` and ``hint`` once failed;
* ``GET /api/render-previews/{id}/video.mp4`` -- the rendered H.264 MP4 (moov first; Range
  requests answered), 409 while it is not rendered yet;
* ``DELETE /api/render-previews/{id}`` -- cancel it (its render process is ended by PID) or,
  when finished, drop it: its file is deleted and the job forgotten (then 404); the answer
  is its last status (``cancelled`` for a cancel).

Unknown or expired ids are 404 with words. Endpoints run in the event loop thread; the
runner's calls (validation, a cancel waiting for its process) run in the worker pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from vistter.api.contract import ModelBody, Operation, Parameter, Reply
from vistter.api.errors import NO_STORE, ApiError
from vistter.api.library_json import invalid_timeline_response
from vistter.api.requests import RowId
from vistter.models._types import Number, StrictModel
from vistter.models.timeline import MAX_TIMELINE_SECONDS
from vistter.models.validation import TimelineInvalid
from vistter.render.previews import JobState, PreviewRenders, PreviewStatus
from vistter.store import TimelineLibrary

__all__ = [
    "PREVIEWS_PATH",
    "RenderPreviewDeps",
    "RenderPreviewReply",
    "RenderPreviewRequest",
    "render_preview_operations",
]

PREVIEWS_PATH = "/api/render-previews"
MAX_PREVIEW_SECONDS = 30.0
RETRY_AFTER_SECONDS = 5


class RenderPreviewRequest(StrictModel):
    """A range of a timeline to render as a preview: the timeline as a document (the one
    being edited, saved or not) or a stored timeline's id."""

    model_config = ConfigDict(strict=True, json_schema_extra={"examples": [
        {"timeline_id": 1, "start_s": 50, "duration_s": 20}]})

    document: dict[str, Any] | None = Field(
        default=None, description="A timeline in the spec's JSON format, as "
        "POST /api/timelines/validate takes it.")
    timeline_id: RowId | None = Field(default=None, description="A stored timeline's id "
                                      "(GET /api/timelines), instead of document.")
    start_s: Annotated[Number, Field(ge=0, le=MAX_TIMELINE_SECONDS)] = Field(
        description="Where the range starts, in seconds from the timeline's start.")
    duration_s: Annotated[Number, Field(gt=0, le=MAX_PREVIEW_SECONDS)] = Field(
        description=f"How long the range is, in seconds (at most {MAX_PREVIEW_SECONDS:g}).")

    @model_validator(mode="after")
    def _one_timeline(self) -> RenderPreviewRequest:
        if (self.document is None) == (self.timeline_id is None):
            raise ValueError("give either document or timeline_id, not both or neither")
        return self


class RenderPreviewReply(BaseModel):
    """A preview job as it is now."""

    model_config = ConfigDict(extra="forbid")

    id: str
    state: Literal["queued", "rendering", "done", "failed", "cancelled"]
    progress: float = Field(ge=0, le=1, description="Frames written over frames asked for.")
    frames_done: int
    frames_total: int
    start_s: float
    duration_s: float
    width: int
    height: int
    fps: int
    elapsed_s: float = Field(description="Seconds since the render started (0 while queued).")
    speed: float | None = Field(description="Seconds of program rendered per real second.")
    status_url: str
    video_url: str | None = Field(description="The MP4, once done.")
    video_bytes: int
    problem: str | None = Field(description="What went wrong (failed) or why it stopped "
                                "(cancelled).")
    hint: str | None


@dataclass(frozen=True)
class RenderPreviewDeps:
    """The preview runner (any thread) and the library that ``timeline_id`` names."""

    renders: PreviewRenders
    timelines: TimelineLibrary | None = None


class PreviewNotReadyError(ApiError):
    """The preview's file is asked for before it is rendered (409)."""

    status_code = 409


def _reply(status: PreviewStatus) -> dict[str, Any]:
    url = f"{PREVIEWS_PATH}/{status.id}"
    speed = status.speed
    return RenderPreviewReply(
        id=status.id, state=status.state.value, progress=round(status.progress, 4),
        frames_done=status.frames_done, frames_total=status.frames_total,
        start_s=status.start_s, duration_s=status.duration_s, width=status.width,
        height=status.height, fps=status.fps, elapsed_s=round(status.elapsed_s, 3),
        speed=None if speed is None else round(speed, 3), status_url=url,
        video_url=f"{url}/video.mp4" if status.video is not None else None,
        video_bytes=status.video_bytes, problem=status.problem or None,
        hint=status.hint or None,
    ).model_dump(mode="json")


class _Routes:
    """The endpoints (event loop thread; runner and library calls in the worker pool)."""

    def __init__(self, deps: RenderPreviewDeps) -> None:
        self._deps = deps

    def _submit(self, body: RenderPreviewRequest) -> PreviewStatus:
        """Worker thread: the document (stored or sent), validated and queued."""
        document: object = body.document
        if body.timeline_id is not None:
            if self._deps.timelines is None:
                raise ApiError("Stored timelines are not available here.",
                               hint="Send the timeline as document.")
            document = self._deps.timelines.get(body.timeline_id).document
        return self._deps.renders.submit(document, float(body.start_s), float(body.duration_s))

    async def create(self, request: Request, body: RenderPreviewRequest) -> Response:
        try:
            status = await run_in_threadpool(self._submit, body)
        except TimelineInvalid as error:
            return invalid_timeline_response(error)
        reply = _reply(status)
        headers = {**NO_STORE, "Location": reply["status_url"]}
        return JSONResponse(reply, status_code=202, headers=headers)

    async def get(self, request: Request) -> Response:
        preview_id = str(request.path_params["preview_id"])
        status = await run_in_threadpool(self._deps.renders.status, preview_id)
        return JSONResponse(_reply(status), headers=NO_STORE)

    async def video(self, request: Request) -> Response:
        preview_id = str(request.path_params["preview_id"])
        status = await run_in_threadpool(self._deps.renders.status, preview_id)
        if status.video is None or not status.video.is_file():
            state = status.state
            how = (f"is still {state.value} ({status.progress:.0%})" if state in
                   (JobState.QUEUED, JobState.RENDERING) else f"is {state.value}")
            raise PreviewNotReadyError(
                f"preview {preview_id} {how}: it has no video.",
                hint=f"Poll {PREVIEWS_PATH}/{preview_id} until its state is done, then "
                "fetch its video_url.")
        return FileResponse(status.video, media_type="video/mp4",
                            headers={"Cache-Control": "no-store",
                                     "X-Content-Type-Options": "nosniff"})

    async def delete(self, request: Request) -> Response:
        preview_id = str(request.path_params["preview_id"])
        status = await run_in_threadpool(self._deps.renders.remove, preview_id)
        reply = _reply(status)
        reply["video_url"] = None  # the file is gone (or going) in every case
        return JSONResponse(reply, headers=NO_STORE)


_ID = Parameter("preview_id", "path", {"type": "string", "minLength": 1, "maxLength": 64},
                "The preview's id, from the answer to POST /api/render-previews.")
_UNKNOWN = {404: "There is no preview with this id (never made, removed, or expired)."}
_BY_ID = {"preview_id": "$response.body#/id"}
_LINKS = {
    "status": ("get_api_render_previews_preview_id", _BY_ID),
    "video": ("get_api_render_previews_preview_id_video_mp4", _BY_ID),
    "cancel": ("delete_api_render_previews_preview_id", _BY_ID),
}


def render_preview_operations(deps: RenderPreviewDeps | None) -> list[Operation]:
    """The preview render operations, or none without a runner."""
    if deps is None:
        return []
    r = _Routes(deps)
    job = Reply("The preview job.", RenderPreviewReply)
    return [
        Operation("POST", PREVIEWS_PATH, r.create,
                  "Render a range of a timeline (at most 30 s) offline, in the background.",
                  {202: Reply("Queued: poll status_url for its progress.", RenderPreviewReply,
                              headers={"Location": "Where its status is."}, links=_LINKS)},
                  body=ModelBody(RenderPreviewRequest,
                                 "The preview request is not valid.",
                                 'Send {"document": <timeline>, "start_s": 50, "duration_s": '
                                 '20} (or "timeline_id" instead of "document").'),
                  errors={404: "There is no stored timeline with this timeline_id.",
                          422: "The timeline has problems (every one with its field path), "
                          "or the range ends after the timeline.",
                          429: "Too many previews are queued or rendering; wait or cancel "
                          "one."},
                  tag="library"),
        Operation("GET", f"{PREVIEWS_PATH}/{{preview_id}}", r.get,
                  "A preview job: its state and progress, and its video once done.",
                  {200: job}, parameters=[_ID], errors=_UNKNOWN, tag="library"),
        Operation("GET", f"{PREVIEWS_PATH}/{{preview_id}}/video.mp4", r.video,
                  "The rendered preview: H.264 in MP4 (Range requests answered).",
                  {200: Reply("The MP4 file.", None, media_type="video/mp4")},
                  parameters=[_ID],
                  errors={**_UNKNOWN, 409: "The preview is not rendered (yet)."},
                  tag="library"),
        Operation("DELETE", f"{PREVIEWS_PATH}/{{preview_id}}", r.delete,
                  "Cancel a preview (its render process is stopped) or delete a finished one.",
                  {200: Reply("Cancelled or deleted: the job as it ended.",
                              RenderPreviewReply)},
                  parameters=[_ID], errors=_UNKNOWN, tag="library"),
    ]
