"""The scenarios of issue #12's table, by number."""

from __future__ import annotations

from chaos.harness.scenario import Scenario
from chaos.harness.scenarios.cameras import (
    CameraCrashLoop,
    CameraKill,
    CameraKills100,
    CameraStall,
    EveryCameraDown,
)
from chaos.harness.scenarios.engine import CoresSaturated, EncoderKill
from chaos.harness.scenarios.environment import ClockJump, DiskFull
from chaos.harness.scenarios.outputs import (
    DestinationBlackholed,
    DestinationRefuses,
    DestinationSlow,
    KeyRejected,
)

__all__ = ["SCENARIOS", "by_number"]

SCENARIOS: tuple[type[Scenario], ...] = (
    CameraKill, CameraStall, EveryCameraDown, DestinationBlackholed, DestinationRefuses,
    KeyRejected, EncoderKill, CameraCrashLoop, CoresSaturated, DiskFull, ClockJump,
    CameraKills100, DestinationSlow,
)  # fmt: skip


def by_number(number: int) -> Scenario:
    """A fresh instance of scenario ``number``; ValueError names the valid numbers."""
    for scenario in SCENARIOS:
        if scenario.number == number:
            return scenario()
    raise ValueError(f"no scenario {number}; choose from {[s.number for s in SCENARIOS]}")
