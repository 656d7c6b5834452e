"""One bounded queue of MPEG-TS per destination, fed by the fanout, never blocking it.

A destination that is slow, stuck or gone must cost the others nothing. Each has a
:class:`DestinationQueue` bounded by bytes. When a batch would overflow it, the whole
backlog is dropped (and counted) and the queue *resyncs*: it discards what arrives until a
packet that starts a video keyframe, then hands on the latest PAT and PMT followed by that
keyframe and everything after it. So whatever a destination receives after a loss starts
cleanly, and a destination that fell more than its capacity behind skips to the live edge
instead of trickling out stale video.

Why drop the whole backlog rather than just enough of its oldest bytes: trimming the head
would leave the destination a stream that restarts mid-GOP (undecodable until the next
keyframe) *and* then breaks again at the resync point; dropping it all leaves one clean
cut.

:class:`~vistter.actors.fanout.table.FanoutTable` holds the queues by destination id.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass

from vistter.actors.fanout.gop import LastGop
from vistter.actors.fanout.on_air import OnAir
from vistter.actors.fanout.ts import PACKET_SIZE, TsBatch
from vistter.errors import ConfigError

__all__ = [
    "DEFAULT_CAPACITY_BYTES",
    "MAX_CHUNK_BYTES",
    "MIN_CAPACITY_BYTES",
    "DestinationQueue",
    "DestinationQueueStats",
]

DEFAULT_CAPACITY_BYTES = 8 * 1024 * 1024
MAX_CHUNK_BYTES = (64 * 1024 // PACKET_SIZE) * PACKET_SIZE
"""The most :meth:`DestinationQueue.get` returns at once: 348 packets (65 424 bytes)."""
MIN_CAPACITY_BYTES = 2 * MAX_CHUNK_BYTES


@dataclass(frozen=True, slots=True)
class DestinationQueueStats:
    """Counters of one destination queue (bytes unless said otherwise).

    ``bytes_in`` is what the fanout offered; ``bytes_out`` what the destination took
    (including re-sent PAT/PMT packets); ``dropped_bytes`` what it lost after it had
    started (backlog dropped on overflow or resync, packets discarded while waiting for a
    keyframe); ``skipped_bytes`` what passed before its first keyframe.
    """

    destination_id: str
    capacity_bytes: int
    queued_bytes: int
    bytes_in: int
    bytes_out: int
    dropped_bytes: int
    skipped_bytes: int
    resyncs: int
    overflows: int
    waiting_for_keyframe: bool

    @property
    def dropped_packets(self) -> int:
        return self.dropped_bytes // PACKET_SIZE

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "dropped_packets": self.dropped_packets}


class DestinationQueue:
    """The TS bytes waiting for one destination. Thread-safe.

    Threads: the fanout's thread calls :meth:`put` (never blocks beyond a short lock); the
    destination's writer thread calls :meth:`get`; the destination actor calls
    :meth:`resync` when its publisher (re)connects. A new queue waits for a keyframe
    before it holds anything.

    A queue with a ``gate`` (a platform destination, see :mod:`vistter.actors.fanout.on_air`)
    takes nothing while the gate is off air, and after it goes on air with a first frame
    resumes at the start of the first encoder run that begins at or after that program frame
    (:meth:`mark_discontinuity` names each run's first frame), which is a keyframe. Such a
    queue takes that run *ahead* of its turn (:meth:`put_ahead`, while the run before it
    still drains for the others) and then skips the same bytes in their turn (``replay``).
    ``last_gop``: where a (re)starting queue finds the latest keyframe and what followed
    (see :mod:`vistter.actors.fanout.gop`; None: it waits for the next keyframe).
    ``clock`` is kept for callers; the gate no longer reads time.
    """

    def __init__(
        self,
        destination_id: str,
        capacity_bytes: int = DEFAULT_CAPACITY_BYTES,
        *,
        max_chunk_bytes: int = MAX_CHUNK_BYTES,
        gate: OnAir | None = None,
        clock: Callable[[], float] = time.monotonic,
        last_gop: LastGop | None = None,
        ahead_gop: LastGop | None = None,
    ) -> None:
        if capacity_bytes < MIN_CAPACITY_BYTES:
            raise ConfigError(
                f"destination {destination_id!r}: a queue of {capacity_bytes} bytes is too "
                "small for the program stream.",
                hint=f"Give it at least {MIN_CAPACITY_BYTES} bytes (the default is 8 MiB).",
            )
        if max_chunk_bytes < PACKET_SIZE:
            raise ValueError(f"max_chunk_bytes must be at least one packet ({PACKET_SIZE})")
        self.destination_id = destination_id
        self.capacity_bytes = capacity_bytes
        self.max_chunk_bytes = max_chunk_bytes - max_chunk_bytes % PACKET_SIZE
        self._cond = threading.Condition()
        self._chunks: deque[bytes] = deque()
        self._queued = 0
        self._waiting = True
        self._started = False
        self._closed = False
        self._bytes_in = 0
        self._bytes_out = 0
        self._dropped = 0
        self._skipped = 0
        self._resyncs = 0
        self._overflows = 0
        self.gate = gate
        self._clock = clock
        self._run_first: int | None = None  # the first frame of the encoder run arriving
        self._last_gop = last_gop
        self._ahead_gop = ahead_gop  # the same, for the run sent ahead of its turn
        self._skip_ahead_through = 0
        self._ahead_run: int | None = None  # the run this queue now takes ahead of its turn
        self._taken_ahead: int | None = None  # the last run whose start it took ahead
        self._skip_through = 0  # batches up to this number came with a kept GOP

    # -- fanout side -------------------------------------------------------------------

    def put(self, batch: TsBatch, *, seq: int | None = None, replay: bool = False) -> None:
        """Offer a batch of whole packets in its turn (``seq``: its number in the table;
        ``replay``: bytes that went ahead before). Never blocks; may drop (see the module
        doc)."""
        with self._cond:
            if self._closed or (seq is not None and seq <= self._skip_through):
                return
            ahead = self._ahead_run
            if ahead is not None:
                if self._off_air():
                    self._ahead_run = None
                elif self._run_first != ahead:
                    return  # the tail of the run before, which this queue never takes
                else:
                    self._ahead_run = None  # the run's own turn: it goes on in it
            if replay and self._taken_ahead is not None and self._taken_ahead == self._run_first:
                return  # this queue has these bytes already
            self._bytes_in += len(batch.data)
            self._take(batch, gated=True)

    def put_ahead(self, first_frame: int, batch: TsBatch, *, seq: int | None = None) -> None:
        """Offer a batch of the encoder run starting at program frame ``first_frame`` ahead
        of its turn: taken only by a gated queue on air that waits for that run (or already
        takes it ahead). Called by the fanout's thread; never blocks."""
        with self._cond:
            if self._closed or (seq is not None and seq <= self._skip_ahead_through):
                return
            if self._ahead_run != first_frame:
                if not self._waits_for(first_frame):
                    return
                self._drop_backlog()
                self._ahead_run = self._taken_ahead = first_frame
                self._waiting = True
            elif self._off_air():
                self._ahead_run = None
                return
            self._bytes_in += len(batch.data)
            self._take(batch, gated=False)

    def ahead_gap(self, first_frame: int) -> None:
        """Bytes of the run ahead were lost (fanout's thread): resume it at a keyframe."""
        with self._cond:
            if self._ahead_run == first_frame:
                self._waiting = True

    def _take(self, batch: TsBatch, *, gated: bool) -> None:
        """Queue ``batch`` (lock held): the gate, overflow and keyframe wait apply."""
        data = batch.data
        if gated and self._held():
            self._drop_backlog()
            self._waiting = True
            self._discard(len(data))
            return
        if not self._waiting and self._queued + len(data) > self.capacity_bytes:
            self._overflows += 1
            self._resyncs += 1
            self._drop_backlog()
            self._waiting = True
        if self._waiting:
            if not batch.keyframes or not batch.psi:
                self._discard(len(data))
                return
            start = batch.keyframes[0]
            self._discard(start)
            data = batch.psi + data[start:]
            self._waiting = False
            self._started = True
            if self._queued + len(data) > self.capacity_bytes:
                self._drop_backlog()  # a backlog kept across a discontinuity
        self._chunks.append(data)
        self._queued += len(data)
        self._cond.notify()

    def mark_discontinuity(self, first_frame: int | None = None) -> None:
        """The stream breaks here (a new encoder run starting at program frame
        ``first_frame``, a gap): keep the backlog, which is good, but take nothing new until
        the next keyframe. Called by the fanout's thread.

        A new run starts with its PAT, PMT and a keyframe, with timestamps that go on, so a
        destination's publisher just continues (no reconnect). A queue that takes the run
        ``first_frame`` ahead goes on in it; one that takes a run ahead ignores a gap in
        the tail of the run before."""
        with self._cond:
            ahead = self._ahead_run
            if ahead is not None:
                if first_frame == ahead:
                    self._run_first = first_frame
                    return
                if first_frame is None and self._run_first != ahead:
                    return
                self._ahead_run = None
            self._waiting = True
            if first_frame is not None:
                self._run_first = first_frame

    def close(self) -> None:
        """Stop taking data and wake a waiting :meth:`get` (the destination was detached)."""
        with self._cond:
            self._closed = True
            self._dropped += self._queued
            self._chunks.clear()
            self._queued = 0
            self._cond.notify_all()

    # -- destination side --------------------------------------------------------------

    def get(self, timeout: float) -> bytes | None:
        """Up to :attr:`max_chunk_bytes` of whole packets, oldest first.

        Blocks the calling thread (the destination's writer) up to ``timeout`` seconds of
        real time; returns None on timeout or once the queue is closed.
        """
        with self._cond:
            if not self._chunks and not self._closed:
                self._cond.wait(timeout)
            if not self._chunks:
                return None
            first = self._chunks.popleft()
            if len(first) > self.max_chunk_bytes:
                out = first[: self.max_chunk_bytes]
                self._chunks.appendleft(first[self.max_chunk_bytes :])
            else:
                parts = [first]
                size = len(first)
                while self._chunks and size + len(self._chunks[0]) <= self.max_chunk_bytes:
                    part = self._chunks.popleft()
                    parts.append(part)
                    size += len(part)
                out = first if len(parts) == 1 else b"".join(parts)
            self._queued -= len(out)
            self._bytes_out += len(out)
            return out

    def resync(self) -> None:
        """Drop the backlog and start again at the next keyframe, PAT and PMT first.

        For a destination whose publisher (re)connects: a new ffmpeg must start at a
        keyframe. With a kept GOP (``last_gop``) it starts at once at the latest keyframe
        (the connection is new: its timestamps go on from that frame), unless the gate
        holds it; one that takes a run ahead starts at that run's latest keyframe. Any
        thread.
        """
        with self._cond:
            self._drop_backlog()
            if self._started:
                self._resyncs += 1
            self._waiting = True
            ahead = self._ahead_run is not None
            kept = self._ahead_gop if ahead else self._last_gop
            if kept is None or (not ahead and self._held()):
                return
            chunks, seq = kept.snapshot()  # lock order: queue, then GOP
            size = sum(len(chunk) for chunk in chunks)
            if not chunks or size > self.capacity_bytes:
                return
            self._chunks.extend(chunks)
            self._queued += size
            if ahead:  # the batches the GOP holds may still be on their way
                self._skip_ahead_through = seq
            else:
                self._skip_through = seq
            self._waiting = False
            self._started = True
            self._cond.notify()

    def reset(self) -> None:
        """The same as :meth:`resync`."""
        self.resync()

    # -- reading state -----------------------------------------------------------------

    def stats(self) -> DestinationQueueStats:
        with self._cond:
            return DestinationQueueStats(
                destination_id=self.destination_id,
                capacity_bytes=self.capacity_bytes,
                queued_bytes=self._queued,
                bytes_in=self._bytes_in,
                bytes_out=self._bytes_out,
                dropped_bytes=self._dropped,
                skipped_bytes=self._skipped,
                resyncs=self._resyncs,
                overflows=self._overflows,
                waiting_for_keyframe=self._waiting,
            )

    @property
    def bytes_in(self) -> int:
        with self._cond:
            return self._bytes_in

    @property
    def bytes_out(self) -> int:
        with self._cond:
            return self._bytes_out

    @property
    def dropped_bytes(self) -> int:
        with self._cond:
            return self._dropped

    @property
    def resyncs(self) -> int:
        with self._cond:
            return self._resyncs

    @property
    def queued_bytes(self) -> int:
        with self._cond:
            return self._queued

    @property
    def waiting_for_keyframe(self) -> bool:
        with self._cond:
            return self._waiting

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    # -- internals (lock held) ---------------------------------------------------------

    def _off_air(self) -> bool:
        return self.gate is not None and not self.gate.on_air

    def _waits_for(self, first_frame: int) -> bool:
        """A gated queue on air, held back until the run starting at ``first_frame``."""
        gate = self.gate
        if gate is None or not self._held():
            return False
        wanted = gate.first_frame
        return gate.on_air and wanted is not None and first_frame >= wanted

    def _held(self) -> bool:
        """Off air, or on air but waiting to resume while the encoder run arriving began
        before the show's first frame (or is not known)."""
        gate = self.gate
        if gate is None:
            return False
        if not gate.on_air:
            return True
        first = gate.first_frame
        if not self._waiting or first is None:
            return False
        return self._run_first is None or self._run_first < first

    def _drop_backlog(self) -> None:
        self._dropped += self._queued
        self._chunks.clear()
        self._queued = 0

    def _discard(self, count: int) -> None:
        if self._started:
            self._dropped += count
        else:
            self._skipped += count
