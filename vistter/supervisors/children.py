"""What a supervisor knows about each of its children, and how it shows them.

A :class:`ChildRecord` is one child slot: its spec and start arguments, its current
incarnation (link and ref, while it runs), its state, restart count, pending restart timer,
heartbeat probe and the history of how its incarnations ended. :class:`ChildInfo` is the
read-only view ``which_children`` returns (the supervision tree readout of the API).

Records are owned by one :class:`~vistter.supervisors.supervisor.Supervisor` and used only in
its actor thread.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import pykka

from vistter.clock import Timer
from vistter.supervisors.heartbeat import HeartbeatProbe
from vistter.supervisors.link import Exit, Link
from vistter.supervisors.payloads import HistoryPayload
from vistter.supervisors.spec import ChildKind, ChildSpec, RestartType

__all__ = ["HISTORY_LENGTH", "ChildInfo", "ChildRecord", "HistoryEntry"]

HISTORY_LENGTH = 20
"""How many past incarnations a child's history keeps."""


@dataclass(frozen=True)
class HistoryEntry:
    """One way a child incarnation ended."""

    at: float
    reason: str
    error: str | None

    def to_dict(self) -> HistoryPayload:
        return {"at": self.at, "reason": self.reason, "error": self.error}


@dataclass(frozen=True)
class ChildInfo:
    """A child as ``which_children`` shows it."""

    id: str
    path: str
    kind: ChildKind
    actor: str
    state: str
    restart_type: RestartType
    restarts: int
    history: tuple[HistoryEntry, ...]
    pids: tuple[int, ...]
    ref: pykka.ActorRef[Any] | None


@dataclass
class ChildRecord:
    """One child of a supervisor.

    ``state`` is ``stopped``, ``starting``, ``running``, ``exited`` or ``restarting`` (a
    delayed restart or a retry is pending). ``delayed_attempt`` counts delayed restarts for
    the spec's ``restart_delay`` backoff.
    """

    spec: ChildSpec
    args: tuple[Any, ...] = ()
    link: Link | None = None
    ref: pykka.ActorRef[Any] | None = None
    state: str = "stopped"
    restarts: int = 0
    started_at: float = 0.0
    delayed_attempt: int = 0
    restart_timer: Timer | None = None
    heartbeat: HeartbeatProbe | None = None
    history: deque[HistoryEntry] = field(default_factory=lambda: deque(maxlen=HISTORY_LENGTH))

    @property
    def id(self) -> str:
        return self.spec.id

    def record(self, exit_: Exit) -> None:
        """Add how an incarnation ended to the history."""
        self.history.append(HistoryEntry(exit_.at, exit_.reason.value, exit_.error))

    def forget_incarnation(self, exit_: Exit) -> None:
        """The current incarnation ended with ``exit_``: record it and drop its link, ref
        and heartbeat probe."""
        self.record(exit_)
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        self.link = self.ref = self.heartbeat = None
        self.state = "exited"

    def cancel_timers(self) -> None:
        """Cancel a pending delayed restart and the heartbeat probe."""
        if self.restart_timer is not None:
            self.restart_timer.cancel()
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        self.restart_timer = None
        self.heartbeat = None

    def info(self, supervisor_path: str) -> ChildInfo:
        """The read-only view of this child under the supervisor at ``supervisor_path``."""
        return ChildInfo(
            id=self.id,
            path=f"{supervisor_path}/{self.id}",
            kind=self.spec.kind,
            actor=self.ref.actor_class.__name__ if self.ref is not None else "",
            state=self.state,
            restart_type=self.spec.restart,
            restarts=self.restarts,
            history=tuple(self.history),
            pids=tuple(self.link.processes.pids()) if self.link is not None else (),
            ref=self.ref,
        )
