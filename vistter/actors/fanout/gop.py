"""The program's latest group of pictures, kept by the fanout for queues that (re)start.

A destination whose publisher (re)connects starts a new connection, which must begin on a
keyframe. Waiting for the next one costs up to a GOP (2 s); instead the
:class:`~vistter.actors.fanout.table.FanoutTable` keeps the packets from the latest keyframe
on (with the PAT and PMT in force there), and a restarting queue starts with them: a frame
up to one GOP older than the live edge, with timestamps that only go on from there on that
new connection. Bounded by bytes: a GOP larger than the bound is not kept (the queue then
waits for the next keyframe, as before). Forgotten at every discontinuity (a new encoder
run, a gap), so what is kept always belongs to the run now arriving.
"""

from __future__ import annotations

import threading

from vistter.actors.fanout.ts import TsBatch

__all__ = ["DEFAULT_GOP_BYTES", "LastGop"]

DEFAULT_GOP_BYTES = 2 * 1024 * 1024
"""The most a kept GOP may hold (2 s at 8 Mbit/s)."""


class LastGop:
    """The packets since the latest keyframe, numbered by batch. Thread-safe.

    The fanout's thread calls :meth:`add` for every batch (in order, numbered by the
    table) and :meth:`forget` at a discontinuity; a restarting queue reads
    :meth:`snapshot` from its caller's thread.
    """

    def __init__(self, max_bytes: int = DEFAULT_GOP_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._chunks: list[bytes] = []
        self._bytes = 0
        self._seq = 0

    def add(self, batch: TsBatch) -> int:
        """Keep ``batch`` (from its keyframe when it has one); returns its number."""
        with self._lock:
            self._seq += 1
            if batch.keyframes and batch.psi:
                # the PAT and PMT are those in force at the batch's first keyframe
                self._chunks = [batch.psi + batch.data[batch.keyframes[0] :]]
                self._bytes = len(self._chunks[0])
            elif self._chunks:
                self._chunks.append(batch.data)
                self._bytes += len(batch.data)
            if self._bytes > self.max_bytes:
                self._chunks, self._bytes = [], 0
            return self._seq

    def forget(self) -> None:
        """The stream breaks (fanout's thread): nothing is kept until the next keyframe."""
        with self._lock:
            self._chunks, self._bytes = [], 0

    def snapshot(self) -> tuple[tuple[bytes, ...], int]:
        """The kept packets (empty: none) and the number of the last batch they include."""
        with self._lock:
            return tuple(self._chunks), self._seq
