"""Camera routes: every camera with its state, and PTZ "go to preset".

* ``GET  /api/cameras`` -- every configured camera: name, URL (credentials never), backup,
  state (online, offline, stalled...) and what it says, whether it is on air, its PTZ presets
  and where its thumbnail is;
* ``POST /api/cameras/{camera_id}/ptz/{preset}`` -- move a camera to one of its presets. It is
  refused (409, with the reason) while that camera is on air: viewers would see it swing.
  The move runs in Starlette's worker threads (the camera may take seconds to answer and to
  settle); a camera that does not answer or refuses is a 502 naming what to check.

Adding, editing and removing a camera while live: :mod:`vistter.api.camera_routes`
(``POST /api/cameras``, ``PUT`` and ``DELETE /api/cameras/{camera_id}``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from vistter.actors.sources.table import camera_source_id
from vistter.api.camera_routes import CameraControl, camera_change_operations
from vistter.api.contract import Operation, Parameter, Reply
from vistter.api.errors import NO_STORE, ApiError, NotFoundError
from vistter.models.cameras import CameraConfig
from vistter.ptz.controller import PtzResult

__all__ = ["CameraDeps", "CameraList", "PresetMoveReply", "camera_operations", "source_on_air"]

MAX_CAMERA_ID = 2**31 - 1


class CameraOnAirError(ApiError):
    """The camera is on air: moving it now would show the move to every viewer."""

    status_code = 409


class PtzMoveFailedError(ApiError):
    """The camera was asked to move and did not (no answer, refused, fault)."""

    status_code = 502


class PresetMover(Protocol):
    """What the routes need of the show's PTZ controllers (blocking, any thread)."""

    def preroll(self, camera_id: int, preset: str, *, on_air: bool) -> PtzResult: ...


@dataclass(frozen=True)
class CameraDeps:
    """``cameras``: the configured cameras; ``health``: the source table's snapshot (source
    id -> health with ``state`` and ``detail``); ``on_air``: the program source on air now
    (``camera:2``, ``slate``...); ``ptz``: moves a camera to a preset (None: no PTZ here);
    ``control``: adds, replaces and removes cameras (None: they cannot change here)."""

    cameras: Callable[[], Sequence[CameraConfig]]
    health: Callable[[], Mapping[str, Any]]
    on_air: Callable[[], str | None]
    ptz: PresetMover | None
    control: CameraControl | None = None


class CameraPtzReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presets: list[str] = Field(description="The preset names a timeline or the page may use.")
    settle_time: float


class CameraReply(BaseModel):
    """One camera as the page shows it (no credential, ever)."""

    model_config = ConfigDict(extra="forbid")

    id: int
    name: str
    source: str = Field(description="Its program source id, e.g. camera:2.")
    url: str = Field(description="The stream URL with any credential removed.")
    transport: str
    backup_camera_id: int | None
    state: str = Field(description="online, offline, stalled, connecting... (unknown: not "
                       "reported yet).")
    detail: str
    on_air: bool
    ptz: CameraPtzReply | None
    thumbnail: str = Field(description="Where its snapshot (JPEG, about 1 per second) is.")


class CameraList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cameras: list[CameraReply]
    on_air: str | None


class PresetMoveReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera_id: int
    preset: str
    message: str
    settle_time: float


class ProgramView(Protocol):
    """What :func:`source_on_air` reads of the program bus."""

    @property
    def state(self) -> Any: ...

    @property
    def fallback(self) -> Any: ...


def source_on_air(program: ProgramView, wanted: str | None = None) -> str | None:
    """The source viewers see now: the one the program wants (``wanted``, read from the
    program state when not given), or what the fallback put in its place (a backup camera,
    the slate). Any thread."""
    if wanted is None:
        wanted = program.state.on_air()["source"]
    if wanted is None:
        return None
    route = program.fallback.status().get(wanted)
    return wanted if route is None else str(route["on_air"])


def _health_of(health: Mapping[str, Any], source: str) -> tuple[str, str]:
    entry = health.get(source)
    if entry is None:
        return "unknown", "not reported yet"
    state = getattr(entry, "state", None)
    value = getattr(state, "value", state)
    return str(value or "unknown"), str(getattr(entry, "detail", "") or "")


