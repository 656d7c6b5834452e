"""Source fallback: which source really goes on air when the wanted one fails.

For each wanted source the mixer asks :meth:`FallbackPolicy.resolve` once per frame. The
wanted source stays on air while it is *usable* (its health is ``online``, or it reports no
health at all, and its slot has a frame). When it is not, the policy picks, in order: the first
usable backup of its chain (``backup_camera_id`` in the config, followed transitively), else the
slate if the slate has a frame, else the wanted source itself, i.e. its last good frame (black
if it never had one). While falling back it moves to a better substitute as soon as one is
usable (a backup comes up) and away from one that fails. It returns to the wanted source once
that has been usable for ``recover_after`` seconds without a break (hysteresis, so a flapping
camera does not flap the program). Every switch is a cut, and each fall-back and recovery is
published as an ``alert``. An outage that outlasted ``grace`` but ended between two looks of a
late mixer thread is decided as if it had been seen (fall back, back after ``recover_after``),
so the program and its alerts follow the sources' health, not thread timing.

When the program falls back depends on what the source says of itself:

* ``offline`` (its ingest ended: the camera's connection closed, its ffmpeg exited) or
  ``connecting`` again after that: at once. Nothing can come from it before a reconnect, and
  an RTSP reconnect takes at least the reconnect delay (0.5 s) plus the session set-up and a
  first keyframe (0.5-2.3 s measured on the loopback rig), so waiting could only show a frozen
  frame longer. A killed camera server is seen as soon as its connection closes (0.07-0.14 s
  measured), not after a frame timeout.
* ``stalled`` (its ingest lives but no frame came for the camera's ``stall_timeout``): once
  its picture has been frozen for ``grace`` seconds, counted from the *last frame it
  delivered* (the slot's arrival time), not from when the stall was declared, so the two
  timeouts do not add up. With the defaults (``stall_timeout`` 0.5 s, ``grace`` 0.5 s) the
  backup is on air as soon as the stall is declared, about 0.6 s after the last frame; a
  camera's shorter ``stall_timeout`` still gets ``grace`` of frozen picture before a cut.

A wanted source that is still *starting* (``connecting`` and it never delivered a frame: a
camera at go-live, right after the appliance started) has not failed: for up to
``start_grace`` seconds from the moment the program first wants it, the slate stays on air
(reason ``starting``; the wanted source's black frame if there is no slate), with no alert and
no cut to a backup. It goes on air at its first frame, without hysteresis. Once it fails
(``offline``) or ``start_grace`` ends without a frame, it falls back as any other source.
``start_grace`` is the ``[show] start_grace`` setting (default 5 s): an RTSP camera's first
frame takes 1-3 s (connect, DESCRIBE, SETUP, PLAY, a keyframe); 5 s covers a slow one without
holding a dead camera's slot long.

Why ``recover_after`` = 2 s: long enough to see that a camera that came back keeps delivering,
short enough that the wanted shot is back within a few seconds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from vistter.actors.program.payloads import FallbackRoute
from vistter.actors.sources.table import (
    SLATE_SOURCE_ID,
    SourceHealth,
    SourceState,
    SourceTable,
    camera_source_id,
)
from vistter.clock import Clock
from vistter.errors import ConfigError
from vistter.models.cameras import CameraConfig
from vistter.supervisors.link import EventSink, NullSink
from vistter.telemetry.topics import ALERT_TOPIC

logger = logging.getLogger(__name__)

DEFAULT_GRACE = 0.5
"""Seconds of frozen picture (since a stalled source's last frame) before the program falls
back (see the module doc; an offline source falls back at once)."""
DEFAULT_RECOVER_AFTER = 2.0
"""Seconds a recovered source must stay usable before the program switches back to it."""
DEFAULT_START_GRACE = 5.0
"""Seconds a starting source (connecting, no frame yet) is waited for (see module doc)."""

Reason = Literal["wanted", "backup", "slate", "last_frame", "starting"]


@dataclass(frozen=True, slots=True)
class Resolution:
    """The answer for one wanted source: read the slot of ``source``, and why."""

    wanted: str
    source: str
    reason: Reason

    @property
    def fallen_back(self) -> bool:
        return self.reason != "wanted"


@dataclass(slots=True)
class _Route:
    """Where one wanted source is going: to itself, or to a substitute since ``since``."""

    substitute: str | None = None
    reason: Reason = "wanted"
    down_since: float | None = None
    up_since: float | None = None
    down_health: SourceHealth | None = None  # the wanted source's health when last seen down
    starting_until: float | None = None  # end of the start grace, while the source starts
    holding: str | None = None  # what is on air while it starts (the slate, or itself)


def describe_source(source_id: str) -> str:
    """A source id as an operator reads it: ``camera:2`` -> ``camera 2``."""
    kind, _, rest = source_id.partition(":")
    if kind == "camera" and rest:
        return f"camera {rest}"
    if kind == "media" and rest:
        return f"media {rest}"
    if source_id == SLATE_SOURCE_ID:
        return "the slate"
    return source_id


def _disconnected(health: SourceHealth | None) -> bool:
    """Whether the source's ingest is gone (offline, or reconnecting): no frame can come
    before a reconnect, so there is nothing to wait for (see the module doc)."""
    return health is not None and health.state in (SourceState.OFFLINE, SourceState.CONNECTING)


def _describe_state(health: SourceHealth | None) -> str:
    if health is None or health.state is SourceState.ONLINE:
        return "has no picture"
    if health.state is SourceState.CONNECTING:
        return "is not connected"
    if health.state is SourceState.STALLED:
        return "stalled"
    return "offline"


def backup_chains(cameras: Iterable[CameraConfig]) -> dict[str, tuple[str, ...]]:
    """Source id -> backup source ids in order, following ``backup_camera_id`` transitively
    (``1 -> 2 -> 3`` gives camera 1 the chain ``(camera:2, camera:3)``), stopping at a loop."""
    backup_of = {camera.id: camera.backup_camera_id for camera in cameras}
    chains: dict[str, tuple[str, ...]] = {}
    for camera_id in backup_of:
        chain: list[str] = []
        seen = {camera_id}
        backup = backup_of.get(camera_id)
        while backup is not None and backup not in seen and backup in backup_of:
            chain.append(camera_source_id(backup))
            seen.add(backup)
            backup = backup_of.get(backup)
        if chain:
            chains[camera_source_id(camera_id)] = tuple(chain)
    return chains


class FallbackPolicy:
    """Decides which source goes on air for a wanted source (see the module doc).

    Threads: :meth:`resolve` is called by the mixer thread only (it keeps per-source state
    and publishes alerts from that thread; the sink never blocks); :meth:`status` may be
    called from any thread. Nothing here raises after construction.
    """

    def __init__(
        self,
        sources: SourceTable,
        *,
        backups: Mapping[str, Sequence[str]] | None = None,
        extra_backups: Sequence[str] = (),
        slate_id: str | None = SLATE_SOURCE_ID,
        grace: float = DEFAULT_GRACE,
        recover_after: float = DEFAULT_RECOVER_AFTER,
        start_grace: float = DEFAULT_START_GRACE,
        events: EventSink | None = None,
        clock: Clock | None = None,
    ) -> None:
        if grace < 0 or recover_after < 0 or start_grace < 0:
            raise ConfigError(
                f"fallback grace {grace!r}, recover_after {recover_after!r} and start_grace "
                f"{start_grace!r} must be >= 0 seconds.",
                hint="Use for example grace 0.5, recover_after 2 and start_grace 5.",
            )
        self._sources = sources
        self._clock = clock if clock is not None else sources.clock
        self._backups = {wanted: tuple(chain) for wanted, chain in (backups or {}).items()}
        self._extra = tuple(extra_backups)
        self._slate = slate_id
        self.grace = grace
        self.recover_after = recover_after
        self.start_grace = start_grace
        self._events: EventSink = events if events is not None else NullSink()
        self._lock = threading.Lock()
        self._routes: dict[str, _Route] = {}
        self._outages: dict[str, float] = {
            source: health.since
            for source, health in sources.snapshot().items()
            if not health.usable
        }
        self._remove_listener = sources.add_listener(self._on_health)

    @classmethod
    def from_cameras(
        cls, sources: SourceTable, cameras: Iterable[CameraConfig], **kwargs: Any
    ) -> FallbackPolicy:
        """A policy whose backup chains come from the cameras' ``backup_camera_id``."""
        return cls(sources, backups=backup_chains(cameras), **kwargs)

    def set_cameras(self, cameras: Iterable[CameraConfig]) -> None:
        """Follow the backup chains of a new set of cameras (one added, edited or removed
        while live). Any thread; the mixer's next :meth:`resolve` uses them."""
        chains = backup_chains(cameras)
        with self._lock:
            self._backups = chains

    def chain(self, wanted: str) -> tuple[str, ...]:
        """The backups of ``wanted`` in order of preference (never ``wanted`` itself)."""
        chain = list(self._backups.get(wanted, ()))
        for extra in self._extra:
            if extra not in chain:
                chain.append(extra)
        return tuple(source for source in chain if source != wanted)

    def close(self) -> None:
        """Stop following the source table's health changes (any thread)."""
        self._remove_listener()

    def _on_health(self, source_id: str, health: SourceHealth) -> None:
        """Source table listener (runs in the reporting source's thread): remember when each
        outage began, so a reconnect attempt (offline -> connecting) does not restart grace."""
        with self._lock:
            if health.usable:
                self._outages.pop(source_id, None)
            else:
                self._outages.setdefault(source_id, health.since)

    # -- mixer thread ----------------------------------------------------------------------

    def resolve(self, wanted: str, now: float | None = None) -> Resolution:
        """Which source goes on air for ``wanted`` at ``now`` (default: the policy's clock)."""
        at = self._clock.monotonic() if now is None else now
        with self._lock:
            route = self._routes.get(wanted)
            health = self._sources.health(wanted)
            if route is None:
                route = self._routes[wanted] = _Route()
                if self._starting(wanted, health):
                    route.starting_until = at + self.start_grace
            usable = self._usable(wanted, health)
            if route.substitute is None:
                return self._while_on_wanted(wanted, route, health, usable, at)
            return self._while_fallen_back(wanted, route, health, usable, at)

    def _while_on_wanted(
        self, wanted: str, route: _Route, health: SourceHealth | None, usable: bool, at: float
    ) -> Resolution:
        if usable:
            route.starting_until = route.holding = None
            down_since, route.down_since = route.down_since, None
            back_since = health.since if health is not None else at
            if down_since is None or back_since - down_since < self.grace:
                return Resolution(wanted, wanted, "wanted")
            # The outage outlasted grace but ended between two looks (a late mixer thread):
            # decide as if it had been seen, so the program does not depend on thread timing.
            source, reason = self._best_substitute(wanted)
            if reason == "last_frame":
                return Resolution(wanted, wanted, "wanted")  # nothing better than itself now
            return self._fall_back(wanted, route, route.down_health, (source, reason),
                                   up_since=back_since)
        if route.starting_until is not None:
            if at < route.starting_until and self._starting(wanted, health):
                slate = self._slate
                has_slate = slate is not None and self._sources.slot(slate).latest() is not None
                holding = route.holding = slate if slate is not None and has_slate else wanted
                return Resolution(wanted, holding, "starting")
            route.starting_until = route.holding = None  # it failed, or took too long
        route.down_health = health
        if route.down_since is None:
            route.down_since = self._outage_start(wanted, at)
        if not _disconnected(health) and at - route.down_since < self.grace:
            return Resolution(wanted, wanted, "wanted")
        return self._fall_back(wanted, route, health, self._best_substitute(wanted))

    def _fall_back(self, wanted: str, route: _Route, health: SourceHealth | None,
                   substitute: tuple[str, Reason], *, up_since: float | None = None) -> Resolution:
        source, reason = substitute
        route.substitute, route.reason, route.up_since = source, reason, up_since
        resolution = Resolution(wanted, source, reason)
        self._alert(
            "warning",
            "source_fallback",
            resolution,
            f"{describe_source(wanted).capitalize()} {_describe_state(health)} - "
            f"{_switched_to(wanted, source, reason)}",
        )
        return resolution

    def _while_fallen_back(
        self, wanted: str, route: _Route, health: SourceHealth | None, usable: bool, at: float
    ) -> Resolution:
        if usable:
            if route.up_since is None:
                route.up_since = health.since if health is not None else at
            if at - route.up_since >= self.recover_after:
                previous, reason = route.substitute, route.reason
                route.substitute, route.reason = None, "wanted"
                route.down_since, route.up_since = None, None
                resolution = Resolution(wanted, wanted, "wanted")
                self._alert(
                    "info",
                    "source_recovered",
                    resolution,
                    f"{describe_source(wanted).capitalize()} is back - switched back from "
                    f"{_substitute_name(wanted, previous or wanted, reason)}",
                )
                return resolution
        else:
            route.up_since = None
        source, reason = self._best_substitute(wanted)
        if source != route.substitute or reason != route.reason:
            old = _substitute_name(wanted, route.substitute or wanted, route.reason)
            route.substitute, route.reason = source, reason
            self._alert(
                "warning",
                "source_fallback",
                Resolution(wanted, source, reason),
                f"{describe_source(wanted).capitalize()} {_describe_state(health)} - "
                f"{_switched_to(wanted, source, reason)} (was {old})",
            )
        return Resolution(wanted, source, reason)

    def _best_substitute(self, wanted: str) -> tuple[str, Reason]:
        for backup in self.chain(wanted):
            if self._usable(backup, self._sources.health(backup)):
                return backup, "backup"
        if self._slate is not None and self._sources.slot(self._slate).latest() is not None:
            return self._slate, "slate"
        return wanted, "last_frame"

    def _outage_start(self, source_id: str, at: float) -> float:
        """When the picture of ``source_id`` froze: its last frame's arrival, or when it
        became unusable if that is earlier (it never delivered, or not since)."""
        start = self._outages.get(source_id, at)
        latest = self._sources.slot(source_id).latest()
        if latest is not None and latest.arrived < start:
            return latest.arrived
        return start

    def _starting(self, source_id: str, health: SourceHealth | None) -> bool:
        """Connecting, and never delivered a frame: not failed yet (see the module doc)."""
        return (
            health is not None
            and health.state is SourceState.CONNECTING
            and self._sources.slot(source_id).latest() is None
        )

    def _usable(self, source_id: str, health: SourceHealth | None) -> bool:
        if health is not None and not health.usable:
            return False
        return self._sources.slot(source_id).latest() is not None

    def _alert(self, severity: str, kind: str, resolution: Resolution, message: str) -> None:
        log = logger.warning if severity == "warning" else logger.info
        log("%s", message)
        self._events.publish(
            ALERT_TOPIC,
            {
                "severity": severity,
                "kind": kind,
                "condition": "source_down",  # one alert per down source (vistter.alerts)
                "cleared": kind == "source_recovered",
                "source": resolution.wanted,
                "on_air": resolution.source,
                "reason": resolution.reason,
                "message": message,
            },
        )

    # -- any thread ------------------------------------------------------------------------

    def status(self) -> dict[str, FallbackRoute]:
        """Wanted source -> where it goes and why, for the sources seen so far."""
        with self._lock:
            return {
                wanted: FallbackRoute(
                    on_air=route.substitute or route.holding or wanted,
                    reason="starting" if route.holding is not None else route.reason,
                    down_since=route.down_since,
                )
                for wanted, route in self._routes.items()
            }


def _substitute_name(wanted: str, source: str, reason: Reason) -> str:
    if reason == "backup":
        return f"backup {describe_source(source)}"
    if reason == "last_frame":
        return f"the last frame of {describe_source(wanted)}"
    return describe_source(source)


def _switched_to(wanted: str, source: str, reason: Reason) -> str:
    if reason == "last_frame":
        return "no backup or slate available, holding its last frame"
    return f"switched to {_substitute_name(wanted, source, reason)}"
