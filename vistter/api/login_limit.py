"""Rate limit of console logins, per client address.

Each address may make ``attempts`` login attempts that fail within a sliding ``window`` of
seconds; beyond that its logins are refused with 429 until the oldest failure leaves the
window (the answer's ``Retry-After``). An attempt counts *before* the password is checked (a
right password then takes it back), so a burst of parallel guesses from one address is
bounded too, not only a sequence. At most :data:`MAX_ADDRESSES` addresses are tracked (the
least recently seen is forgotten first), so a flood of addresses cannot fill memory.

Methods may be called from any thread (one lock); none blocks or raises.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque

from vistter.clock import Clock

__all__ = ["MAX_ADDRESSES", "LoginLimiter"]

MAX_ADDRESSES = 4096


class LoginLimiter:
    """Failed (and in-flight) login attempts per client address, in a sliding window."""

    def __init__(
        self, clock: Clock, attempts: int, window: float, max_addresses: int = MAX_ADDRESSES
    ) -> None:
        if attempts < 1 or window <= 0:
            raise ValueError("a login limit needs at least one attempt and a positive window")
        self._clock = clock
        self._attempts = attempts
        self._window = float(window)
        self._max_addresses = max_addresses
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def begin(self, address: str) -> int:
        """Count one attempt from ``address``: 0 when it may go on, else the whole seconds to
        wait (the attempt is then not counted)."""
        now = self._clock.monotonic()
        with self._lock:
            times = self._failures.get(address)
            if times is None:
                times = self._failures[address] = deque()
                while len(self._failures) > self._max_addresses:
                    self._failures.popitem(last=False)
            self._failures.move_to_end(address)
            while times and times[0] <= now - self._window:
                times.popleft()
            if len(times) >= self._attempts:
                return max(1, math.ceil(times[0] + self._window - now))
            times.append(now)
            return 0

    def succeeded(self, address: str) -> None:
        """The attempt had the right password: forget the address's failures."""
        with self._lock:
            self._failures.pop(address, None)