class _Routes:
    """The endpoints (event loop thread); the PTZ move runs in the thread pool."""

    def __init__(self, deps: CameraDeps) -> None:
        self._deps = deps

    def _camera(self, camera_id: int) -> CameraConfig:
        for camera in self._deps.cameras():
            if camera.id == camera_id:
                return camera
        known = ", ".join(str(c.id) for c in self._deps.cameras()) or "none"
        raise NotFoundError(f"There is no camera {camera_id}.",
                            hint=f"GET /api/cameras lists them (configured: {known}).")

    async def list_cameras(self, request: Request) -> JSONResponse:
        health = self._deps.health()
        on_air = self._deps.on_air()
        cameras = []
        for camera in self._deps.cameras():
            source = camera_source_id(camera.id)
            state, detail = _health_of(health, source)
            ptz = camera.ptz
            cameras.append({
                "id": camera.id, "name": camera.label, "source": source,
                "url": camera.display_url, "transport": camera.transport,
                "backup_camera_id": camera.backup_camera_id, "state": state, "detail": detail,
                "on_air": on_air == source,
                "ptz": None if ptz is None else {"presets": sorted(ptz.presets),
                                                 "settle_time": float(ptz.settle_time)},
                "thumbnail": f"/api/cameras/{camera.id}/thumbnail.jpg",
            })  # fmt: skip
        return JSONResponse({"cameras": cameras, "on_air": on_air}, headers=NO_STORE)

    async def go_to_preset(self, request: Request) -> JSONResponse:
        camera = self._camera(int(request.path_params["camera_id"]))
        preset = str(request.path_params["preset"])
        ptz = camera.ptz
        if ptz is None or self._deps.ptz is None:
            raise NotFoundError(f"{camera.label} has no PTZ control.",
                                hint="Add a ptz section (host, presets) to the camera in the "
                                "configuration.")  # fmt: skip
        if preset not in ptz.presets:
            known = ", ".join(sorted(ptz.presets)) or "none"
            raise NotFoundError(f"{camera.label} has no preset {preset[:40]!r}.",
                                hint=f"Use one of its presets: {known}.")
        if self._deps.on_air() == camera_source_id(camera.id):
            raise CameraOnAirError(
                f"{camera.label} is on air: moving it now would show the move to viewers.",
                hint="Put another camera on air first (Force camera), or wait until the "
                "timeline cuts away; then go to the preset.",
            )
        mover = self._deps.ptz
        result = await run_in_threadpool(lambda: mover.preroll(camera.id, preset, on_air=False))
        if not result.ok:
            raise PtzMoveFailedError(result.message, hint=result.hint or
                                     "Check the camera's power, network and ONVIF settings.")
        body = {"camera_id": camera.id, "preset": preset, "message": result.message,
                "settle_time": result.settle_time}
        return JSONResponse(body, headers=NO_STORE)


_CAMERA_ID = Parameter("camera_id", "path",
                       {"type": "integer", "minimum": 1, "maximum": MAX_CAMERA_ID},
                       "The camera's id.")
_PRESET = Parameter("preset", "path", {"type": "string", "minLength": 1, "maxLength": 64},
                    "One of the camera's preset names (GET /api/cameras lists them).")


def camera_operations(deps: CameraDeps | None) -> list[Operation]:
    """The camera operations, or none when the app has no cameras behind it."""
    if deps is None:
        return []
    r = _Routes(deps)
    return [
        Operation("GET", "/api/cameras", r.list_cameras,
                  "Every camera: state, on air, PTZ presets, thumbnail.",
                  {200: Reply("The cameras.", CameraList)}, tag="cameras"),
        Operation("POST", "/api/cameras/{camera_id:int}/ptz/{preset}", r.go_to_preset,
                  "Move a camera to one of its PTZ presets (refused while it is on air).",
                  {200: Reply("The camera moved and settled.", PresetMoveReply)},
                  parameters=[_CAMERA_ID, _PRESET],
                  errors={404: "There is no such camera, or it has no PTZ or no such preset.",
                          409: "The camera is on air; the hint says what to do.",
                          502: "The camera did not move (no answer, refused, fault)."},
                  tag="cameras"),
        *camera_change_operations(deps.control),
    ]
