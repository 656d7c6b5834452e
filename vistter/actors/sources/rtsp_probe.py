"""A cheap probe of a camera's RTSP server: one ``OPTIONS`` request, no credentials.

While a camera waits out its reconnect backoff (up to 10 s), its actor probes the server
about once a second (see :class:`~vistter.actors.sources.ingest_actor.IngestSourceActor`);
when a server that did not answer answers again, the wait ends and the camera reconnects at
once. ``OPTIONS`` is the cheapest RTSP request: no session, no media, and any answer (even
``401 Unauthorized``) shows that the server is up. The request carries the camera's URL
*without* user or password, so nothing secret goes on the wire or into a log. A stopped
server (SIGSTOP) accepts the TCP connection but never answers: the protocol's answer, not
the connect, is what counts.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from vistter.actors.outputs.reachability import ProbeResult, ReachabilityProbe
from vistter.supervisors.worker import WorkerDeathCallback

__all__ = ["RTSP_PORT", "RtspTarget", "ServerComeback", "rtsp_options_probe", "rtsp_target"]

RTSP_PORT = 554
_MAX_ANSWER = 4096


@dataclass(frozen=True)
class RtspTarget:
    """Where a camera's RTSP server is, and its URL without credentials."""

    host: str
    port: int
    url: str

    def check(self, host: str, port: int, timeout: float) -> ProbeResult:
        """A :data:`~vistter.actors.outputs.reachability.ProbeCheck` for this URL."""
        return rtsp_options_probe(host, port, timeout, url=self.url)


def rtsp_target(url: str) -> RtspTarget | None:
    """The probe target of a plain ``rtsp://`` (or ``rtspt://``) camera URL; None for any
    other URL (``rtsps`` would need TLS, ``lavfi:`` and files have no server)."""
    try:
        parts = urlsplit(url)
        port = parts.port or RTSP_PORT
    except ValueError:
        return None
    if parts.scheme.lower() not in ("rtsp", "rtspt") or not parts.hostname:
        return None
    host = parts.hostname
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    clean = urlunsplit(("rtsp", netloc, parts.path or "/", parts.query, ""))
    return RtspTarget(host, port, clean)


def rtsp_options_probe(host: str, port: int, timeout: float, *, url: str) -> ProbeResult:
    """Send ``OPTIONS <url> RTSP/1.0`` to ``host:port`` and wait up to ``timeout`` s for an
    RTSP status line. Reachable on any RTSP answer. Blocks the calling thread that long at
    most (plus name resolution); never raises for network errors."""
    request = (
        f"OPTIONS {url} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: vistter-probe\r\n\r\n"
    ).encode("ascii", "replace")
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(request)
            answer = conn.recv(_MAX_ANSWER)
    except OSError as exc:
        detail = "no RTSP answer" if isinstance(exc, TimeoutError) else exc.strerror
        return ProbeResult(host, port, reachable=False, detail=detail or type(exc).__name__)
    if not answer.startswith(b"RTSP/"):
        return ProbeResult(host, port, reachable=False, detail="not an RTSP answer")
    return ProbeResult(host, port, reachable=True)


class ServerComeback:
    """Tells when a camera's server that was seen down answers again.

    The owning actor probes (:meth:`probe`, at most one in flight, in a short-lived daemon
    thread) while its reconnect waits, and feeds each result to :meth:`came_back`. Only a
    *return* ends the wait: a server seen down since the last reconnect attempt
    (:meth:`attempted`) that answers now. A server that answers all along while its stream
    fails (a wrong path, a camera that refuses the session) never ends a wait early, so it
    is retried at the backoff's pace, not at the probe's. ``on_error`` is called in the probe
    thread if the probe fails unexpectedly (pass the actor's ``worker_died``).
    """

    def __init__(self, target: RtspTarget, *, on_error: WorkerDeathCallback, name: str,
                 timeout: float = 1.0) -> None:
        self.target = target
        self._probe = ReachabilityProbe(target.host, target.port, on_error=on_error,
                                        timeout=timeout, name=name, check=target.check)
        self._seen_down = False

    def attempted(self) -> None:
        """A reconnect attempt starts (actor thread): a return must be seen anew."""
        self._seen_down = False

    def probe(self, on_result: Callable[[ProbeResult], None]) -> bool:
        """Start one probe unless one is in flight (actor thread); ``on_result`` runs in the
        probe thread and must only post a message."""
        return self._probe.start(on_result)

    def came_back(self, result: ProbeResult) -> bool:
        """Whether ``result`` shows the server back after being seen down (actor thread)."""
        if not result.reachable:
            self._seen_down = True
            return False
        return self._seen_down

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for a probe in flight (actor thread, at teardown)."""
        self._probe.join(timeout)
