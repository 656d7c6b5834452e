"""The cameras of a running appliance: add, replace and remove one while the program runs.

The appliance starts with the configured cameras (``[[cameras]]``). Through the control API an
operator may add a camera, replace one (its actor restarts with the new settings) or remove
one; each is a ``camera-<id>`` child of the ``sources`` supervisor, started and stopped there
without touching the program (the mixer keeps its clock: a source that is not there yet is
only a slot without frames). The fallback policy follows the new backup chains at once.

A camera added or edited here is a camera like the configured ones: its password (and its
PTZ password) may come from ``VISTTER_CAMERA_<ID>_PASSWORD`` (``..._PTZ_PASSWORD``) as the
configuration loader takes them (:func:`with_env_secrets`), and the followers given in
:class:`CameraParts` learn each new camera set (the appliance keeps its configuration current,
so timelines may use the camera, and the show's PTZ controllers follow).

Not persisted, exactly as destinations added while live are not: a restart of the appliance
goes back to the configuration file.

Threads: every method runs in the caller's thread (the API's worker pool); one lock keeps
one change at a time. :meth:`LiveCameras.cameras` never waits. A change that is refused
raises an :class:`~vistter.errors.OperatorError` subclass before anything was changed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import SecretStr

from vistter.actors.bus import ProgramBus
from vistter.actors.sources.registry import source_child
from vistter.actors.sources.table import camera_source_id
from vistter.api.cameras import source_on_air
from vistter.errors import ChildStartError, ConfigError, SupervisionError, UnknownChildError
from vistter.models.cameras import CameraConfig
from vistter.models.env import camera_password_variable, camera_ptz_password_variable
from vistter.models.timeline import CameraCue
from vistter.show.context import ShowContext
from vistter.show.plan import ShowPlan
from vistter.supervisors import ChildSpec, SupervisorHandle
from vistter.supervisors.spec import CRASH_BACKOFF, HEARTBEAT

__all__ = [
    "CameraFollower",
    "CameraInUseError",
    "LiveCameras",
    "TimelineCameras",
    "cameras_of_plan",
    "live_cameras",
    "with_env_secrets",
]


class CameraInUseError(SupervisionError):
    """The camera cannot be removed now: a timeline, another camera or the program uses it."""


@dataclass(frozen=True, slots=True)
class TimelineCameras:
    """The loaded timeline's name and the camera ids its cues and fallback use."""

    name: str
    camera_ids: frozenset[int]


def cameras_of_plan(plan: ShowPlan | None) -> TimelineCameras | None:
    """The cameras a loaded (or running) timeline uses: its camera cues and its fallback's
    backup camera. ``None`` when nothing is loaded."""
    if plan is None:
        return None
    used = {span.cue.params.camera_id for span in plan.video_spans()
            if isinstance(span.cue, CameraCue)}
    fallback = plan.timeline.fallback
    if fallback is not None and fallback.backup_camera_id is not None:
        used.add(fallback.backup_camera_id)
    return TimelineCameras(plan.timeline.name, frozenset(used))


class BackupFollower(Protocol):
    """What :class:`LiveCameras` needs of the fallback policy (any thread)."""

    def set_cameras(self, cameras: Iterable[CameraConfig]) -> None: ...


CameraFollower = Callable[[tuple[CameraConfig, ...]], None]
"""Told every new camera set after a change (the caller's thread, under the change lock);
must not raise: the change is done by then."""


@dataclass(frozen=True)
class CameraParts:
    """What a change touches: ``sources``, the supervisor's handle (resolved at each
    change: it may have restarted); ``child``, the ``sources`` child spec for a camera;
    ``fallback``, told each new camera set; ``timeline``, the cameras of the loaded timeline;
    ``on_air``, the source viewers see now (``camera:2``); ``followers``, told each new
    camera set after the fallback (see :data:`CameraFollower`)."""

    sources: Callable[[], SupervisorHandle]
    child: Callable[[CameraConfig], ChildSpec]
    fallback: BackupFollower
    timeline: Callable[[], TimelineCameras | None]
    on_air: Callable[[], str | None]
    followers: tuple[CameraFollower, ...] = ()


