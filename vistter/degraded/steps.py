"""The rungs of degraded mode's two ladders, and what a level of each means for the output.

A :class:`LadderPlan` is built once from ``[degraded]``, ``[encoding]`` and the program's
format:

* ``bitrates``: the configured bitrate, then ``bitrate_step_percent`` less per rung, down to
  ``bitrate_floor_percent`` of the configured one (the last rung is the floor itself);
* ``load``: overlays simplified, overlays off, then every height of ``heights`` below the
  program's, then every rate of ``fps_steps`` below the program's.

:meth:`LadderPlan.degradation` says what a :class:`Level` (a rung on each ladder) changes:
the :class:`~vistter.actors.encoder.overrides.EncodeOverrides` for the encoder, the overlay
mode for the mixer, and the steps in words for the status and the alerts. Pure values; any
thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from vistter.actors.encoder.overrides import EncodeOverrides
from vistter.actors.program.overlay_gate import OverlayMode
from vistter.models.degraded import DegradedConfig

__all__ = ["Degradation", "LadderPlan", "Level", "LoadStep"]


@dataclass(frozen=True, slots=True)
class LoadStep:
    """One rung of the load ladder: ``overlays`` (value: the mode), ``height`` or ``fps``."""

    what: str
    value: OverlayMode | int

    def describe(self) -> str:
        if self.what == "overlays":
            return f"overlays {self.value}"
        if self.what == "height":
            return f"output {self.value}p"
        return f"output {self.value} fps"


@dataclass(frozen=True, slots=True)
class Level:
    """How far down each ladder is: 0 is "as configured"."""

    bitrate: int = 0
    load: int = 0

    @property
    def normal(self) -> bool:
        return self.bitrate == 0 and self.load == 0


@dataclass(frozen=True, slots=True)
class Degradation:
    """What a level changes."""

    overrides: EncodeOverrides
    overlays: OverlayMode
    steps: tuple[str, ...]
    """Every step active, in words (e.g. ``"bitrate 3600 kbps (80 %)"``, ``"output 540p"``)."""


@dataclass(frozen=True, slots=True)
class LadderPlan:
    """The rungs of both ladders for one configuration (see the module doc)."""

    bitrates: tuple[int, ...]
    load: tuple[LoadStep, ...]

    @classmethod
    def build(cls, config: DegradedConfig, bitrate_kbps: int, height: int, fps: int) -> LadderPlan:
        floor = max(100, round(bitrate_kbps * config.bitrate_floor_percent / 100))
        factor = 1 - config.bitrate_step_percent / 100
        bitrates = [bitrate_kbps]
        while bitrates[-1] > floor:
            bitrates.append(max(floor, round(bitrates[-1] * factor)))
        load = [LoadStep("overlays", OverlayMode.SIMPLIFIED), LoadStep("overlays", OverlayMode.OFF)]
        load += [LoadStep("height", value) for value in config.heights if value < height]
        load += [LoadStep("fps", value) for value in config.fps_steps if value < fps]
        return cls(tuple(bitrates), tuple(load))

    @property
    def max_level(self) -> Level:
        return Level(len(self.bitrates) - 1, len(self.load))

    def degradation(self, level: Level) -> Degradation:
        """What ``level`` changes (clamped to the plan's rungs)."""
        configured = self.bitrates[0]
        bitrate_rung = min(max(level.bitrate, 0), len(self.bitrates) - 1)
        active = self.load[: min(max(level.load, 0), len(self.load))]
        steps: list[str] = []
        bitrate: int | None = None
        if bitrate_rung:
            bitrate = self.bitrates[bitrate_rung]
            steps.append(f"bitrate {bitrate} kbps ({round(100 * bitrate / configured)} %)")
        overlays = OverlayMode.FULL
        height: int | None = None
        fps: int | None = None
        for step in active:
            if isinstance(step.value, OverlayMode):
                overlays = step.value
            elif step.what == "height":
                height = int(step.value)
            else:
                fps = int(step.value)
        if overlays is not OverlayMode.FULL:
            steps.append(f"overlays {overlays}")
        if height is not None:
            steps.append(f"output {height}p")
        if fps is not None:
            steps.append(f"output {fps} fps")
        return Degradation(EncodeOverrides(bitrate, height, fps), overlays, tuple(steps))
