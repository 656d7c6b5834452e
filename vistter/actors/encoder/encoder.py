"""The encoder actor: program frames in, one MPEG-TS stream out, never a frame lost.

It runs one ffmpeg encode at a time (an :class:`~vistter.actors.encoder.run.EncodeRun`, see
:mod:`vistter.actors.encoder.command`), and a ``writer`` daemon thread that takes frames from
the :class:`~vistter.actors.program.frame_queue.FrameQueue` and writes them to the run's
stdin (the queue keeps dropping the oldest while it waits; the last frame is written again
for each missing one, so later frames keep their time).

**Crash.** While the actor runs, ffmpeg never has a reason to exit. Any exit (even code 0),
a broken stdin pipe, a writer blocked for ``stall_timeout`` seconds, an ffmpeg that takes
frames but writes nothing for ``stall_timeout`` seconds (a hardware encoder that failed to
open leaves ffmpeg running, silent), or a thread dying of an unexpected error crashes the
actor, so that its supervisor restarts it. The fanout and the destinations are not
restarted (they are not after the encoder in the ``program`` subtree, see
:mod:`vistter.tree`): the writer tells the frame queue to *hold* (keep up to
``[encoding] restart_buffer_seconds`` of frames); the run's output was only passed on up to
its last clean cut (:mod:`vistter.actors.encoder.cut`); and the new actor *rewinds* the
queue, so it encodes every frame the dead one never delivered, starting with a keyframe,
stamped where the program's timeline is (``-output_ts_offset``, see
:data:`~vistter.actors.encoder.run.TS_BASE_SECONDS`). The destinations see one stream go on.

**Planned handover.** :meth:`EncoderActor.reconfigure` (new bitrate, size or rate) and
:meth:`EncoderActor.new_keyframe_at` start the next run beside the current one; at the
handover frame the writer closes the old run's stdin (it drains, its tail goes on whole)
and feeds the new one, whose output follows in the pipe, starting on its keyframe at that
very frame. GO LIVE uses it (through the on-air switch ``air``): the show's first frame is
the first frame of a run, so the platforms, gated on it (:mod:`vistter.actors.fanout.on_air`),
start on the show's own keyframe. They need not wait for the old run's tail (which they never
took): the new run's output also goes *ahead* of its turn to them (see
:mod:`vistter.actors.encoder.ts_pipe`), and the old ffmpeg drains at a lower priority.

On a normal stop the encode is drained: stdin is closed, ffmpeg flushes what its encoder
still holds and exits, and the reader passes the tail on before the process is ended.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vistter.actors.encoder.command import encoder_command
from vistter.actors.encoder.failures import EncoderFailedError, encoder_exited, encoder_stalled
from vistter.actors.encoder.fallback import EncoderFallback, fallback_alert
from vistter.actors.encoder.handover import Handover
from vistter.actors.encoder.hwaccel import EncoderChoice, summarize_stderr
from vistter.actors.encoder.overrides import EncodeOverrides
from vistter.actors.encoder.payloads import EncoderMetrics, EncoderStatus
from vistter.actors.encoder.run import EncodeRun, RunParts, ts_offset
from vistter.actors.encoder.ts_pipe import TsPipe
from vistter.actors.encoder.writer import EncoderExited, FrameWriter, RunEnded, write_all
from vistter.actors.fanout.on_air import OnAir
from vistter.actors.program.frame_queue import FrameQueue
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat
from vistter.models.settings import EncodingConfig
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link
from vistter.supervisors.processes import OwnedProcess
from vistter.telemetry.topics import ALERT_TOPIC, STREAM_METRICS_TOPIC

logger = logging.getLogger(__name__)

DRAIN_TIMEOUT = 3.0
"""Seconds a stopping encoder waits for ffmpeg to flush and exit after stdin closes."""
JOIN_TIMEOUT = 2.0
_write_all = write_all  # where the band tests find it (moved to the writer module)


@dataclass(frozen=True)
class _AirChanged:
    """From the orchestrator's thread (the on-air switch): the platforms went on/off air."""

    on_air: bool


class _Tick:
    """Time to publish metrics and check for a stalled writer."""


