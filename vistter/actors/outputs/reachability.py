"""Cheap reachability probes for a destination that is waiting to retry.

While a destination waits out a long retry delay, a probe of the server every couple of
seconds tells when the network (or the server) is back, so the destination can reconnect
within seconds instead of waiting out a 60 s delay. Each output kind names its probe (see
:mod:`vistter.actors.outputs.registry`):

* RTMP(S): the RTMP handshake (C0/C1 -> S0/S1/S2, inside TLS for rtmps), then closed: no
  ``connect``, no stream key (:mod:`vistter.actors.outputs.rtmp_handshake`);
* :func:`tcp_probe`, a plain TCP connect, for anything else;
* SRT: one SRT *induction* handshake over UDP (the first, stateless step of a caller's
  connection: no stream is opened, no passphrase is sent). SRT is UDP, so only the
  protocol's own handshake can tell that a listener answers.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from vistter.supervisors.worker import WorkerDeathCallback, run_worker

__all__ = [
    "DEFAULT_PORTS",
    "ProbeCheck",
    "ProbeResult",
    "ProbeTarget",
    "ReachabilityProbe",
    "endpoint_of",
    "srt_probe",
    "tcp_probe",
]

#: Default TCP ports of the URL schemes a destination can use.
DEFAULT_PORTS = {"rtmp": 1935, "rtmps": 443, "rtmpt": 80, "rtmpts": 443}


@dataclass(frozen=True)
class ProbeResult:
    """Whether ``host:port`` answered the probe; ``detail`` says why not."""

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


_SRT_HANDSHAKE = 0x80000000  # control packet, type 0 (handshake)
_SRT_INDUCTION = 1
_SRT_HEADER = struct.Struct(">IIII")
_SRT_CIF = struct.Struct(">IHHIIIIII")  # version .. SYN cookie; the peer address follows


def srt_probe(host: str, port: int, timeout: float = 1.0) -> ProbeResult:
    """Send one SRT induction handshake to ``host:port`` (UDP) and wait for the listener's.

    Reachable when an SRT handshake of the induction type comes back within ``timeout``
    seconds. Blocks the calling thread that long at most (plus name resolution). Never
    raises for network errors.
    """
    socket_id = int.from_bytes(os.urandom(4), "big") & 0x7FFFFFFF
    sequence = int.from_bytes(os.urandom(4), "big") & 0x7FFFFFFF
    packet = _SRT_HEADER.pack(_SRT_HANDSHAKE, 0, 0, 0) + _SRT_CIF.pack(
        4, 0, 2, sequence, 1500, 8192, _SRT_INDUCTION, socket_id, 0
    ) + bytes(16)
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, kind, proto) as udp:
            udp.settimeout(timeout)
            udp.connect(address)  # so that a closed port answers "refused" at once
            udp.send(packet)
            answer = udp.recv(2048)
    except OSError as exc:
        detail = "no SRT answer" if isinstance(exc, TimeoutError) else exc.strerror
        return ProbeResult(host, port, reachable=False, detail=detail or type(exc).__name__)
    if len(answer) < _SRT_HEADER.size + _SRT_CIF.size:
        return ProbeResult(host, port, reachable=False, detail="not an SRT answer")
    word0 = _SRT_HEADER.unpack_from(answer)[0]
    fields = _SRT_CIF.unpack_from(answer, _SRT_HEADER.size)
    if word0 & 0xFFFF0000 != _SRT_HANDSHAKE or fields[6] != _SRT_INDUCTION:
        return ProbeResult(host, port, reachable=False, detail="not an SRT handshake")
    return ProbeResult(host, port, reachable=True)


#: A probe of ``(host, port)`` with a timeout: :func:`tcp_probe` or :func:`srt_probe`.
ProbeCheck = Callable[[str, int, float], ProbeResult]


@dataclass(frozen=True)
class ProbeTarget:
    """What to probe for one destination: where, and with which protocol's check."""

    host: str
    port: int
    check: ProbeCheck = tcp_probe


ProbeCallback = Callable[[ProbeResult], None]


class ReachabilityProbe:
    """Runs one probe (``check``, default :func:`tcp_probe`) at a time in a short-lived
    daemon thread.

    ``start(on_result)`` returns at once; the result goes to ``on_result`` in the probe thread
    (it should only post a message to its actor). If ``on_result`` raises, or the probe itself
    fails unexpectedly, ``on_error("reachability probe", exc)`` runs in the probe thread; pass
    the actor's ``worker_died``, which crashes the actor. Thread-safe.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        on_error: WorkerDeathCallback,
        timeout: float = 1.0,
        name: str = "probe",
        check: ProbeCheck = tcp_probe,
    ) -> None:
        self.host = host
        self.port = port
        self.check = check
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
        run_worker(
            "reachability probe",
            lambda: on_result(self.check(self.host, self.port, self.timeout)),
            self._on_error, owner=self._name,
        )  # fmt: skip
