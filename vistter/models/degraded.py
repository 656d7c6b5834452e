"""The ``[degraded]`` section: when degraded mode steps the output down, and how far.

Degraded mode keeps the stream on air when the network or the machine cannot carry the
configured encode (see :mod:`vistter.degraded`). Two ladders, each one step at a time:

* a destination congested (its queue growing, or it accepts less than the encode's bitrate)
  lowers the bitrate by ``bitrate_step_percent`` per step, never below
  ``bitrate_floor_percent`` of ``[encoding] bitrate_kbps``;
* the encoder slower than real time, late mixer ticks or the machine's CPU high: overlays
  simplified (only static ones: logos, pictures, fixed texts), then off, then each output
  height of ``heights`` below the program's, then each rate of ``fps_steps`` below the
  program's.

```toml
[degraded]
enabled = true              # false: never step down (signals are still shown)
notice = true               # draw a small "Degraded mode" text on the program while degraded
check_interval = 2          # seconds between two readings of the signals
sustain = 10                # a signal must stay bad this long before a step down
hold = 30                   # every step is kept at least this long
stable = 30                 # this long with every signal good: one step back up
bitrate_step_percent = 20   # each congestion step: bitrate down by this share
bitrate_floor_percent = 40  # never below this share of [encoding] bitrate_kbps
accepted_ratio = 0.9        # congested: a destination accepts less than this x the bitrate ...
queue_seconds = 2.0         # ... or holds more than this many seconds of the bitrate queued
encoder_speed_low = 0.95    # overloaded: ffmpeg's speed below this ...
encoder_speed_good = 0.98   # ... good again only at or above this
late_ticks_percent = 5      # overloaded: more than this share of mixer ticks late
cpu_high_percent = 92       # overloaded: machine CPU above this ...
cpu_good_percent = 80       # ... good again only at or below this
heights = [720, 540, 360]   # output heights to step through (only those below the program's)
fps_steps = [24, 15]        # output rates to step through (only those below the program's)
```
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from vistter.models._types import Flag, Int, Number, PositiveSeconds, StrictModel
from vistter.models.problems import field_error

__all__ = ["DegradedConfig"]

Percent = Annotated[Number, Field(gt=0, lt=100)]


class DegradedConfig(StrictModel):
    """When degraded mode steps the output down and back up (see the module doc)."""

    enabled: Flag = True
    notice: Flag = True
    check_interval: Annotated[PositiveSeconds, Field(le=60)] = 2
    sustain: Annotated[Number, Field(ge=0, le=600)] = 10
    hold: Annotated[Number, Field(ge=1, le=3600)] = 30
    stable: Annotated[Number, Field(ge=1, le=3600)] = 30
    bitrate_step_percent: Percent = 20
    bitrate_floor_percent: Percent = 40
    accepted_ratio: Annotated[Number, Field(gt=0, le=1)] = 0.9
    queue_seconds: Annotated[Number, Field(gt=0, le=60)] = 2.0
    encoder_speed_low: Annotated[Number, Field(gt=0, le=1)] = 0.95
    encoder_speed_good: Annotated[Number, Field(gt=0, le=1)] = 0.98
    late_ticks_percent: Percent = 5
    cpu_high_percent: Annotated[Number, Field(gt=0, le=100)] = 92
    cpu_good_percent: Annotated[Number, Field(gt=0, le=100)] = 80
    heights: tuple[Annotated[Int, Field(ge=90, le=2160)], ...] = (720, 540, 360)
    fps_steps: tuple[Annotated[Int, Field(ge=1, le=60)], ...] = (24, 15)

    @model_validator(mode="after")
    def _consistent(self) -> DegradedConfig:
        if self.encoder_speed_good < self.encoder_speed_low:
            raise field_error(
                "encoder_speed_good",
                f"encoder_speed_good ({self.encoder_speed_good}) is below encoder_speed_low "
                f"({self.encoder_speed_low})",
                "The speed that counts as good again must be at least the speed that counts "
                "as slow, e.g. encoder_speed_low = 0.95 and encoder_speed_good = 0.98.",
            )
        if self.cpu_good_percent > self.cpu_high_percent:
            raise field_error(
                "cpu_good_percent",
                f"cpu_good_percent ({self.cpu_good_percent}) is above cpu_high_percent "
                f"({self.cpu_high_percent})",
                "The CPU share that counts as good again must be at most the one that counts "
                "as high, e.g. cpu_high_percent = 92 and cpu_good_percent = 80.",
            )
        for name, steps in (("heights", self.heights), ("fps_steps", self.fps_steps)):
            if list(steps) != sorted(set(steps), reverse=True):
                raise field_error(
                    name,
                    f"{name} {list(steps)} must go down step by step without repeats",
                    f"List them from the highest to the lowest, e.g. {name} = "
                    f"{[540, 360] if name == 'heights' else [24, 15]}.",
                )
        odd = [height for height in self.heights if height % 2]
        if odd:
            raise field_error(
                "heights",
                f"output height {odd[0]} is odd",
                "Use even heights (yuv420p), e.g. heights = [540, 360].",
            )
        return self
