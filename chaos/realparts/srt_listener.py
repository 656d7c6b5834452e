"""A real SRT listener for tests and the chaos harness: ffmpeg in SRT listener mode.

``ffmpeg -f mpegts -i 'srt://127.0.0.1:PORT?mode=listener' -c copy OUT.ts`` takes one SRT
caller (optionally encrypted with a passphrase) and copies what it receives into a file. Each
:meth:`SrtListener.start` writes a new file (``srt-1.ts``, ``srt-2.ts`` ...) on the SAME port,
so a test can kill the listener, start it again and check the caller came back into the new
file. Readiness is checked with an SRT handshake (UDP), since there is no TCP port to poll.

Binds 127.0.0.1 only, is bounded in time, and ends its process by PID.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from vistter.actors.outputs.reachability import srt_probe

from .ports import LOOPBACK
from .procs import end_process, ffmpeg_exe

__all__ = ["SrtListener", "free_udp_port"]


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nothing is bound to right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


class SrtListener:
    """An SRT listener on 127.0.0.1, as a context manager (see the module doc).

    ``url`` is what a caller publishes to (without the passphrase); ``recording(n)`` is the
    file of the ``n``-th start (1-based); ``stop()`` ends it gracefully, ``kill()`` like a
    crash (SIGKILL), both by PID. Methods run in the caller's thread; not thread-safe.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        passphrase: str | None = None,
        port: int | None = None,
        startup_timeout: float = 10.0,
    ) -> None:
        self.workdir = workdir
        self.passphrase = passphrase
        self.port = port if port is not None else free_udp_port()
        self.startup_timeout = startup_timeout
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``srt://127.0.0.1:<port>``: where a caller publishes."""
        return f"srt://{LOOPBACK}:{self.port}"

    def recording(self, start: int | None = None) -> Path:
        """The file written by the ``start``-th start (default: the latest)."""
        return self.workdir / f"srt-{start if start is not None else self.starts}.ts"

    def received_bytes(self, start: int | None = None) -> int:
        """Bytes written so far into the ``start``-th file (0 when there is none yet)."""
        try:
            return self.recording(start).stat().st_size
        except FileNotFoundError:
            return 0

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def start(self) -> SrtListener:
        """Start listening (on the same port as before) into a new file; wait until an SRT
        handshake is answered. Fails the test with ffmpeg's log when it does not come up."""
        if self.running:
            raise RuntimeError("the SRT listener is running; stop() or kill() it first")
        self.starts += 1
        secret = ["-passphrase", self.passphrase] if self.passphrase else []
        argv = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "warning", *secret,
            "-f", "mpegts", "-i", f"srt://{LOOPBACK}:{self.port}?mode=listener",
            "-map", "0", "-c", "copy", "-f", "mpegts", "-y", str(self.recording()),
        ]  # fmt: skip
        with self._log_path().open("ab") as log:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if not self.running:
                break
            if srt_probe(LOOPBACK, self.port, 0.2).reachable:
                return self
            time.sleep(0.05)
        self.stop()
        pytest.fail(
            f"the SRT listener on port {self.port} did not answer within "
            f"{self.startup_timeout:g} s: {self.log()}",
            pytrace=False,
        )

    def stop(self, grace: float = 3.0) -> int | None:
        """End the listener by PID (terminate, wait, kill); returns its exit code."""
        if self._process is None:
            return None
        return end_process(self._process, grace)

    def kill(self) -> None:
        """Kill the listener at once (SIGKILL by PID), as a crash would, and reap it."""
        process = self._process
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)

    def log(self, limit: int = 2000) -> str:
        """The end of the listener's stderr, for failure messages."""
        try:
            return self._log_path().read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def _log_path(self) -> Path:
        return self.workdir / "srt-listener.log"

    def __enter__(self) -> SrtListener:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
