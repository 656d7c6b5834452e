"""The ladder policy: when to step down, when to step back up, and never to flap.

:class:`LadderPolicy` is pure: it is given the time (the injected clock's) and the two
:class:`~vistter.degraded.signals.Reading` s at each check and answers with the new
:class:`~vistter.degraded.steps.Level` when a step is due. Each ladder (network: bitrate;
load: overlays, size, rate) has its own timers:

* **down**: the signal has been *bad* for ``sustain`` seconds without a break, and the
  ladder's last step is at least ``hold`` seconds old: one rung down;
* **up**: the signal has been *good* (not merely "not bad": the marginal band between the
  thresholds is the hysteresis) for ``stable`` seconds without a break, and the last step is
  at least ``hold`` seconds old: one rung back up; the next one needs another ``stable``;
* **relapse**: a step down within ``2 x stable`` of a step back up means the higher rung
  does not hold (a destination capped just below it): the stable time needed on that ladder
  doubles, up to 8 x, so it probes upward less and less often instead of flapping; it is
  back to 1 x once the ladder is back to normal and has stayed good for ``4 x stable``.

Runs in the caller's thread (the degraded-mode actor's); never raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from vistter.degraded.signals import Reading, Signals, Verdict
from vistter.degraded.steps import Level
from vistter.models.degraded import DegradedConfig

__all__ = ["LadderPolicy", "Step"]

MAX_PATIENCE = 8.0


@dataclass(frozen=True, slots=True)
class Step:
    """A change of level: which ladder, which way, and why (with figures)."""

    ladder: str
    """``network`` or ``load``."""
    down: bool
    reason: str
    level: Level


class _Ladder:
    """The timers of one ladder."""

    def __init__(self, name: str, rungs: int) -> None:
        self.name = name
        self.rungs = rungs
        self.rung = 0
        self.bad_since: float | None = None
        self.good_since: float | None = None
        self.changed_at: float | None = None
        self.up_at: float | None = None
        self.patience = 1.0
        self.reason = ""

    def observe(self, now: float, reading: Reading) -> None:
        if reading.verdict is Verdict.BAD:
            self.good_since = None
            self.bad_since = now if self.bad_since is None else self.bad_since
            self.reason = reading.reason
        elif reading.verdict is Verdict.GOOD:
            self.bad_since = None
            self.good_since = now if self.good_since is None else self.good_since
        else:
            self.bad_since = self.good_since = None

    def held(self, now: float, hold: float) -> bool:
        return self.changed_at is None or now - self.changed_at >= hold


class LadderPolicy:
    """Decides the level at each check (see the module doc)."""

    def __init__(self, config: DegradedConfig, max_level: Level) -> None:
        self.config = config
        self._network = _Ladder("network", max_level.bitrate)
        self._load = _Ladder("load", max_level.load)

    @property
    def level(self) -> Level:
        return Level(self._network.rung, self._load.rung)

    def patience(self, ladder: str) -> float:
        """How many times ``stable`` the ladder now waits before a step back up."""
        return (self._network if ladder == "network" else self._load).patience

    def check(self, now: float, signals: Signals) -> Step | None:
        """The step due at ``now`` given ``signals`` (at most one per check), or None.

        With ``[degraded] enabled = false`` the timers run but no step is taken."""
        steps = [self._decide(now, ladder, reading)
                 for ladder, reading in ((self._network, signals.network),
                                         (self._load, signals.load))]
        for step in steps:
            if step is not None:
                return step
        return None

    def _decide(self, now: float, ladder: _Ladder, reading: Reading) -> Step | None:
        config = self.config
        ladder.observe(now, reading)
        hold, stable = float(config.hold), float(config.stable) * ladder.patience
        if not config.enabled:
            return None
        if ladder.bad_since is not None and now - ladder.bad_since >= config.sustain \
                and ladder.held(now, hold) and ladder.rung < ladder.rungs:
            if ladder.up_at is not None and now - ladder.up_at <= 2 * float(config.stable) \
                    * ladder.patience:
                ladder.patience = min(MAX_PATIENCE, ladder.patience * 2)
            ladder.rung += 1
            ladder.changed_at = now
            ladder.bad_since = now  # the next rung needs its own sustained signal
            return Step(ladder.name, True, ladder.reason, self.level)
        if ladder.good_since is not None and ladder.rung > 0 \
                and now - ladder.good_since >= stable and ladder.held(now, hold):
            ladder.rung -= 1
            ladder.changed_at = ladder.up_at = now
            ladder.good_since = now  # the next rung up needs another stable period
            return Step(ladder.name, False, "", self.level)
        if ladder.rung == 0 and ladder.patience > 1 and ladder.good_since is not None \
                and now - ladder.good_since >= 4 * float(config.stable):
            ladder.patience = 1.0
        return None

    def reset_level(self, level: Level) -> None:
        """Set the rungs (clamped), e.g. to keep what a previous incarnation applied."""
        self._network.rung = max(0, min(level.bitrate, self._network.rungs))
        self._load.rung = max(0, min(level.load, self._load.rungs))

