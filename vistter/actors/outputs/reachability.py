"""A cheap reachability probe for a destination that is waiting to retry.

While a destination waits out a long retry delay, a plain TCP connect to the server's
host and port every couple of seconds tells when the network (or the server) is back, so
the destination can reconnect within seconds instead of waiting out a 60 s delay. The probe
opens and closes a TCP connection and sends nothing: no RTMP handshake, no stream key.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["DEFAULT_PORTS", "ProbeResult", "ReachabilityProbe", "endpoint_of", "tcp_probe"]

#: Default TCP ports of the URL schemes a destination can use.
DEFAULT_PORTS = {"rtmp": 1935, "rtmps": 443, "rtmpt": 80, "rtmpts": 443}


@dataclass(frozen=True)
class ProbeResult:
    """Whether ``host:port`` accepted a TCP connection; ``detail`` says why not."""

    host: str
    port: int
    reachable: bool
    detail: str = ""


def endpoint_of(url: str) -> tuple[str, int]:
    """``(host, port)`` of a server URL (``rtmp://host[:port]/app``).

    The URL must not need its stream key to be parsed (pass the URL without the key).
    Raises :class:`ValueError` for a URL without a host or with an unknown scheme and no port.
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise ValueError("the destination URL has no host name")
    port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    if port is None:
        raise ValueError(f"no default port for URL scheme {parts.scheme!r}; put one in the URL")
    return host, port


def tcp_probe(host: str, port: int, timeout: float = 1.0) -> ProbeResult:
    """Try one TCP connection to ``host:port`` and close it at once.

    Blocks the calling thread for at most about ``timeout`` seconds per address (name
    resolution may take longer when DNS is down). Never raises for network errors.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return ProbeResult(host, port, reachable=True)
    except OSError as exc:
        detail = exc.strerror or type(exc).__name__
        return ProbeResult(host, port, reachable=False, detail=detail)


ProbeCallback = Callable[[ProbeResult], None]
ErrorCallback = Callable[[BaseException], None]


class ReachabilityProbe:
    """Runs one :func:`tcp_probe` at a time in a short-lived daemon thread.

    ``start(on_result)`` returns at once; the result goes to ``on_result`` in the probe thread
    (it should only post a message to its actor). If ``on_result`` raises, or the probe itself
    fails unexpectedly, the exception goes to ``on_error`` (in the probe thread), which should
    crash the owning actor. Thread-safe.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        on_error: ErrorCallback,
        timeout: float = 1.0,
        name: str = "probe",
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self._on_error = on_error
        self._name = name
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        """True while a probe is in flight."""
        with self._lock:
            return self._thread is not None and self._thread.is_alive()

    def start(self, on_result: ProbeCallback) -> bool:
        """Start a probe unless one is still in flight; returns whether one was started."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._thread = threading.Thread(
                target=self._run,
                args=(on_result,),
                name=f"vistter-{self._name}-probe",
                daemon=True,
            )
            self._thread.start()
            return True

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for a probe in flight to end."""
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self, on_result: ProbeCallback) -> None:
        try:
            on_result(tcp_probe(self.host, self.port, self.timeout))
        except Exception as exc:
            self._on_error(exc)
