"""Names, counters and the stats record of the fault proxy."""

from __future__ import annotations

from typing import Literal, TypedDict

from vistter.errors import VistterError

Mode = Literal["passthrough", "down", "blackhole", "latency", "bandwidth", "reset"]
MODES: tuple[Mode, ...] = ("passthrough", "down", "blackhole", "latency", "bandwidth", "reset")

COUNTERS = (
    "connections_accepted",
    "connections_refused",
    "connections_reset",
    "target_connect_failures",
    "bytes_to_target",
    "bytes_to_client",
)


class ProxyError(VistterError):
    """The fault proxy was misused or could not do what it was asked."""


class ProxyStats(TypedDict):
    """What :meth:`chaos.proxy.FaultProxy.stats` returns. Totals are sums over ``by_mode``.

    ``by_mode[mode]`` counts what happened while ``mode`` was in force: connections accepted,
    refused (accepted while down, closed at once), reset (by ``reset()`` or the ``reset``
    mode), target connection failures, and bytes written to the target and to the client.
    ``internal_errors`` counts bugs in the proxy itself (logged); tests should expect 0.
    """

    mode: Mode
    listening: bool
    listen: str
    target: str
    connections_accepted: int
    connections_active: int
    connections_refused: int
    connections_reset: int
    target_connect_failures: int
    bytes_to_target: int
    bytes_to_client: int
    internal_errors: int
    by_mode: dict[str, dict[str, int]]


class Counters:
    """Counters kept per mode. Not thread-safe: the proxy touches it on its loop thread only."""

    def __init__(self) -> None:
        self.by_mode: dict[str, dict[str, int]] = {}
        self.internal_errors = 0

    def add(self, mode: Mode, counter: str, n: int = 1) -> None:
        """Add ``n`` to ``counter`` (one of :data:`COUNTERS`) under ``mode``."""
        self.by_mode.setdefault(mode, dict.fromkeys(COUNTERS, 0))[counter] += n

    def snapshot(
        self, *, mode: Mode, listening: bool, listen: str, target: str, active: int
    ) -> ProxyStats:
        """A copy of every counter plus the totals, as :class:`ProxyStats`."""
        by_mode = {name: dict(counts) for name, counts in self.by_mode.items()}

        def total(counter: str) -> int:
            return sum(counts[counter] for counts in by_mode.values())

        return ProxyStats(
            mode=mode,
            listening=listening,
            listen=listen,
            target=target,
            connections_accepted=total("connections_accepted"),
            connections_active=active,
            connections_refused=total("connections_refused"),
            connections_reset=total("connections_reset"),
            target_connect_failures=total("target_connect_failures"),
            bytes_to_target=total("bytes_to_target"),
            bytes_to_client=total("bytes_to_client"),
            internal_errors=self.internal_errors,
            by_mode=by_mode,
        )