class LiveCameras:
    """The current cameras and the changes to them (see the module doc)."""

    def __init__(self, cameras: Sequence[CameraConfig], parts: CameraParts, *,
                 env: Mapping[str, str] | None = None) -> None:
        self._cameras: tuple[CameraConfig, ...] = tuple(cameras)
        self._parts = parts
        self._env = env  # None: os.environ, read at each change
        self._lock = threading.Lock()

    def cameras(self) -> tuple[CameraConfig, ...]:
        """The cameras now, in the order they were added (any thread, never waits)."""
        return self._cameras

    def ids(self) -> list[int]:
        return [camera.id for camera in self._cameras]

    def backups(self) -> set[int]:
        """The ids other cameras name as their backup."""
        return {c.backup_camera_id for c in self._cameras if c.backup_camera_id is not None}

    # -- changes (caller's thread) ---------------------------------------------------------

    def add(self, camera: CameraConfig) -> str:
        """Start a new camera; returns its ``sources`` child id. Raises
        :class:`~vistter.errors.SupervisionError` (409) when the id is taken and
        :class:`~vistter.errors.ConfigError` (400) for a backup that is not a camera."""
        camera = with_env_secrets(camera, self._environment())
        with self._lock:
            existing = self._find(camera.id)
            if existing is not None:
                raise SupervisionError(
                    f"there is already a camera {camera.id} ({existing.label!r})",
                    hint=f"Choose another id (taken: {self._taken()}), or edit camera "
                    f"{camera.id} with PUT /api/cameras/{camera.id}.",
                )
            cameras = (*self._cameras, camera)
            self._check_backup(camera, cameras)
            child = self._parts.sources().start_child(self._parts.child(camera))
            self._commit(cameras)
            return child

    def replace(self, camera: CameraConfig) -> str:
        """Restart camera ``camera.id`` with new settings (see :func:`_keep_left_out` for
        what a body may leave out); returns its child id. Raises
        :class:`~vistter.errors.UnknownChildError` (404) for an unknown camera and
        :class:`~vistter.errors.ConfigError` (400) for a backup that is not a camera."""
        with self._lock:
            camera = with_env_secrets(_keep_left_out(camera, self._require(camera.id)),
                                      self._environment())
            old = self._require(camera.id)
            cameras = tuple(camera if c.id == camera.id else c for c in self._cameras)
            self._check_backup(camera, cameras)
            self._stop(old)
            try:
                child = self._parts.sources().start_child(self._parts.child(camera))
            except ChildStartError:
                self._parts.sources().start_child(self._parts.child(old))  # as it was
                raise
            self._commit(cameras)
            return child

    def remove(self, camera_id: int) -> None:
        """Stop camera ``camera_id`` (its ingest process ends) and forget it. Raises
        :class:`~vistter.errors.UnknownChildError` (404) for an unknown camera and
        :class:`CameraInUseError` (409) while a timeline, another camera or the program
        uses it."""
        with self._lock:
            camera = self._require(camera_id)
            self._check_unused(camera)
            self._stop(camera)
            self._commit(tuple(c for c in self._cameras if c.id != camera_id))

    # -- internals (under the lock) ------------------------------------------------------

    def _environment(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env

    def _find(self, camera_id: int) -> CameraConfig | None:
        return next((c for c in self._cameras if c.id == camera_id), None)

    def _taken(self) -> str:
        return ", ".join(str(c.id) for c in self._cameras) or "none"

    def _require(self, camera_id: int) -> CameraConfig:
        camera = self._find(camera_id)
        if camera is None:
            raise UnknownChildError(f"there is no camera {camera_id}",
                                    hint=f"GET /api/cameras lists them (ids: {self._taken()}).")
        return camera

    def _check_backup(self, camera: CameraConfig, cameras: Sequence[CameraConfig]) -> None:
        backup = camera.backup_camera_id
        if backup is None:
            return
        if backup == camera.id:
            raise ConfigError(f"{camera.label} cannot be its own backup",
                              hint="Choose another camera as its backup, or none.")
        if all(c.id != backup for c in cameras):
            raise ConfigError(f"{camera.label}'s backup, camera {backup}, does not exist",
                              hint=f"Choose one of the cameras ({self._taken()}), or none.")

    def _check_unused(self, camera: CameraConfig) -> None:
        backed_up = [c.label for c in self._cameras if c.backup_camera_id == camera.id]
        if backed_up:
            raise CameraInUseError(
                f"{camera.label} is the backup of {', '.join(backed_up)}",
                hint=f"Edit {', '.join(backed_up)} to use another backup (or none) first.",
            )
        timeline = self._parts.timeline()
        if timeline is not None and camera.id in timeline.camera_ids:
            raise CameraInUseError(
                f"{camera.label} is used by the loaded timeline {timeline.name!r}",
                hint="Stop and unload that timeline, or change its cues and fallback to "
                "other cameras, then remove the camera.",
            )
        if self._parts.on_air() == camera_source_id(camera.id):
            raise CameraInUseError(
                f"{camera.label} is on air",
                hint="Put another camera on air (release a forced camera) first.",
            )

    def _stop(self, camera: CameraConfig) -> None:
        sources = self._parts.sources()
        child_id = self._parts.child(camera).id
        sources.terminate_child(child_id)
        sources.delete_child(child_id)

    def _commit(self, cameras: tuple[CameraConfig, ...]) -> None:
        self._cameras = cameras
        self._parts.fallback.set_cameras(cameras)
        for follower in self._parts.followers:
            follower(cameras)


def with_env_secrets(camera: CameraConfig, env: Mapping[str, str]) -> CameraConfig:
    """``camera`` with ``VISTTER_CAMERA_<ID>_PASSWORD`` as its password and
    ``VISTTER_CAMERA_<ID>_PTZ_PASSWORD`` as its PTZ password (when it has a ``ptz``
    section), as :func:`~vistter.models.env.apply_env_overrides` applies them to the
    configured cameras: a variable that is set wins over the body; an empty one counts as
    unset. The password never appears in an answer, a status or a log."""
    update: dict[str, Any] = {}
    password = env.get(camera_password_variable(camera.id)) or None
    if password is not None:
        update["password"] = SecretStr(password)
    ptz_password = env.get(camera_ptz_password_variable(camera.id)) or None
    if ptz_password is not None and camera.ptz is not None:
        update["ptz"] = camera.ptz.model_copy(update={"password": SecretStr(ptz_password)})
    return camera.model_copy(update=update) if update else camera


#: What an edit may leave out to keep as it was: the page never sees the credentials, the
#: PTZ host or the stall timeout, so it cannot send them back.
KEPT_WHEN_LEFT_OUT = ("username", "password", "stall_timeout", "ptz")


def _keep_left_out(camera: CameraConfig, old: CameraConfig) -> CameraConfig:
    """``camera`` with the fields of :data:`KEPT_WHEN_LEFT_OUT` it does not set taken from
    ``old``; the old password is kept only while the username stays the same."""
    given = camera.model_fields_set
    kept = {name: getattr(old, name) for name in KEPT_WHEN_LEFT_OUT if name not in given}
    username = kept.get("username", camera.username)
    if "password" in kept and username != old.username:
        del kept["password"]
    return camera.model_copy(update=kept) if kept else camera


def live_cameras(cameras: Sequence[CameraConfig], program: ProgramBus, show: ShowContext,
                 sources: Callable[[], SupervisorHandle],
                 followers: Iterable[CameraFollower] = ()) -> LiveCameras:
    """The appliance's cameras: children of ``sources`` (from ``sources()``, the running
    supervisor) started as :mod:`vistter.tree` starts the configured ones, backups followed by
    the program's fallback policy, then ``followers``; the show's loaded timeline checked
    before a removal."""
    context = program.source_context

    def child(camera: CameraConfig) -> ChildSpec:
        return source_child(camera, context, restart_delay=CRASH_BACKOFF, heartbeat=HEARTBEAT)

    return LiveCameras(cameras, CameraParts(
        sources=sources, child=child, fallback=program.fallback,
        timeline=lambda: cameras_of_plan(show.show.plan),
        on_air=lambda: source_on_air(program), followers=tuple(followers),
    ))
