"""Byte buffers of the mixer, reused only once nobody else holds them.

The mixer hands its output (blended frames, overlay bands) to the encoder through a queue and
never waits for it, so it cannot know when a consumer is done with a buffer. CPython's
reference count does: a buffer that only the pool refers to is free. Any other holder (a
``ProgramFrame`` in the queue, the encoder's local variable, a numpy view or a memoryview of
the buffer; numpy collapses views of views to the owning array) adds to the count, so the
buffer is not overwritten while it is read. This relies on CPython, which Vistter targets.
"""

from __future__ import annotations

import sys

import numpy as np

from vistter.media.frames import Frame

_FREE_REFCOUNT = 2
"""``sys.getrefcount(buffers[i])`` of a buffer only the pool holds: the list slot and the call."""


class BufferPool:
    """Up to ``size`` 1-D ``uint8`` buffers, handed out again once free.

    Owned by one thread (the mixer's; not thread-safe). :meth:`acquire` returns a free buffer
    of at least the bytes asked for, round-robin from after the last one given. Otherwise it
    allocates: a new buffer while fewer than ``size`` exist, else in place of a free buffer
    that is too small, else (every buffer held: a stuck consumer) in place of the oldest slot,
    whose holder keeps the old buffer alive. Every new buffer is counted in :attr:`allocated`,
    so a steady state that allocates nothing shows as a constant count.
    """

    def __init__(self, size: int, *, what: str = "buffer pool") -> None:
        if size < 1:
            raise ValueError(f"a {what} needs at least one buffer, got {size}")
        self.size = size
        self.allocated = 0
        self._buffers: list[Frame] = []
        self._next = 0

    def __len__(self) -> int:
        return len(self._buffers)

    def acquire(self, nbytes: int) -> Frame:
        """A writable buffer of at least ``nbytes`` (uninitialised) that nobody but the pool
        refers to."""
        buffers = self._buffers
        count = len(buffers)
        too_small: int | None = None
        for step in range(count):
            index = (self._next + step) % count
            if sys.getrefcount(buffers[index]) <= _FREE_REFCOUNT:
                if buffers[index].shape[0] >= nbytes:
                    self._next = (index + 1) % count
                    return buffers[index]
                if too_small is None:
                    too_small = index
        fresh = np.empty(nbytes, dtype=np.uint8)
        self.allocated += 1
        if count < self.size:
            buffers.append(fresh)
            self._next = 0
        elif too_small is not None:
            buffers[too_small] = fresh
            self._next = (too_small + 1) % count
        else:
            buffers[self._next] = fresh
            self._next = (self._next + 1) % count
        return fresh
