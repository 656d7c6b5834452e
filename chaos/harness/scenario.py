"""What a scenario is: a fault to inject into a running rig, and pass criteria to judge.

A scenario module defines one :class:`Scenario` subclass: :meth:`Scenario.options` (what the
rig must hold), :meth:`Scenario.inject` (runs in the runner's thread while the sampler and the
telemetry tap record; it marks when the fault starts and ends) and :meth:`Scenario.judge`
(turns the measurements into :class:`Check` results with the measured figure). An exception
from ``inject`` makes the scenario an ERROR with its message; it never passes silently.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.harness.recordings import DestinationTrace
from chaos.harness.rig import Rig, RigOptions
from chaos.harness.sampler import Sample, Sampler
from chaos.harness.telemetry_tap import TelemetryTap

__all__ = ["Check", "Context", "Measured", "NotInjectable", "Scenario"]


class NotInjectable(RuntimeError):  # noqa: N818 - reads as a verdict, like ConfigInvalid
    """The fault cannot be injected on this machine; the message says why (NOT RUN)."""


@dataclass(frozen=True)
class Check:
    """One pass criterion: ``passed`` with the figure that decided it, in words."""

    criterion: str
    passed: bool
    measured: str


@dataclass
class Context:
    """A running rig and what the harness records about it during one scenario."""

    rig: Rig
    sampler: Sampler
    tap: TelemetryTap
    short: bool
    workdir: Path
    marks: dict[str, float] = field(default_factory=dict)
    windows: list[tuple[float, float, str]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    hurt: list[str] = field(default_factory=list)

    def now(self) -> float:
        return self.sampler.now()

    def mark(self, name: str) -> float:
        """Record the harness time of an event (fault start, fault end...) and return it."""
        self.marks[name] = self.now()
        return self.marks[name]

    def window(self, label: str, start: float, end: float | None = None) -> None:
        """A shaded span on the chart (the fault)."""
        self.windows.append((start, self.now() if end is None else end, label))

    def hold(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))

    def wait_for(self, predicate: Callable[[Sample], bool], timeout: float) -> float | None:
        return self.sampler.wait_for(predicate, timeout)

    def samples(self, after: float = 0.0) -> list[Sample]:
        return [s for s in self.sampler.samples if s.ok and s.t >= after]


@dataclass
class Measured:
    """What the runner measured once the rig stopped (recordings decoded)."""

    traces: dict[str, DestinationTrace]
    start: float
    end: float
    figures: dict[str, Any]


class Scenario:
    """Base of every scenario; subclasses set the class attributes and the three hooks."""

    number: int = 0
    title: str = ""
    criteria: str = ""
    #: seconds of normal running kept before the fault (for the chart and baselines)
    lead_in: float = 4.0

    def options(self, workdir: Path, short: bool) -> RigOptions:
        """The rig this scenario needs; default: cameras 1-3, destinations a, b, srt."""
        return RigOptions()

    def inject(self, ctx: Context) -> None:
        raise NotImplementedError

    def judge(self, ctx: Context, measured: Measured) -> list[Check]:
        raise NotImplementedError

    def cleanup(self) -> None:
        """Undo what options/inject changed outside the rig (mounts, loads). Runs in the
        runner's thread after the rig stopped, even after errors; must not raise."""

    def describe(self) -> dict[str, Any]:
        return {"number": self.number, "title": self.title, "criteria": self.criteria}
