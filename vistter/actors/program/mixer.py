"""The program mixer: one frame per tick of the program clock, whatever the sources do.

:class:`ProgramMixer` owns a *mixer thread* that runs a :class:`~vistter.actors.program.clock.
ProgramClock` (frame ``n`` due at ``t0 + n / fps``, drift-free). For every tick it asks the
:class:`~vistter.actors.program.state.ProgramState` what frame ``n`` shows, reads the source slots
with ``latest()`` (never waits: a source without a fresh frame gives its last good frame, one
that never produced a frame gives black), lets the optional
:class:`~vistter.actors.program.fallback.FallbackPolicy` substitute failed sources, blends a
transition (fade = through black, dissolve = cross), composites the overlay layers in z order
and puts the result in the :class:`~vistter.actors.program.frame_queue.FrameQueue` (drop-oldest,
never
blocks). When the clock says the mixer is too far behind, it repeats its previous output for
the late indices (counted as dropped), so frame indices and timestamps stay right.

Frames handed to the queue (:class:`~vistter.actors.program.frame_queue.ProgramFrame`): an unchanged
source frame goes as is (read-only, never written again, no copy). A source frame with overlays
and no transition goes as is too, with a *band*: the rows the drawing layers cover, copied from
the source frame into a pooled :class:`~vistter.actors.program.band.FrameBand` and composited
there, so
the whole frame is never copied. A blended frame (transition) is written into a buffer of a
small ring of ``capacity + 2`` buffers and the layers are composited onto it in place. Ring and
band buffers are only reused when nothing else refers to them any more (CPython reference
count), so a frame the queue or the encoder still holds is never overwritten; if every buffer
is held (a stuck encoder) a fresh one is allocated and counted. Consumers must treat program
frames as read-only.

The mixer survives its own restart: the state (what is on air), the slots (last good frames)
and the :class:`~vistter.actors.program.clock.ProgramEpoch` (time line and last index) are shared
objects; a new incarnation continues with the next index (see ``ProgramEpoch.resume_index``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from vistter.actors.program.band import BandPool, FrameBand, composite_band
from vistter.actors.program.blend import Blender
from vistter.actors.program.buffer_pool import BufferPool
from vistter.actors.program.clock import ProgramClock, ProgramEpoch, Tick
from vistter.actors.program.fallback import FallbackPolicy
from vistter.actors.program.frame_plan import FramePlan
from vistter.actors.program.frame_queue import FrameQueue, ProgramFrame
from vistter.actors.program.overlay_gate import OverlayGate
from vistter.actors.program.payloads import MixerMetrics, MixerStatus
from vistter.actors.program.state import ProgramState
from vistter.actors.sources.table import SourceTable
from vistter.errors import ConfigError
from vistter.media.frames import Frame, FrameFormat, planes
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link
from vistter.telemetry.topics import PROGRAM_METRICS_TOPIC

logger = logging.getLogger(__name__)


SourceBarrier = Callable[[int], None]
"""Called by the mixer thread with ``n`` before it composes frame ``n`` (offline render reads
its sources in lock-step here). It should return within a second or so, so that a stopping
mixer is not held up; if it raises, the mixer crashes."""


class FrameRing:
    """Output frames of the mixer (blends), reused only once nobody else holds them.

    A :class:`~vistter.actors.program.buffer_pool.BufferPool` of whole frames: owned by the mixer
    thread, grows lazily up to ``size`` buffers; when every buffer is still held it allocates
    a fresh one in place of the oldest (counted in :attr:`allocated` beyond ``size``).
    """

    def __init__(self, fmt: FrameFormat, size: int) -> None:
        self.fmt = fmt
        self.size = size
        self._pool = BufferPool(size, what="frame ring")

    def __len__(self) -> int:
        return len(self._pool)

    @property
    def allocated(self) -> int:
        """Frames allocated so far."""
        return self._pool.allocated

    def acquire(self) -> Frame:
        """A writable frame that nobody but the ring refers to."""
        return self._pool.acquire(self.fmt.frame_bytes)


class _Stats:
    """Counters written by the mixer thread, read by any thread under a small lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.frames = 0
        self.composed = 0
        self.repeated = 0
        self.stale_source_frames = 0
        self.compose_total = 0.0
        self.compose_max = 0.0
        self.window_frames = 0
        self.window_composed = 0
        self.window_compose_total = 0.0
        self.window_compose_max = 0.0
        self.last_index: int | None = None
        self.on_air: str | None = None
        self.wanted: str | None = None

    def composed_one(self, seconds: float) -> None:
        with self.lock:
            self.composed += 1
            self.window_composed += 1
            self.compose_total += seconds
            self.compose_max = max(self.compose_max, seconds)
            self.window_compose_total += seconds
            self.window_compose_max = max(self.window_compose_max, seconds)

    def emitted(self, index: int, *, repeated: bool) -> None:
        with self.lock:
            self.frames += 1
            self.window_frames += 1
            self.last_index = index
            if repeated:
                self.repeated += 1


