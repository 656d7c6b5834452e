"""Free TCP ports on 127.0.0.1 and waiting for a port to accept connections."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    The kernel picks it (bind to port 0), so two calls in a row return different ports. Another
    process could still take it before the caller binds it; on a test box that is rare.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def port_accepts(port: int, host: str = LOOPBACK, timeout: float = 0.2) -> bool:
    """True when a TCP connect to ``host:port`` succeeds now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until_accepts(
    port: int,
    timeout: float,
    *,
    host: str = LOOPBACK,
    still_starting: Callable[[], bool] = lambda: True,
) -> bool:
    """Poll ``host:port`` until it accepts a connection; False after ``timeout`` seconds.

    ``still_starting`` is asked between attempts; when it returns False (the server process
    died) waiting stops at once and the result is False.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_accepts(port, host):
            return True
        if not still_starting():
            return False
        time.sleep(0.05)
    return port_accepts(port, host)
