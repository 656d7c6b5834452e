"""Status payloads of the supervision runtime, typed so the checker sees their keys.

Built by supervisors (``describe``) and their handles (``tree``); served as JSON by
``GET /api/supervision`` and summarised by ``GET /api/health``.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

__all__ = ["HistoryPayload", "SupervisorDescription", "TreeNode"]


class HistoryPayload(TypedDict):
    """How one child incarnation ended: when (monotonic seconds), why, and the error."""

    at: float
    reason: str
    error: str | None


class SupervisorDescription(TypedDict):
    """A supervisor's own flags and how many restarts lie within its intensity window."""

    strategy: str
    intensity: int
    period: float
    recent_restarts: int


class TreeNode(TypedDict):
    """One node of the supervision tree readout.

    A child node carries its slot (``id``, ``path``, ``restart_type``, ``restarts``,
    ``history``, ``pids``); a supervisor node also its flags (``intensity``, ``period``,
    ``recent_restarts``). The node a handle builds for its own supervisor has no slot keys
    (the root's tree adds them). ``strategy`` is None for a worker.
    """

    kind: str
    actor: str
    state: str
    strategy: str | None
    children: list[TreeNode]
    id: NotRequired[str]
    path: NotRequired[str]
    restart_type: NotRequired[str]
    restarts: NotRequired[int]
    history: NotRequired[list[HistoryPayload]]
    pids: NotRequired[list[int]]
    intensity: NotRequired[int]
    period: NotRequired[float]
    recent_restarts: NotRequired[int]
