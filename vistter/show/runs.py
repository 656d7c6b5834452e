"""The execution record of each run of the show, through the injected recorder.

A run starts when the show goes live on a *stored* timeline (one with a database id) and
finishes as ``completed`` (a timeline that does not loop reached its end), ``stopped`` (by
the operator) or ``error``, with metrics: frames and seconds on air, armed changes that
reached the program and how many landed late (and by how much at most), and the run's
counters (pauses, jumps, overrides, live texts). The execution id lives in the ShowState,
so a restarted orchestrator still closes the run it did not open. A recorder that fails is
logged and alerted; the show goes on.
"""

from __future__ import annotations

import logging

from vistter.show.context import ShowContext
from vistter.show.controls import ExecutionRecorder, FinalStatus
from vistter.show.payloads import RunMetrics
from vistter.supervisors.link import EventSink
from vistter.telemetry.topics import ALERT_TOPIC

__all__ = ["RunLog"]

logger = logging.getLogger(__name__)


class RunLog:
    """Opens and closes execution records. Runs in the caller's thread (the orchestrator's)."""

    def __init__(
        self, context: ShowContext, recorder: ExecutionRecorder | None, events: EventSink
    ) -> None:
        self.context = context
        self.show = context.show
        self._recorder = recorder
        self._events = events

    def start(self) -> None:
        """A run goes live now (recorded only for a stored timeline)."""
        db_id = self.show.timeline_db_id
        self.show.execution_id = None
        if self._recorder is None or db_id is None:
            return
        try:
            self.show.execution_id = self._recorder.start(db_id)
        except Exception as exc:  # a broken log must not stop the show
            self._failed("start", exc)

    def finish(self, status: FinalStatus, error: str | None) -> None:
        """The run ends with ``status`` (and ``error`` text for an error)."""
        execution_id = self.show.execution_id
        if self._recorder is None or execution_id is None:
            return
        self.show.execution_id = None
        try:
            self._recorder.finish(execution_id, status, error, self.metrics())
        except Exception as exc:  # a broken log must not stop the show
            self._failed("finish", exc)

    def metrics(self) -> RunMetrics:
        program = self.context.program
        since = self.show.live_since
        frames = max(0, program.horizon - since) if since is not None else 0
        effects = [e for e in program.effects()
                   if e.tag and not e.tag.startswith("override")]
        late = [e.late_frames for e in effects if e.requested is not None]
        metrics = RunMetrics(
            frames=frames, seconds=frames / self.context.fmt.fps,
            changes=len(effects), late_changes=sum(1 for x in late if x > 0),
            max_late_frames=max(late, default=0),
        )
        for name, value in self.show.counters().items():
            metrics[name] = value
        return metrics

    def _failed(self, what: str, exc: Exception) -> None:
        logger.exception("show: the execution record could not %s", what)
        self._events.publish(ALERT_TOPIC, {
            "severity": "warning", "kind": "execution_record", "one_shot": True,
            "message": f"the execution record could not {what}: {exc}",
            "hint": "Check the database (disk space, permissions); the show goes on.",
        })
