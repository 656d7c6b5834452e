"""A hardware encoder that keeps failing on air is replaced by the software one.

The trial encode at start-up (:mod:`vistter.actors.encoder.hwaccel`) proves that a hardware
encoder opens, not that it lasts: a driver may fail after minutes, a GPU may reset. Each
failure crashes the encoder actor and its supervisor restarts it with the same choice, so a
broken hardware encoder would burn through the program's restart intensity. An
:class:`EncoderFallback` outlives the encoder actors (the tree makes one): it counts the
failures of a hardware choice, and after :data:`FALLBACK_FAILURES` within
:data:`FALLBACK_WINDOW` seconds the next encoder runs ``libx264`` for the life of the
appliance, with an alert (:func:`fallback_alert`) that says which encoder failed, how often,
and ffmpeg's own words. Thread-safe; the encoder actor calls it from its thread.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from vistter.actors.encoder.hwaccel import CANDIDATES, EncoderChoice, Trial

__all__ = ["FALLBACK_FAILURES", "FALLBACK_WINDOW", "EncoderFallback", "fallback_alert"]

FALLBACK_FAILURES = 3
FALLBACK_WINDOW = 120.0
SOFTWARE = next(candidate for candidate in CANDIDATES if candidate.encoder == "libx264")


class EncoderFallback:
    """The encoder to use now: the detected choice, until a hardware one fails too often."""

    def __init__(self, choice: EncoderChoice, *, failures: int = FALLBACK_FAILURES,
                 window: float = FALLBACK_WINDOW) -> None:  # fmt: skip
        self._lock = threading.Lock()
        self._choice = choice
        self.failures = failures
        self.window = window
        self._failed_at: deque[float] = deque()

    @property
    def choice(self) -> EncoderChoice:
        with self._lock:
            return self._choice

    def failed(self, now: float, reason: str) -> EncoderChoice | None:
        """The running encode failed at ``now`` (monotonic seconds) because of ``reason``.
        Returns the software choice when this failure makes the encoder fall back (once),
        else None."""
        with self._lock:
            if not self._choice.hardware:
                return None
            self._failed_at.append(now)
            while self._failed_at and now - self._failed_at[0] > self.window:
                self._failed_at.popleft()
            if len(self._failed_at) < self.failures:
                return None
            hardware = self._choice
            trial = Trial(hardware.encoder, "failed",
                          f"failed {len(self._failed_at)} times in {self.window:g} s on air "
                          f"({reason})")  # fmt: skip
            self._choice = EncoderChoice(
                SOFTWARE, f"software after {hardware.encoder} kept failing",
                (*hardware.trials, trial),
            )
            return self._choice


def fallback_alert(failed: str, choice: EncoderChoice) -> dict[str, Any]:
    """The ``alert`` payload saying the encoder fell back from ``failed`` to ``choice``."""
    why = next((t.reason for t in reversed(choice.trials) if t.encoder == failed), "")
    return {
        "severity": "warning", "source": "encoder", "kind": "encoder_software",
        "message": f"The hardware encoder {failed} {why}; encoding in software "
                   f"({choice.encoder}) from now on.",
        "hint": "The stream runs, with more CPU. Check the hardware encoder's driver, or set "
                "[encoding] encoder = \"libx264\" to choose software on purpose; Vistter "
                "tries the hardware encoder again at its next start.",
        "encoder": choice.encoder, "failed": failed,
    }  # fmt: skip
