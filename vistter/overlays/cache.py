"""A small least-recently-used cache for rendered overlays, bounded by entry count.

An executor caches each (cue, live text) rendering so a cue shown again is not drawn again.
Live texts come from operators (and clients of the API): without a bound, every distinct
text would keep a frame-sized layer alive for the rest of the run.

Not thread-safe: use it from one thread (its owner actor's).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

__all__ = ["DEFAULT_RENDER_CACHE", "RenderCache"]

K = TypeVar("K")
V = TypeVar("V")

DEFAULT_RENDER_CACHE = 16
"""Renderings an overlay track keeps."""


class RenderCache(Generic[K, V]):
    """``get``/``[key] = value`` with at most ``size`` entries (the least recently used go)."""

    def __init__(self, size: int = DEFAULT_RENDER_CACHE) -> None:
        if size < 1:
            raise ValueError(f"a render cache needs room for at least 1 entry, not {size}")
        self._size = size
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The cached value (now the most recently used), or ``None``."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
