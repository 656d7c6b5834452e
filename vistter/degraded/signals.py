"""Degraded mode's two signals, measured between two readings: network and load.

:class:`SignalReader` turns what was measured since its previous reading into two
:class:`Reading` s, each ``good``, ``marginal`` or ``bad`` with a reason an operator can read
(figures included). The band between the "bad" and the "good" thresholds (``marginal``) is
the hysteresis: it neither steps down nor counts as stable.

* **network**: every platform destination that is ``live`` (its last state on
  ``event.destination``; the recorder and the preview are not the network), judged by its
  *backlog*: its fanout queue plus what its publisher's TCP connection holds unacknowledged
  (:mod:`vistter.degraded.sockets`), and by what the server *accepted* (taken from the
  queue, less the growth of that send queue): *bad* when it lost data (its queue
  overflowed or dropped), holds more than ``queue_seconds`` of the stream, or accepts less
  than ``accepted_ratio`` of what the fanout offered while its backlog grows; *good* when it
  lost nothing, holds at most half of that and accepts at least ``accepted_ratio`` of it.
  The worst destination decides.
* **load**: the encoder's speed over the window (seconds of output per second, from ffmpeg's
  ``-progress``; below ``encoder_speed_low`` is bad, from ``encoder_speed_good`` good), the
  share of the program clock's late ticks (above ``late_ticks_percent`` bad, below half of
  it good), the machine's CPU (above ``cpu_high_percent`` bad, at most ``cpu_good_percent``
  good). The worst decides; a figure that did not arrive lately is not judged.

:meth:`SignalReader.read` runs in the degraded-mode actor's thread; it raises whatever a
broken source of figures raises (the actor logs it and skips that check).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from vistter.actors.fanout.table import DestinationQueueStats
from vistter.clock import Clock
from vistter.degraded.board import EncoderFigures, MixerFigures, SignalBoard
from vistter.degraded.sockets import send_backlog
from vistter.models.degraded import DegradedConfig

__all__ = ["NOT_NETWORK", "Reading", "SignalReader", "SignalSource", "Signals", "Verdict"]

NOT_NETWORK = frozenset({"recorder", "preview"})
"""Output kinds whose congestion is not the network's (local disk, browser viewers)."""
STALE_AFTER = 15.0
"""Seconds after which a figure that stopped arriving is no longer judged."""


class Verdict(enum.IntEnum):
    GOOD = 0
    MARGINAL = 1
    BAD = 2


@dataclass(frozen=True, slots=True)
class Reading:
    verdict: Verdict
    reason: str


GOOD = Reading(Verdict.GOOD, "")


@dataclass(frozen=True, slots=True)
class Signals:
    network: Reading
    load: Reading


class SignalSource(Protocol):
    def read(self) -> Signals:
        """The signals since the previous call (raises when a figure cannot be read)."""


def _worst(readings: list[Reading]) -> Reading:
    return max(readings, key=lambda reading: reading.verdict, default=GOOD)


@dataclass(frozen=True, slots=True)
class _QueueSample:
    at: float
    stats: DestinationQueueStats
    in_socket: int
    """Bytes the publisher's TCP connection holds unacknowledged (0 when unknown)."""


