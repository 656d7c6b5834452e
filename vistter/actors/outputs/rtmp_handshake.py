"""The RTMP handshake as a reachability probe: does an RTMP server answer, without publishing?

A TCP connect is not enough: a black-holed server behind a proxy (or a port that something
else owns) accepts connections while nothing gets through. The first step every RTMP client
takes proves the server speaks RTMP: the client sends C0 (the version byte, 3) and C1 (1536
bytes: time, zero, random), the server answers S0 (its version) and S1 (1536 bytes) and then
S2 (the echo of C1). We send C0+C1, read S0+S1+S2, send C2 (the echo of S1) and close: no
``connect`` command, no stream key, nothing published (the server logs a client that
connected and went away). For ``rtmps`` the same runs inside TLS (certificates are not
checked, as ffmpeg does not check them by default: the probe sends nothing secret).
"""

from __future__ import annotations

import os
import socket
import ssl
import struct
import time

from vistter.actors.outputs.reachability import ProbeResult

__all__ = ["HANDSHAKE_SIZE", "rtmp_handshake", "rtmps_handshake"]

RTMP_VERSION = 3
HANDSHAKE_SIZE = 1536


def rtmp_handshake(host: str, port: int, timeout: float = 1.0) -> ProbeResult:
    """Run the RTMP handshake with ``host:port`` over plain TCP.

    Reachable when S0 (version 3) and S1 and S2 (1536 bytes each) come back within
    ``timeout`` seconds in all (name resolution aside). Blocks the calling thread that long
    at most; never raises for network errors.
    """
    return _handshake(host, port, timeout, tls=False)


def rtmps_handshake(host: str, port: int, timeout: float = 1.0) -> ProbeResult:
    """:func:`rtmp_handshake` inside TLS (``rtmps://``)."""
    return _handshake(host, port, timeout, tls=True)


def _handshake(host: str, port: int, timeout: float, *, tls: bool) -> ProbeResult:
    deadline = time.monotonic() + timeout
    c1 = struct.pack(">II", int(time.time()) & 0xFFFFFFFF, 0) + os.urandom(HANDSHAKE_SIZE - 8)
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            conn: socket.socket = raw
            if tls:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE  # ffmpeg does not check either
                conn = context.wrap_socket(raw, server_hostname=host)
            _remaining(conn, deadline)
            conn.sendall(bytes([RTMP_VERSION]) + c1)
            answer = _read(conn, 1 + 2 * HANDSHAKE_SIZE, deadline)
            if answer is None:
                return ProbeResult(host, port, reachable=False,
                                   detail="the server closed the connection mid-handshake")
            if answer[0] != RTMP_VERSION:
                return ProbeResult(host, port, reachable=False,
                                   detail=f"not an RTMP server (version byte {answer[0]})")
            s1 = answer[1 : 1 + HANDSHAKE_SIZE]
            conn.sendall(s1)  # C2: the echo of S1; the handshake is complete
            return ProbeResult(host, port, reachable=True)
    except TimeoutError:
        return ProbeResult(host, port, reachable=False,
                           detail=f"no RTMP handshake answer within {timeout:g} s")
    except ssl.SSLError as exc:
        return ProbeResult(host, port, reachable=False, detail=f"TLS failed: {exc.reason}")
    except OSError as exc:
        return ProbeResult(host, port, reachable=False,
                           detail=exc.strerror or type(exc).__name__)


def _remaining(conn: socket.socket, deadline: float) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    conn.settimeout(left)


def _read(conn: socket.socket, size: int, deadline: float) -> bytes | None:
    """Exactly ``size`` bytes before ``deadline`` (TimeoutError), or None at EOF."""
    data = bytearray()
    while len(data) < size:
        _remaining(conn, deadline)
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)
