"""The fanout table: every destination's queue by destination id.

:class:`FanoutTable` holds the :class:`~vistter.actors.fanout.queue.DestinationQueue` of each
destination, the platforms' on-air switch and the latest GOP (see
:mod:`vistter.actors.fanout.gop`). It outlives the fanout and the destination actors (the
appliance creates it), so a restarted destination finds its queue and its counters again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from vistter.actors.fanout.gop import LastGop
from vistter.actors.fanout.on_air import OnAir
from vistter.actors.fanout.queue import (
    DEFAULT_CAPACITY_BYTES,
    MAX_CHUNK_BYTES,
    MIN_CAPACITY_BYTES,
    DestinationQueue,
    DestinationQueueStats,
)
from vistter.actors.fanout.ts import TsBatch

__all__ = [
    "DEFAULT_CAPACITY_BYTES",
    "MAX_CHUNK_BYTES",
    "MIN_CAPACITY_BYTES",
    "DestinationQueue",
    "DestinationQueueStats",
    "FanoutTable",
]


class FanoutTable:
    """The destination queues by destination id. Thread-safe.

    The fanout's thread calls :meth:`publish` for every batch; destination actors call
    :meth:`attach` in their ``setup`` and (when removed for good) :meth:`detach`.
    ``publish`` takes no lock: it reads an immutable snapshot of the queues.
    """

    def __init__(
        self,
        default_capacity_bytes: int = DEFAULT_CAPACITY_BYTES,
        *,
        air: OnAir | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.default_capacity_bytes = default_capacity_bytes
        self.air = air if air is not None else OnAir()
        """The on-air switch of the platform destinations (see :meth:`gate`)."""
        self._clock = clock
        self._gated: set[str] = set()
        self._lock = threading.Lock()
        self._queues: dict[str, DestinationQueue] = {}
        self._snapshot: tuple[DestinationQueue, ...] = ()
        self._run_first: int | None = None
        self.last_gop = LastGop()
        """The latest keyframe and what followed, for queues that (re)start."""
        self.ahead_gop = LastGop()
        """The same for the encoder run sent ahead of its turn."""
        self.batches = 0
        self.bytes = 0

    def attach(self, destination_id: str, capacity_bytes: int | None = None) -> DestinationQueue:
        """The queue of ``destination_id``, created if needed.

        Attaching an id that already has a queue (a restarted destination actor) returns
        that queue, resynced: backlog dropped, next data starts at a keyframe; its capacity
        and counters stay.
        """
        with self._lock:
            queue = self._queues.get(destination_id)
            if queue is None:
                queue = DestinationQueue(
                    destination_id,
                    capacity_bytes if capacity_bytes is not None else self.default_capacity_bytes,
                    gate=self.air if destination_id in self._gated else None,
                    clock=self._clock,
                    last_gop=self.last_gop,
                    ahead_gop=self.ahead_gop,
                )
                if self._run_first is not None:
                    queue.mark_discontinuity(self._run_first)
                self._queues[destination_id] = queue
                self._snapshot = tuple(self._queues.values())
                return queue
        queue.resync()
        return queue

    def gate(self, destination_id: str) -> None:
        """``destination_id`` takes the program only while :attr:`air` is on air (a
        platform destination). Call it before the destination attaches (the tree does)."""
        with self._lock:
            self._gated.add(destination_id)
            queue = self._queues.get(destination_id)
        if queue is not None:
            queue.gate = self.air

    def air_for(self, destination_id: str) -> OnAir | None:
        """The on-air switch ``destination_id`` follows, or None when it always takes the
        program."""
        with self._lock:
            return self.air if destination_id in self._gated else None

    def detach(self, destination_id: str) -> None:
        """Remove and close the queue of ``destination_id`` (no-op if it has none); it is
        no longer gated."""
        with self._lock:
            self._gated.discard(destination_id)
            queue = self._queues.pop(destination_id, None)
            self._snapshot = tuple(self._queues.values())
        if queue is not None:
            queue.close()

    def get(self, destination_id: str) -> DestinationQueue | None:
        with self._lock:
            return self._queues.get(destination_id)

    def queues(self) -> list[DestinationQueue]:
        return list(self._snapshot)

    def stats(self) -> dict[str, DestinationQueueStats]:
        return {queue.destination_id: queue.stats() for queue in self._snapshot}

    def publish(self, batch: TsBatch, *, replay: bool = False) -> None:
        """Offer ``batch`` to every queue (``replay``: bytes that went ahead before, see
        :meth:`publish_ahead`). Runs in the fanout's thread; never blocks."""
        self.batches += 1
        self.bytes += len(batch.data)
        seq = self.last_gop.add(batch)
        for queue in self._snapshot:
            queue.put(batch, seq=seq, replay=replay)

    def publish_ahead(self, first_frame: int, batch: TsBatch) -> None:
        """Offer ``batch`` of the encoder run starting at ``first_frame``, ahead of its turn,
        to the queues waiting for that run. Fanout's thread; never blocks."""
        seq = self.ahead_gop.add(batch)
        for queue in self._snapshot:
            queue.put_ahead(first_frame, batch, seq=seq)

    def ahead_gap(self, first_frame: int) -> None:
        """The run sent ahead lost bytes, or its ahead stream starts (fanout's thread)."""
        self.ahead_gop.forget()
        for queue in self._snapshot:
            queue.ahead_gap(first_frame)

    def mark_discontinuity(self, first_frame: int | None = None) -> None:
        """Every queue takes nothing new until the next keyframe; ``first_frame``: a new
        encoder run starts there (fanout's thread)."""
        self.last_gop.forget()
        with self._lock:
            if first_frame is not None:
                self._run_first = first_frame
            queues = self._snapshot
        for queue in queues:
            queue.mark_discontinuity(first_frame)

    @property
    def run_first_frame(self) -> int | None:
        """The program frame the encoder run now arriving started at (None: not known)."""
        with self._lock:
            return self._run_first