class SignalReader:
    """Measures the signals between two calls of :meth:`read` (see the module doc)."""

    def __init__(
        self,
        config: DegradedConfig,
        board: SignalBoard,
        queues: Callable[[], Mapping[str, DestinationQueueStats]],
        clock: Clock,
        socket_backlog: Callable[[int], int | None] = send_backlog,
    ) -> None:
        self.config = config
        self._board = board
        self._queues = queues
        self._clock = clock
        self._socket_backlog = socket_backlog
        self._queue_samples: dict[str, _QueueSample] = {}
        self._encoder: EncoderFigures | None = None
        self._speed: float | None = None
        self._mixer: MixerFigures | None = None

    def read(self) -> Signals:
        now = self._clock.monotonic()
        board = self._board.snapshot()
        live = {
            output_id: output.pid for output_id, output in board.outputs.items()
            if output.state == "live" and output.kind not in NOT_NETWORK
        }  # fmt: skip
        network: list[Reading] = []
        samples: dict[str, _QueueSample] = {}
        for destination_id, stats in self._queues().items():
            pid = live.get(destination_id)
            in_socket = (self._socket_backlog(pid) or 0) if pid is not None else 0
            sample = _QueueSample(now, stats, in_socket)
            samples[destination_id] = sample
            before = self._queue_samples.get(destination_id)
            if destination_id in live and before is not None and now > before.at:
                network.append(self._destination(destination_id, before, sample))
        self._queue_samples = samples
        load = [self._encoder_reading(now, board.encoder), self._mixer_reading(now, board.mixer)]
        if board.cpu is not None and now - board.cpu[0] <= STALE_AFTER:
            load.append(self._cpu_reading(board.cpu[1]))
        return Signals(_worst(network), _worst(load))

    # -- network -----------------------------------------------------------------------

    def _destination(self, name: str, before: _QueueSample, after: _QueueSample) -> Reading:
        config = self.config
        seconds = after.at - before.at
        old, new = before.stats, after.stats
        offered_kbps = (new.bytes_in - old.bytes_in) * 8 / 1000 / seconds
        accepted = new.bytes_out - old.bytes_out - (after.in_socket - before.in_socket)
        accepted_kbps = max(0.0, accepted * 8 / 1000 / seconds)
        lost = new.dropped_bytes > old.dropped_bytes or new.overflows > old.overflows
        limit = config.queue_seconds * offered_kbps * 1000 / 8
        backlog = new.queued_bytes + after.in_socket
        grew = backlog > old.queued_bytes + before.in_socket
        slow = accepted_kbps < config.accepted_ratio * offered_kbps
        figures = (f"destination '{name}' accepted {accepted_kbps:.0f} kbps of the "
                   f"{offered_kbps:.0f} kbps stream, {backlog / 1e6:.1f} MB queued")
        if lost:
            return Reading(Verdict.BAD, f"{figures}, data dropped")
        if offered_kbps <= 0:
            return GOOD
        if slow and grew:
            return Reading(Verdict.BAD, figures)
        if backlog > limit:
            waiting = backlog * 8 / 1000 / offered_kbps
            return Reading(Verdict.BAD, f"destination '{name}' has {backlog / 1e6:.1f} MB "
                           f"({waiting:.1f} s) of the {offered_kbps:.0f} kbps stream waiting")
        if not slow and backlog <= limit / 2:
            return GOOD
        return Reading(Verdict.MARGINAL, figures)

    # -- load --------------------------------------------------------------------------

    def _encoder_reading(self, now: float, figures: EncoderFigures | None) -> Reading:
        config = self.config
        if figures is None or now - figures.at > STALE_AFTER:
            self._encoder, self._speed = None, None
            return GOOD
        before = self._encoder
        if before is None:
            self._speed = figures.speed  # ffmpeg's own figure until there is a window
        elif figures.at > before.at:
            window = figures.at - before.at
            if figures.pid == before.pid and figures.out_time is not None \
                    and before.out_time is not None and figures.out_time >= before.out_time:
                self._speed = (figures.out_time - before.out_time) / window
            else:
                self._speed = figures.speed  # a new encode: its counters start again
        self._encoder = figures
        speed = self._speed
        if speed is None:
            return GOOD
        text = f"the encoder runs at {speed:.2f}x real time"
        if speed < config.encoder_speed_low:
            return Reading(Verdict.BAD, text)
        if speed >= config.encoder_speed_good:
            return GOOD
        return Reading(Verdict.MARGINAL, text)

    def _mixer_reading(self, now: float, figures: MixerFigures | None) -> Reading:
        before = self._mixer
        if figures is None or now - figures.at > STALE_AFTER:
            self._mixer = None
            return GOOD
        self._mixer = figures
        if before is None or figures.frames <= before.frames or figures.late_ticks < \
                before.late_ticks:
            return GOOD  # no window yet, or a restarted mixer's counters
        late = figures.late_ticks - before.late_ticks
        share = 100.0 * late / (figures.frames - before.frames)
        text = f"{share:.0f} % of the program clock's ticks were late ({late} ticks)"
        if share > self.config.late_ticks_percent:
            return Reading(Verdict.BAD, text)
        if share < self.config.late_ticks_percent / 2:
            return GOOD
        return Reading(Verdict.MARGINAL, text)

    def _cpu_reading(self, cpu: float) -> Reading:
        text = f"the machine's CPU is {cpu:.0f} % busy"
        if cpu > self.config.cpu_high_percent:
            return Reading(Verdict.BAD, text)
        if cpu <= self.config.cpu_good_percent:
            return GOOD
        return Reading(Verdict.MARGINAL, text)