class EncoderActor(SupervisedActor):
    """One ffmpeg encode at a time from the program's frame queue to the TS pipe.

    ``status()`` (through the proxy) says which encoder runs, why it was chosen, the
    overrides in force and how many handovers it made, with the latest progress. Metrics go
    on the bus as ``metrics.stream`` every ``metrics_interval`` seconds of the link's clock.
    ``air``: the platforms' on-air switch; going on air at a program frame makes that frame
    a new run's keyframe (None: no such switch).
    """

    def __init__(  # noqa: PLR0917 - the positional order is the media path's contract
        self,
        link: Link,
        fmt: FrameFormat,
        encoding: EncodingConfig,
        choice: EncoderChoice,
        ffmpeg: FfmpegBinary,
        frames: FrameQueue,
        output: TsPipe,
        *,
        audio_bed: Path | None = None,
        metrics_interval: float = 1.0,
        stall_timeout: float = 10.0,
        air: OnAir | None = None,
        fallback: EncoderFallback | None = None,
    ) -> None:
        super().__init__(link)
        self.fmt = fmt
        self.encoding = encoding
        self.choice = choice
        self.ffmpeg = ffmpeg
        self.frames = frames
        self.output = output
        self.audio_bed = audio_bed
        self.metrics_interval = metrics_interval
        self.stall_timeout = stall_timeout
        self.air = air
        self.fallback = fallback
        if fallback is not None:
            self.choice = fallback.choice  # software, if the hardware one kept failing
        self._stopping = threading.Event()
        self._writing = FrameWriter(frames, fmt, link.clock, self.post, self._stopping)
        self._lock = self._writing.lock
        self._run: EncodeRun | None = None
        self._runs: list[EncodeRun] = []  # every run not yet ended and reaped
        self._wanted: tuple[int, EncodeOverrides] | None = None  # after the pending one
        self._overrides = EncodeOverrides()
        self._handovers = 0
        self._writer: threading.Thread | None = None
        self._unsubscribe: Any = None
        self._timer: Any = None
        self._rewound = 0

    # -- lifecycle (actor thread) ------------------------------------------------------

    def setup(self) -> None:
        """Rewind the frame queue, start ffmpeg and the writer. Runs in the actor thread; if
        it raises (ffmpeg cannot be started), the actor fails to start and its supervisor is
        told."""
        self._rewound = self.frames.rewind()
        first = self.frames.next_index()
        writing = self._writing
        writing.last_index = first - 1
        writing.last_output = self.link.clock.monotonic()
        self._run = writing.awaiting_output = self._start_run(first, self._overrides)
        logger.info(
            "%s: encoding with %s from program frame %d (%d frames encoded again)",
            self.link.path, self.choice.describe(), first, self._rewound,
        )  # fmt: skip
        # A writer that raises while the encoder stops was closed under: not a death.
        run = self._run
        self._writer = self.start_worker(
            "writer", lambda: writing.run(run), thread_name="vistter-encoder-writer",
            ended_normally=lambda _: self._stopping.is_set(),
        )  # fmt: skip
        if self.air is not None:
            air = self.air
            self._unsubscribe = air.subscribe(lambda on: self.post(_AirChanged(on)))
            wanted = air.first_frame
            if air.on_air and wanted is not None and wanted > first:
                self.new_keyframe_at(wanted)  # a GO LIVE this actor's crash interrupted
        self._arm_tick()

    def teardown(self) -> None:
        """Drain and end every ffmpeg, stop the threads. Runs in the actor thread; bounded by
        :data:`DRAIN_TIMEOUT` plus the process grace period per run."""
        self._stopping.set()
        self.frames.hold()  # frames made from now on wait for the next encoder
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._timer is not None:
            self._timer.cancel()
        writer = self._writer
        if writer is not None:
            writer.join(JOIN_TIMEOUT)  # on its way out it closes stdin: ffmpeg drains
        hung = writer is not None and writer.is_alive()  # stuck in a write: no drain
        handover = self._writing.handover
        runs = list(self._runs)
        if handover is not None and handover.run is not None and handover.run not in runs:
            runs.append(handover.run)
        for run in runs:
            if not hung:
                run.close_stdin()
                run.ended.wait(DRAIN_TIMEOUT)
            self.processes.end(run.process, grace=1.0)
            run.close()

    # -- the operator's and degraded mode's calls (actor thread, through the proxy) ------

    def reconfigure(self, overrides: EncodeOverrides) -> int:
        """Encode with ``overrides`` from the next frames on, by a planned handover (a new
        ffmpeg takes over at a frame boundary, starting on a keyframe; no frame is lost and
        the destinations see one stream). Returns the program frame the new encode starts
        at. Raises ``OSError`` when the new ffmpeg cannot be started (the encode goes on as it
        was)."""
        return self._plan(self._last_taken() + 1, overrides)

    def new_keyframe_at(self, frame_index: int) -> int:
        """Make program frame ``frame_index`` (or the next frame the writer has not taken
        yet, when it is too late for that one) the keyframe that starts a new run, with the
        overrides in force. Returns the frame it will be."""
        return self._plan(frame_index, self._overrides)

    def status(self) -> EncoderStatus:
        """Which encoder runs, why, and how it is doing. Actor thread (proxy call)."""
        run = self._run
        progress = run.progress if run is not None else None
        writing = self._writing
        with self._lock:
            frames_written = writing.frames_written
            frames_repeated = writing.frames_repeated
            bytes_out = writing.bytes_out
        return {
            "state": "running",
            "encoder": self.choice.encoder,
            "hardware": self.choice.hardware,
            "encoder_reason": self.choice.describe(),
            "command": run.command.for_log if run is not None else "",
            "pid": run.pid if run is not None else None,
            "ts_offset": ts_offset(run.first_frame, self.fmt.fps) if run is not None else 0.0,
            "first_frame": run.first_frame if run is not None else None,
            "overrides": _overrides_dict(self._overrides),
            "handovers": self._handovers,
            "frames_rewound": self._rewound,
            "frames_written": frames_written,
            "frames_repeated": frames_repeated,
            "frames_dropped": self.frames.dropped,
            "bytes_out": bytes_out,
            "progress": progress.to_dict() if progress is not None else None,
            "stderr_tail": run.stderr.lines() if run is not None else [],
        }

    # -- messages (actor thread) -------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        """Handles thread reports and ticks. Raising here crashes the actor (on purpose);
        a dead worker thread crashes it through ``worker_died`` (see the actor base)."""
        if isinstance(message, _Tick):
            self._on_tick()
        elif isinstance(message, EncoderExited):
            self._failing(summarize_stderr(message.stderr, message.code))
            raise encoder_exited(message.pid, message.code, message.where, message.stderr)
        elif isinstance(message, RunEnded):
            self._reap(message.run)
        elif isinstance(message, _AirChanged):
            first = self.air.first_frame if self.air is not None else None
            if message.on_air and first is not None:
                self._plan(first, self._overrides, go_live=True)
        elif isinstance(message, Handover):
            self._handed_over(message)
        return None

    def _plan(self, frame_index: int, overrides: EncodeOverrides, *,
              go_live: bool = False) -> int:  # fmt: skip
        """Start the run that takes over at ``frame_index`` (or later, see
        :meth:`new_keyframe_at`); while one is pending, this one follows it."""
        writing = self._writing
        with self._lock:
            if writing.handover is not None:
                self._wanted = (frame_index, overrides)
                return max(frame_index, writing.handover.first_frame + 1)
            first = max(frame_index, writing.last_index + 1)
            handover = writing.handover = Handover(first, overrides, go_live=go_live)
        try:
            handover.run = self._start_run(first, overrides, previous=self._run)
        except BaseException as exc:
            handover.failed(exc)
            with self._lock:
                writing.handover = None
            raise
        handover.ready.set()
        return first

    def _handed_over(self, handover: Handover) -> None:
        """The writer switched to ``handover``'s run (posted by the writer thread)."""
        self._run = handover.run
        self._overrides = handover.overrides
        self._handovers += 1
        logger.info("%s: handed over to a new encode at program frame %d (%s)",
                    self.link.path, handover.first_frame, handover.overrides.describe())
        with self._lock:
            wanted, self._wanted = self._wanted, None
        if wanted is not None:
            self._plan(*wanted)

    def _reap(self, run: EncodeRun) -> None:
        if run in self._runs:
            self._runs.remove(run)
            self.processes.end(run.process, grace=1.0)
            run.close()

    def _on_tick(self) -> None:
        now = self.link.clock.monotonic()
        writing = self._writing
        with self._lock:
            write_since = writing.write_since
            silent_for = now - writing.last_output
            unanswered = writing.frames_written - writing.written_at_last_output
        if write_since is not None and now - write_since > self.stall_timeout:
            self._failing(self._said("stopped taking frames"))
            raise self._stalled(f"has not taken a frame for {now - write_since:.1f} s")
        if unanswered > 0 and silent_for > self.stall_timeout:
            self._failing(self._said("wrote nothing"))
            raise self._stalled(
                f"has written nothing for {silent_for:.1f} s although it was given "
                f"{unanswered} frames"
            )
        self.link.events.publish(STREAM_METRICS_TOPIC, dict(self._metrics()))
        self._arm_tick()

    def _failing(self, reason: str) -> None:
        """The encode fails (this actor crashes next): count it against a hardware encoder,
        which falls back to software after repeated failures (see
        :mod:`~vistter.actors.encoder.fallback`), with an alert."""
        if self.fallback is None:
            return
        software = self.fallback.failed(self.link.clock.monotonic(), reason)
        if software is not None:
            logger.warning("%s: %s kept failing (%s): the next encode runs %s",
                           self.link.path, self.choice.encoder, reason, software.encoder)
            self.link.events.publish(ALERT_TOPIC, fallback_alert(self.choice.encoder, software))

    def _said(self, what: str) -> str:
        """``what`` happened, with ffmpeg's telling line when it said something."""
        run = self._run
        text = run.stderr.text() if run is not None else ""
        return f"{what}: {summarize_stderr(text)}" if text.strip() else what

    def _stalled(self, what: str) -> EncoderFailedError:
        run = self._run
        return encoder_stalled(run.pid if run else None, what, run.stderr.text() if run else "")

    def _metrics(self) -> EncoderMetrics:
        run = self._run
        progress = run.progress if run is not None else None
        with self._lock:
            frames_written = self._writing.frames_written
            bytes_out = self._writing.bytes_out
        payload: EncoderMetrics = {
            "component": "encoder",
            "pid": run.pid if run is not None else None,  # the stream sampler reads its CPU
            "encoder": self.choice.encoder,
            "hardware": self.choice.hardware,
            "frames_written": frames_written,
            "frames_dropped": self.frames.dropped,
            "bytes_out": bytes_out,
            "pipe_dropped_bytes": self.output.stats().dropped_bytes,
        }
        if progress is not None:
            return {**payload, **progress.to_dict()}
        return payload

    def _arm_tick(self) -> None:
        self._timer = self.post_later(self.metrics_interval, _Tick())

    def _last_taken(self) -> int:
        with self._lock:
            return self._writing.last_index

    # -- runs ----------------------------------------------------------------------------

    def _start_run(self, first: int, overrides: EncodeOverrides,
                   previous: EncodeRun | None = None) -> EncodeRun:
        """Spawn the ffmpeg whose first frame is program frame ``first``. Actor thread;
        raises ``OSError`` when ffmpeg cannot be started."""
        progress_fd = os.pipe()
        command = encoder_command(
            self.ffmpeg, self.fmt, self.encoding, self.choice, audio_bed=self.audio_bed,
            progress_fd=progress_fd[1], ts_offset=ts_offset(first, self.fmt.fps),
            overrides=overrides,
        )  # fmt: skip

        def spawn(command: Any, write_fd: int) -> OwnedProcess:
            return self.processes.spawn(
                "encoder", command.argv, args_for_log=command.for_log,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                bufsize=0, pass_fds=(write_fd,),
            )  # fmt: skip

        parts = RunParts(
            self.frames, self.output, self.fmt.fps, spawn,
            lambda name, body: self.start_worker(
                name, body, thread_name=f"vistter-encoder-{name}",
                ended_normally=lambda _: self._stopping.is_set(),
            ),
            self._run_exited, self._writing.output,
        )  # fmt: skip
        out_fps = min(overrides.fps, self.fmt.fps) if overrides.fps else self.fmt.fps
        run = EncodeRun(parts, command, progress_fd, first_frame=first, overrides=overrides,
                        out_fps=out_fps, previous=previous)  # fmt: skip
        self._runs.append(run)
        return run

    def _run_exited(self, run: EncodeRun, where: str, code: int | None) -> None:
        """A reader thread: ``run``'s output ended without being asked to."""
        if not self._stopping.is_set():
            self.post(EncoderExited(run.pid, where, code, run.stderr.text()))


def _overrides_dict(overrides: EncodeOverrides) -> dict[str, int | None]:
    return {"bitrate_kbps": overrides.bitrate_kbps, "height": overrides.height,
            "fps": overrides.fps}
