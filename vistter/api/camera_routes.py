"""Camera routes that change the cameras while live: add, replace (edit), remove.

* ``POST   /api/cameras`` -- start a new camera (body: a ``[[cameras]]`` entry as JSON; the
  password is write-only, never in an answer). 409 when the id is taken, naming the camera;
  400 for a backup that is not a camera.
* ``PUT    /api/cameras/{camera_id}`` -- replace a camera's settings: its actor restarts with
  them (a password left out is kept when the username is the same). 404 for an unknown id.
* ``DELETE /api/cameras/{camera_id}`` -- stop a camera (its ingest process ends) and forget
  it. 409, naming what uses it, while the loaded timeline uses it, another camera has it as
  its backup, or it is on air.

Not persisted: a restart of the appliance goes back to the configuration file, as for
destinations added while live. The changes run in Starlette's worker threads (starting or
stopping a camera waits on the ``sources`` supervisor).
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from vistter.api.contract import ModelBody, Operation, Parameter, Reply
from vistter.api.errors import NO_STORE, BadRequestError
from vistter.models.cameras import CameraConfig

__all__ = ["CameraAdded", "CameraControl", "CameraRemoved", "camera_change_operations"]

MAX_CAMERA_ID = 2**31 - 1


class CameraControl(Protocol):
    """What the routes need to change the cameras (blocking calls, any thread). Refusals are
    :class:`~vistter.errors.OperatorError` subclasses (409, 404, 400)."""

    def add(self, camera: CameraConfig) -> str: ...

    def replace(self, camera: CameraConfig) -> str: ...

    def remove(self, camera_id: int) -> None: ...


class CameraAdded(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    child: str = Field(description="Its child of the sources supervisor, e.g. camera-4.")
    url: str = Field(description="The stream URL with any credential removed.")


class CameraRemoved(BaseModel):
    model_config = ConfigDict(extra="forbid")

    removed: int


def _answer(camera: CameraConfig, child: str, status_code: int) -> JSONResponse:
    body = {"id": camera.id, "child": child, "url": camera.display_url}
    return JSONResponse(body, status_code=status_code, headers=NO_STORE)


class _Routes:
    """The endpoints (event loop thread); every change runs in the thread pool."""

    def __init__(self, control: CameraControl) -> None:
        self._control = control

    async def add(self, request: Request, camera: CameraConfig) -> JSONResponse:
        child = await run_in_threadpool(self._control.add, camera)
        return _answer(camera, child, 201)

    async def replace(self, request: Request, camera: CameraConfig) -> JSONResponse:
        camera_id = int(request.path_params["camera_id"])
        if camera.id != camera_id:
            raise BadRequestError(
                f"The body is camera {camera.id}, the address camera {camera_id}.",
                hint=f"Send id {camera_id} in the body. To change a camera's id, add the new "
                "camera (POST /api/cameras) and remove the old one.",
            )
        child = await run_in_threadpool(self._control.replace, camera)
        return _answer(camera, child, 200)

    async def remove(self, request: Request) -> JSONResponse:
        camera_id = int(request.path_params["camera_id"])
        await run_in_threadpool(self._control.remove, camera_id)
        return JSONResponse({"removed": camera_id}, headers=NO_STORE)


_CAMERA_ID = Parameter("camera_id", "path",
                       {"type": "integer", "minimum": 1, "maximum": MAX_CAMERA_ID},
                       "The camera's id.")
_BODY = ModelBody(
    CameraConfig, "The camera is not valid.",
    'Send {"id": 4, "name": "Pier", "url": "rtsp://host:554/stream"} (credentials in '
    "username and password, never in the URL; backup_camera_id and ptz are optional).",
)


def camera_change_operations(control: CameraControl | None) -> list[Operation]:
    """The add/replace/remove operations, or none when the cameras cannot change here."""
    if control is None:
        return []
    r = _Routes(control)
    return [
        Operation("POST", "/api/cameras", r.add, "Add a camera and start it while live.",
                  {201: Reply("Started.", CameraAdded)}, body=_BODY,
                  errors={409: "A camera with this id exists: the problem names it."},
                  tag="cameras"),
        Operation("PUT", "/api/cameras/{camera_id:int}", r.replace,
                  "Replace a camera's settings; its ingest restarts with them.",
                  {200: Reply("Restarted with the new settings.", CameraAdded)}, body=_BODY,
                  parameters=[_CAMERA_ID],
                  errors={404: "There is no camera with this id."}, tag="cameras"),
        Operation("DELETE", "/api/cameras/{camera_id:int}", r.remove,
                  "Stop a camera and forget it (refused while something uses it).",
                  {200: Reply("Removed; its ingest process has ended.", CameraRemoved)},
                  parameters=[_CAMERA_ID],
                  errors={404: "There is no camera with this id.",
                          409: "The loaded timeline, another camera (as its backup) or the "
                          "program uses it: the problem names it, the hint says what to do."},
                  tag="cameras"),
    ]
