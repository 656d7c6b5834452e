"""The preview output: the encoded program, streamed to the operator's browsers.

The output kind ``preview`` runs no process and no second encode. Each browser that opens
``GET /api/preview.ts`` becomes a :class:`PreviewViewer`: one more consumer of the fanout
with its own bounded :class:`~vistter.actors.fanout.table.DestinationQueue`, which starts
on a keyframe (PAT and PMT first, so the player starts at once). A viewer that falls
behind (paused tab, slow link, vanished client) overflows its own queue and is dropped: its
response ends and the browser reconnects at the live edge. The fanout never waits for it,
so the encoder and every destination never notice.

:class:`PreviewActor` (the ``outputs`` child ``preview-preview``) admits viewers up to
``max_viewers``, reports them in its status and closes them all when it stops. The bytes
themselves never pass through its mailbox: a viewer reads its queue in the API's threads.
"""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any

import pykka

from vistter.actors.bus import ProgramBus
from vistter.actors.fanout.table import MIN_CAPACITY_BYTES, DestinationQueue, FanoutTable
from vistter.actors.outputs.kind import OutputKind
from vistter.actors.outputs.payloads import PreviewStatus, ViewerStatus
from vistter.clock import Clock
from vistter.errors import OperatorError
from vistter.models.config import ApplianceConfig
from vistter.models.preview import PreviewOutput
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link
from vistter.supervisors.spec import StartFunction

__all__ = [
    "PREVIEW",
    "PreviewActor",
    "PreviewClosedError",
    "PreviewFullError",
    "PreviewViewer",
    "viewer_capacity",
]

logger = logging.getLogger(__name__)

VIEWER_PREFIX = "preview:"
"""Fanout queue ids of viewers: ``preview:<n>`` (a ``:`` no destination id may contain)."""


class PreviewFullError(OperatorError):
    """Every preview slot is taken (``max_viewers``); the API answers 503."""

    http_status = 503


class PreviewClosedError(OperatorError):
    """The preview output is stopping or stopped; the API answers 503."""

    http_status = 503


def viewer_capacity(bitrate_kbps: int, max_lag_seconds: float) -> int:
    """The bytes one viewer may have waiting: ``max_lag_seconds`` of the program's bitrate,
    at least what a queue needs (:data:`MIN_CAPACITY_BYTES`)."""
    return max(MIN_CAPACITY_BYTES, int(bitrate_kbps * 1000 / 8 * max_lag_seconds))


class PreviewViewer:
    """One browser watching the preview: its fanout queue and why it ended.

    Threads: the API reads it (:meth:`read`, from a worker thread) and closes it from the
    event loop thread; the preview actor closes it when it stops. Thread-safe.
    """

    def __init__(
        self, viewer_id: str, queue: DestinationQueue, fanout: FanoutTable, clock: Clock,
        peer: str,
    ) -> None:
        self.viewer_id = viewer_id
        self.peer = peer
        self._queue = queue
        self._fanout = fanout
        self._clock = clock
        self.opened_at = clock.monotonic()
        self._lock = threading.Lock()
        self._ended: str | None = None

    def read(self, timeout: float) -> bytes | None:
        """The next TS bytes (whole packets, the first ones PAT, PMT and a keyframe), or
        ``None`` when nothing came within ``timeout`` seconds or the viewer has ended (see
        :attr:`ended`). Blocks the calling thread (never the event loop's)."""
        if self._check_overflow():
            return None
        data = self._queue.get(timeout)
        if data is None:
            return None
        if self._check_overflow():  # what was read came after a gap: do not send it
            return None
        return data

    def _check_overflow(self) -> bool:
        if self._queue.stats().overflows:
            self.close("too slow: fell more than its queue behind the program")
        return self.ended is not None

    def close(self, reason: str = "closed") -> None:
        """End the viewer (idempotent; the first reason is kept): its queue leaves the
        fanout, and a :meth:`read` waiting on it returns at once."""
        with self._lock:
            if self._ended is not None:
                return
            self._ended = reason
        self._fanout.detach(self.viewer_id)

    @property
    def ended(self) -> str | None:
        """Why the viewer ended, or ``None`` while it is watching."""
        with self._lock:
            return self._ended

    def status(self) -> ViewerStatus:
        stats = self._queue.stats()
        return {
            "id": self.viewer_id,
            "peer": self.peer,
            "seconds": round(self._clock.monotonic() - self.opened_at, 3),
            "bytes_out": stats.bytes_out,
            "queued_bytes": stats.queued_bytes,
            "waiting_for_keyframe": stats.waiting_for_keyframe,
            "ended": self.ended,
        }


