"""The messages an :class:`~vistter.actors.sources.ingest_actor.IngestSourceActor` posts to
itself: from its frame reader thread (frames flowing, ingest ended), from its clock timers
(watchdog tick, reconnect due, probe due) and from its server probe thread (the answer).

Each carries the ingest ``generation`` or reconnect ``token`` it belongs to, so the actor can
ignore one that arrives after its ingest was replaced or its wait ended.
"""

from __future__ import annotations

from dataclasses import dataclass

from vistter.actors.outputs.reachability import ProbeResult

__all__ = [
    "FramesFlowing",
    "IngestEnded",
    "ProbeAnswer",
    "ProbeDue",
    "ReconnectDue",
    "WatchdogTick",
]


@dataclass(frozen=True)
class FramesFlowing:
    generation: int


@dataclass(frozen=True)
class IngestEnded:
    generation: int


@dataclass(frozen=True)
class WatchdogTick:
    pass


@dataclass(frozen=True)
class ReconnectDue:
    token: int


@dataclass(frozen=True)
class ProbeDue:
    token: int


@dataclass(frozen=True)
class ProbeAnswer:
    token: int
    result: ProbeResult
