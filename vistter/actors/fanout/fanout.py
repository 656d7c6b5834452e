"""The fanout actor: one encoded stream in, one bounded queue per destination out.

A daemon thread takes chunks from the encoder's :class:`~vistter.actors.encoder.ts_pipe.TsPipe`,
re-aligns them to 188-byte TS packets, follows the PAT/PMT to the video PID, marks the
packets that start a keyframe (:class:`~vistter.actors.fanout.ts.TsScanner`) and offers every
batch to every :class:`~vistter.actors.fanout.table.DestinationQueue`. Offering never
blocks: a slow, stuck or dead destination loses data (counted) and resumes at a keyframe;
the others and the encoder do not notice.

The queues belong to the :class:`~vistter.actors.fanout.table.FanoutTable`, which
outlives this actor. When the actor (re)starts, or the pipe reports a discontinuity (a
new encoder run, dropped chunks), every queue waits for the next keyframe. A new encoder
run (after a crash, or a planned handover) starts with PAT/PMT and a keyframe and its
timestamps go on where the last run's whole frames ended, so the destinations just continue
on it (a run sent *ahead* of its turn, see :mod:`vistter.actors.encoder.ts_pipe`, goes only
to the platforms waiting for it, through its own scanner). Their publishers keep their
connections (the continuity counters restart, which a demuxer takes in its stride). The
fanout is not restarted with the encoder (see :mod:`vistter.tree`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from vistter.actors.encoder.ts_pipe import TsPipe
from vistter.actors.fanout.payloads import FanoutMetrics, FanoutStatus, StreamStats
from vistter.actors.fanout.table import FanoutTable
from vistter.actors.fanout.ts import TsScanner
from vistter.clock import Timer
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link
from vistter.telemetry.topics import STREAM_METRICS_TOPIC

logger = logging.getLogger(__name__)

POLL_TIMEOUT = 0.2
JOIN_TIMEOUT = 2.0


class _Tick:
    """Time to publish the fanout's metrics."""


class FanoutActor(SupervisedActor):
    """Feeds every destination queue from the encoder's TS pipe.

    ``status()`` (through the proxy) reports the stream (video PID, packets, keyframes,
    re-alignments) and every destination queue's counters; the same goes on the bus as
    ``metrics.stream`` (``component: fanout``) every ``metrics_interval`` seconds.
    """

    def __init__(
        self,
        link: Link,
        source: TsPipe,
        table: FanoutTable,
        *,
        metrics_interval: float = 1.0,
    ) -> None:
        super().__init__(link)
        self.source = source
        self.table = table
        self.metrics_interval = metrics_interval
        self.scanner = TsScanner()
        self.ahead_scanner = TsScanner()  # a run's output sent ahead of its turn
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._timer: Timer | None = None
        self._discontinuities = 0

    # -- lifecycle (actor thread) ------------------------------------------------------

    def setup(self) -> None:
        """Start the fanout thread. Runs in the actor thread; does not raise in practice."""
        self.table.mark_discontinuity()  # what a previous incarnation left half-sent
        # An unexpected error in the fanout thread crashes the actor (see worker_died).
        self._thread = self.start_worker("fanout", self._run, thread_name="vistter-fanout")
        self._arm_tick()

    def teardown(self) -> None:
        """Stop the thread (it notices within :data:`POLL_TIMEOUT`). Actor thread."""
        self._stopping.set()
        if self._timer is not None:
            self._timer.cancel()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT)

    # -- messages (actor thread) -------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        """Metrics ticks. (A dead fanout thread crashes the actor through ``worker_died``.)"""
        if isinstance(message, _Tick):
            self.link.events.publish(STREAM_METRICS_TOPIC, dict(self._metrics()))
            self._arm_tick()
        return None

    def status(self) -> FanoutStatus:
        """The stream as the fanout sees it and every destination queue. Actor thread."""
        return {
            "state": "running",
            **self._stream_stats(),
            "pipe": self.source.stats().to_dict(),
            "destinations": {
                destination_id: stats.to_dict()
                for destination_id, stats in self.table.stats().items()
            },
        }

    def _stream_stats(self) -> StreamStats:
        scanner = self.scanner
        return {
            "video_pid": scanner.video_pid,
            "pmt_pid": scanner.pmt_pid,
            "packets": scanner.packets,
            "keyframes": scanner.keyframes,
            "skipped_bytes": scanner.aligner.skipped_bytes,
            "realignments": scanner.aligner.resyncs,
            "discontinuities": self._discontinuities,
            "batches": self.table.batches,
        }

    def _metrics(self) -> FanoutMetrics:
        return {
            "component": "fanout",
            **self._stream_stats(),
            "pipe_dropped_bytes": self.source.stats().dropped_bytes,
            "destinations": {
                destination_id: {
                    "queued_bytes": stats.queued_bytes,
                    "bytes_out": stats.bytes_out,
                    "dropped_bytes": stats.dropped_bytes,
                    "resyncs": stats.resyncs,
                    "waiting_for_keyframe": stats.waiting_for_keyframe,
                }
                for destination_id, stats in self.table.stats().items()
            },
        }

    def _arm_tick(self) -> None:
        self._timer = self.post_later(self.metrics_interval, _Tick())

    # -- the fanout thread -------------------------------------------------------------

    def _run(self) -> None:
        """Fanout thread: pipe -> scanner -> every destination queue, until stopping. After
        a restart every destination resumes at the next keyframe."""
        while not self._stopping.is_set():
            chunk = self.source.get(POLL_TIMEOUT)
            if chunk is None:
                continue
            if chunk.ahead and chunk.first_frame is not None:
                self._ahead(chunk.first_frame, chunk.data, gap=chunk.discontinuity)
                continue
            if chunk.discontinuity:
                self._discontinuities += 1
                self.scanner.reset()
                self.table.mark_discontinuity(chunk.first_frame)
            batch = self.scanner.feed(chunk.data)
            if batch is not None:
                self.table.publish(batch, replay=chunk.replay)

    def _ahead(self, first_frame: int, data: bytes, *, gap: bool) -> None:
        """Fanout thread: bytes of the run starting at ``first_frame`` sent ahead of their
        turn, scanned on their own, to the queues waiting for that run."""
        if gap:
            self.ahead_scanner.reset()
            self.table.ahead_gap(first_frame)
        batch = self.ahead_scanner.feed(data)
        if batch is not None:
            self.table.publish_ahead(first_frame, batch)