class PreviewActor(SupervisedActor):
    """Admits preview viewers and ends them when it stops.

    Public methods (``open_viewer``, ``status``) run in the actor's thread; call them through
    the proxy. ``open_viewer`` raises :class:`PreviewFullError` (an expected error: it goes
    back to the asker and the actor keeps running).
    """

    kind = "preview"

    def __init__(
        self, link: Link, preview: PreviewOutput, fanout: FanoutTable, *, capacity_bytes: int
    ) -> None:
        super().__init__(link)
        self.preview = preview
        self.fanout = fanout
        self.capacity_bytes = capacity_bytes
        self._viewers: dict[str, PreviewViewer] = {}
        self._numbers = itertools.count(1)
        self._served = 0
        self._refused = 0
        self._dropped_slow = 0
        self._stopping = False

    # -- lifecycle (actor thread) ------------------------------------------------------

    def teardown(self) -> None:
        """End every viewer (their responses end; browsers reconnect to the next preview
        actor). Actor thread; does not raise."""
        self._stopping = True
        for viewer in self._viewers.values():
            viewer.close("the preview output stopped")
        self._viewers.clear()

    # -- public API (actor thread) -----------------------------------------------------

    def open_viewer(self, peer: str = "") -> PreviewViewer:
        """A new viewer, attached to the fanout now (it starts at the next keyframe).

        Raises :class:`PreviewFullError` when ``max_viewers`` are watching."""
        if self._stopping:
            raise PreviewClosedError(
                "the preview is stopping.", hint="Retry in a few seconds."
            )
        self._prune()
        limit = self.preview.max_viewers
        if len(self._viewers) >= limit:
            self._refused += 1
            raise PreviewFullError(
                f"the preview already has {limit} viewer(s), its limit.",
                hint="Close a console tab that shows the preview, or raise "
                "[preview] max_viewers; retry in a few seconds.",
            )
        viewer_id = f"{VIEWER_PREFIX}{next(self._numbers)}"
        queue = self.fanout.attach(viewer_id, self.capacity_bytes)
        viewer = PreviewViewer(viewer_id, queue, self.fanout, self.link.clock, peer)
        self._viewers[viewer_id] = viewer
        self._served += 1
        logger.info("preview: viewer %s opened (%s)", viewer_id, peer or "unknown peer")
        return viewer

    def status(self) -> PreviewStatus:
        """The preview as ``GET /api/destinations`` shows it: viewers and counters."""
        self._prune()
        viewers = [viewer.status() for viewer in self._viewers.values()]
        return {
            "id": self.preview.id,
            "kind": self.kind,
            "platform": "preview",
            "state": "live" if viewers else "idle",
            "url": self.preview.display_url,
            "viewers": viewers,
            "max_viewers": self.preview.max_viewers,
            "viewer_queue_bytes": self.capacity_bytes,
            "viewers_served": self._served,
            "viewers_refused": self._refused,
            "viewers_dropped_slow": self._dropped_slow,
            "bytes_sent": sum(viewer["bytes_out"] for viewer in viewers),
        }

    def _prune(self) -> None:
        for viewer_id, viewer in list(self._viewers.items()):
            ended = viewer.ended
            if ended is not None:
                if ended.startswith("too slow"):
                    self._dropped_slow += 1
                del self._viewers[viewer_id]


def _start_preview(
    preview: PreviewOutput, config: ApplianceConfig, bus: ProgramBus
) -> StartFunction:
    capacity = viewer_capacity(config.encoding.bitrate_kbps, float(preview.max_lag_seconds))

    def start(link: Link) -> pykka.ActorRef[Any]:
        return PreviewActor.start(link, preview, bus.fanout, capacity_bytes=capacity)

    return start


#: The registry entry of the preview (nothing to probe: it serves, it does not connect).
PREVIEW = OutputKind(name="preview", model=PreviewOutput, prefix="preview", start=_start_preview)
