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

:class:`FanoutTable` holds the queues by destination id. Both outlive the fanout and the
destination actors (the appliance creates them), so a restarted destination finds its
queue and its counters again.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass

from vistter.actors.fanout.on_air import OnAir
from vistter.actors.fanout.ts import PACKET_SIZE, TsBatch
from vistter.errors import ConfigError

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
    (:meth:`mark_discontinuity` names each run's first frame), which is a keyframe.
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

    # -- fanout side -------------------------------------------------------------------

    def put(self, batch: TsBatch) -> None:
        """Offer a batch of whole packets. Never blocks; may drop (see the module doc)."""
        with self._cond:
            if self._closed:
                return
            self._bytes_in += len(batch.data)
            data = batch.data
            if self._held():
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
        destination's publisher just continues (no reconnect)."""
        with self._cond:
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
        keyframe. Any thread.
        """
        with self._cond:
            self._drop_backlog()
            if self._started:
                self._resyncs += 1
            self._waiting = True

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

    def publish(self, batch: TsBatch) -> None:
        """Offer ``batch`` to every queue. Runs in the fanout's thread; never blocks."""
        self.batches += 1
        self.bytes += len(batch.data)
        for queue in self._snapshot:
            queue.put(batch)

    def mark_discontinuity(self, first_frame: int | None = None) -> None:
        """Every queue takes nothing new until the next keyframe; ``first_frame``: a new
        encoder run starts there (fanout's thread)."""
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