class ProgramMixer(SupervisedActor):
    """Composes the program, one frame per program clock tick, in its own thread.

    Messages (actor thread): ``status()`` through a proxy; an internal message that crashes
    the actor when the mixer thread dies unexpectedly (the supervisor restarts it).
    """

    def __init__(
        self,
        link: Link,
        fmt: FrameFormat,
        sources: SourceTable,
        state: ProgramState,
        output: FrameQueue,
        *,
        virtual: bool = False,
        fallback: FallbackPolicy | None = None,
        source_barrier: SourceBarrier | None = None,
        epoch: ProgramEpoch | None = None,
        start_index: int | None = None,
        max_behind: float = 1.0,
        metrics_interval: float = 1.0,
        join_timeout: float = 2.0,
        overlays: OverlayGate | None = None,
    ) -> None:
        super().__init__(link)
        self.fmt = fmt
        self._sources = sources
        self._state = state
        self._output = output
        self.virtual = virtual
        self._fallback = fallback
        self._barrier = source_barrier
        self._epoch = epoch if epoch is not None else state.epoch
        self._start_index = start_index
        self._max_behind = max_behind
        self._metrics_interval = metrics_interval
        self._join_timeout = join_timeout
        self._overlays = overlays  # degraded mode: which overlays are drawn
        self._stopping = threading.Event()
        self._stats = _Stats()
        self._clock: ProgramClock | None = None
        self._thread: threading.Thread | None = None
        self._blender: Blender | None = None
        self._ring = FrameRing(fmt, output.restart_capacity + 2)  # frames the encoder may
        self._bands = BandPool(fmt, output.restart_capacity + 2)  # hold until encoded
        self._last_output: ProgramFrame | None = None
        self._last_seq: dict[str, int] = {}
        self._first_index = 0

    # -- lifecycle -------------------------------------------------------------------------

    def setup(self) -> None:
        """Check the formats, anchor the program clock and start the mixer thread.

        Runs in the actor's thread. Raises :class:`~vistter.errors.ConfigError` when the
        sources or the state have another picture format than the mixer (the actor then dies
        with reason ``start_failed``).
        """
        for name, other in (("source table", self._sources.fmt), ("program state",
                                                                  self._state.fmt)):
            if other != self.fmt:
                raise ConfigError(
                    f"the mixer is {self.fmt.size}@{self.fmt.fps} but the {name} is "
                    f"{other.size}@{other.fps}.",
                    hint="Build the sources, the program state and the mixer from one "
                    "FrameFormat (the program's encoding settings).",
                )
        if self._epoch.fps != self.fmt.fps:
            raise ConfigError(
                f"the program epoch runs at {self._epoch.fps} fps, the mixer at {self.fmt.fps}.",
                hint="Create the ProgramEpoch with the program's frame rate.",
            )
        self._blender = Blender(self.fmt)
        clock = ProgramClock(
            self.fmt.fps,
            self.link.clock,
            epoch=self._epoch,
            virtual=self.virtual,
            max_behind=self._max_behind,
            stop_event=self._stopping,
        )
        now = self.link.clock.monotonic()
        first = self._start_index
        if first is None:
            first = self._epoch.resume_index(now, max_behind=self._max_behind,
                                             virtual=self.virtual)
        clock.start(at=now, first_index=first)  # a restarted mixer keeps the epoch's t0
        self._clock = clock
        self._first_index = first
        # Any unexpected error in the mixer thread crashes the actor (see worker_died).
        self._thread = self.start_worker(
            "mixer", self._loop, thread_name=f"vistter-mixer-{self.link.incarnation}"
        )
        logger.info("%s: program mixer started at frame %d (%s, %s)", self.link.path, first,
                    f"{self.fmt.size}@{self.fmt.fps}", "virtual" if self.virtual else "live")

    def teardown(self) -> None:
        """Stop the mixer thread and wait for it (up to ``join_timeout``). Runs in the actor's
        thread; a thread that does not stop in time (stuck in a source barrier) is logged and
        left to exit by itself at its next check."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._join_timeout)
            if thread.is_alive():
                logger.warning("%s: mixer thread did not stop within %.1f s", self.link.path,
                               self._join_timeout)

    # -- queries (actor thread, via a proxy) -----------------------------------------------

    def status(self) -> MixerStatus:
        """Counters and what is on air."""
        stats = self._stats
        clock = self._clock
        with stats.lock:
            composed = stats.composed
            payload = MixerStatus(
                running=self._thread is not None and self._thread.is_alive(),
                virtual=self.virtual,
                format=f"{self.fmt.size}@{self.fmt.fps}",
                first_index=self._first_index,
                index=stats.last_index,
                frames=stats.frames,
                composed=composed,
                repeated=stats.repeated,
                stale_source_frames=stats.stale_source_frames,
                compose_ms_mean=1000.0 * stats.compose_total / composed if composed else 0.0,
                compose_ms_max=1000.0 * stats.compose_max,
                on_air=stats.on_air,
                wanted=stats.wanted,
                late_ticks=clock.late_ticks if clock is not None else 0,
                dropped=clock.dropped if clock is not None else 0,
                queue_dropped=self._output.dropped,
                buffers_allocated=self._ring.allocated,
                band_buffers_allocated=self._bands.allocated,
            )
        if self._fallback is not None:
            payload["fallback"] = self._fallback.status()
        return payload

    # -- the mixer thread ------------------------------------------------------------------

    def _loop(self) -> None:
        clock = self._clock
        assert clock is not None
        next_metrics = self.link.clock.monotonic() + self._metrics_interval
        window_started = self.link.clock.monotonic()
        while True:
            tick = clock.wait_next()
            if tick is None or self.actor_stopped.is_set():
                return  # stopped, or declared dead from outside (teardown skipped)
            if tick.catch_up and self._last_output is not None:
                self._repeat(tick, self._last_output)
            else:
                if self._barrier is not None:
                    self._barrier(tick.index)
                    if self._stopping.is_set() or self.actor_stopped.is_set():
                        return
                started = time.perf_counter()
                frame, band = self._compose(tick.index)
                self._stats.composed_one(time.perf_counter() - started)
                self._emit(tick, frame, band, repeated=False)
                del frame, band
            now = self.link.clock.monotonic()
            if now >= next_metrics:
                self._publish_metrics(now - window_started)
                window_started = now
                next_metrics = now + self._metrics_interval

    def _repeat(self, tick: Tick, last: ProgramFrame) -> None:
        """Emit the previous output again (same base and band) as frame ``tick.index``."""
        self._emit(tick, last.base, last.band, repeated=True)

    def _emit(self, tick: Tick, frame: Frame, band: FrameBand | None, *,
              repeated: bool) -> None:
        item = ProgramFrame(tick.index, frame, band)
        self._last_output = item
        self._output.put(item)
        self._epoch.record(tick.index)
        self._stats.emitted(tick.index, repeated=repeated)

    def _compose(self, index: int) -> tuple[Frame, FrameBand | None]:
        """Frame ``index`` as the plan says, as a base frame and an optional band over it.
        Mixer thread; never writes a source frame."""
        plan = self._state.frame_plan(index)
        now = self.link.clock.monotonic()
        current = self._source_frame(plan.source, now, on_air=True)
        drawn = plan.layers if self._overlays is None else self._overlays.filter(plan.layers)
        if not plan.blending:
            layers = [(planned.layer, planned.opacity) for planned in drawn]
            return current, composite_band(self._bands, current, layers)
        out = self._blend(plan, self._source_frame(plan.previous, now, on_air=False), current)
        if drawn:
            frame_planes = planes(out, self.fmt)
            for planned in drawn:
                planned.layer.composite(frame_planes, planned.opacity)
        return out, None

    def _blend(self, plan: FramePlan, previous: Frame, current: Frame) -> Frame:
        blender = self._blender
        assert blender is not None
        out = self._ring.acquire()
        if plan.transition == "dissolve":
            return blender.dissolve(previous, current, plan.progress, out)
        return blender.fade_through_black(previous, current, plan.progress, out)

    def _source_frame(self, wanted: str | None, now: float, *, on_air: bool) -> Frame:
        """The frame a wanted source contributes: its (or its substitute's) latest frame,
        black if it never had one. Never waits."""
        blender = self._blender
        assert blender is not None
        if wanted is None:
            if on_air:
                self._set_on_air(None, None)
            return blender.black
        source = wanted
        if self._fallback is not None:
            source = self._fallback.resolve(wanted, now).source
        if on_air:
            self._set_on_air(wanted, source)
        latest = self._sources.slot(source).latest()
        if latest is None:
            return blender.black
        if on_air:
            if self._last_seq.get(source) == latest.seq:
                with self._stats.lock:
                    self._stats.stale_source_frames += 1
            self._last_seq[source] = latest.seq
        return latest.frame

    def _set_on_air(self, wanted: str | None, source: str | None) -> None:
        stats = self._stats
        if stats.on_air != source or stats.wanted != wanted:
            with stats.lock:
                stats.on_air, stats.wanted = source, wanted

    def _publish_metrics(self, window: float) -> None:
        stats = self._stats
        clock = self._clock
        with stats.lock:
            frames = stats.window_frames
            composed = stats.window_composed
            mean = stats.window_compose_total / composed if composed else 0.0
            payload = MixerMetrics(
                index=stats.last_index,
                frames=stats.frames,
                fps=frames / window if window > 0 else 0.0,
                composed=stats.composed,
                repeated=stats.repeated,
                stale_source_frames=stats.stale_source_frames,
                compose_ms_mean=1000.0 * mean,
                compose_ms_max=1000.0 * stats.window_compose_max,
                on_air=stats.on_air,
                wanted=stats.wanted,
                queue_dropped=self._output.dropped,
                buffers_allocated=self._ring.allocated,
                band_buffers_allocated=self._bands.allocated,
            )
            stats.window_frames = 0
            stats.window_composed = 0
            stats.window_compose_total = 0.0
            stats.window_compose_max = 0.0
        if clock is not None:
            payload["late_ticks"] = clock.late_ticks
            payload["dropped"] = clock.dropped
        self.link.events.publish(PROGRAM_METRICS_TOPIC, dict(payload))
