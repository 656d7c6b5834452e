"""Simulated IP cameras for tests: ``gst_rtsp_server.py`` under the system Python.

:class:`RtspCameraServer` launches the script with ``/usr/bin/python3`` (which has
``python3-gi``; the venv does not), waits for its READY line, and serves each
:class:`SimulatedCamera` at ``rtsp://127.0.0.1:<port>/<name>`` (pull over TCP). It simulates
the two camera faults of DESIGN.md section 6:

- a dead camera: :meth:`RtspCameraServer.stop` ends the server (clients see the connection
  close), :meth:`RtspCameraServer.start` brings it back on the SAME port;
- a stalled camera: :meth:`RtspCameraServer.pause` sends SIGSTOP (sockets stay open, no data
  flows), :meth:`RtspCameraServer.resume` sends SIGCONT; late frames are dropped, so the
  stream resumes at the current time.

Fails the test loudly (never skips) when GStreamer or the RTSP server is missing.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from .ports import LOOPBACK
from .procs import end_process

SYSTEM_PYTHON = "/usr/bin/python3"
CREDENTIALS_VARIABLE = "VISTTER_TEST_RTSP_CREDENTIALS"  # read by gst_rtsp_server.py
SERVER_SCRIPT = Path(__file__).with_name("gst_rtsp_server.py")
INSTALL_HINT = (
    "install the GStreamer RTSP server for the system Python (run "
    "scripts/install-system-deps.sh as root; it installs python3-gi, "
    "gir1.2-gst-rtsp-server-1.0 and the gstreamer1.0-plugins-{base,good,ugly})"
)


@dataclass(frozen=True)
class SimulatedCamera:
    """One test-pattern camera. ``pattern`` is a videotestsrc pattern nick: smpte, ball,
    snow, red, green, blue, white, black, checkers-1... (solid colours suit pixel checks)."""

    name: str = "cam1"
    pattern: str = "smpte"
    width: int = 320
    height: int = 240
    fps: int = 15

    def argument(self) -> str:
        return f"{self.name}:{self.pattern}:{self.width}x{self.height}:{self.fps}"


class RtspCameraServer:
    """A GStreamer RTSP server process serving one or more :class:`SimulatedCamera`.

    With ``credentials=(user, password)`` every camera needs RTSP Basic authentication (a
    client without them gets 401); the user name must not contain ``:``.

    Use as a context manager; leaving the block ends the server by PID. Methods run in the
    caller's thread and are not thread-safe. A daemon thread per server process drains its
    output (to detect READY and keep the last lines for failure messages); it ends when the
    process does.
    """

    def __init__(
        self,
        cameras: Sequence[SimulatedCamera] = (SimulatedCamera(),),
        *,
        ready_timeout: float = 15.0,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        if not cameras:
            raise ValueError("give at least one SimulatedCamera")
        if credentials is not None and ":" in credentials[0]:
            raise ValueError("the RTSP user name cannot contain ':'")
        self.cameras = {camera.name: camera for camera in cameras}
        if len(self.cameras) != len(cameras):
            raise ValueError(f"camera names must be unique: {[c.name for c in cameras]}")
        self.ready_timeout = ready_timeout
        self.credentials = credentials
        self.port = 0  # chosen by the server on first start, reused on every restart
        self._process: subprocess.Popen[bytes] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=50)
        self._paused = False

    def url(self, name: str = "cam1") -> str:
        """``rtsp://127.0.0.1:<port>/<name>`` of a running camera."""
        if name not in self.cameras:
            raise ValueError(f"no camera {name!r}; cameras: {sorted(self.cameras)}")
        if self.port == 0:
            raise RuntimeError("the camera server was never started; call start() first")
        return f"rtsp://{LOOPBACK}:{self.port}/{name}"

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def paused(self) -> bool:
        return self._paused

    def start(self) -> None:
        """Start the server (on the same port as before, if it ran already) and wait for READY.

        Fails the test with the server's output when it is not ready within ``ready_timeout``.
        """
        if self.running:
            raise RuntimeError("the camera server is already running; stop() it first")
        if not Path(SYSTEM_PYTHON).is_file():
            pytest.fail(f"{SYSTEM_PYTHON} is missing; {INSTALL_HINT}", pytrace=False)
        argv = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port)]
        for camera in self.cameras.values():
            argv += ["--camera", camera.argument()]
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
        environment.pop("PYTHONPATH", None)
        environment.pop("PYTHONHOME", None)
        if self.credentials is not None:
            # in the environment, not argv: tests check no secret shows in a command line
            environment[CREDENTIALS_VARIABLE] = ":".join(self.credentials)
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
        self._process = process
        self._paused = False
        ready = threading.Event()
        port: list[int] = []
        assert process.stdout is not None
        threading.Thread(
            target=self._drain,
            args=(process.stdout, ready, port),
            name=f"rtsp-camera-output-{process.pid}",
            daemon=True,
        ).start()
        if not ready.wait(self.ready_timeout) or not port:
            exited_early = process.poll() is not None
            code = end_process(process)
            self._process = None
            output = "\n".join(self._output)
            hint = INSTALL_HINT if "MISSING" in output else "see its output"
            what = (
                f"exited with code {code} before it was ready"
                if exited_early
                else f"was not ready within {self.ready_timeout} s"
            )
            pytest.fail(f"RTSP camera server {what}; {hint}:\n{output}", pytrace=False)
        self.port = port[0]

    def stop(self, grace: float = 3.0) -> None:
        """End the server by PID: every camera goes dead, clients lose their connection."""
        if self._process is not None:
            end_process(self._process, grace)
            self._process = None
        self._paused = False

    def pause(self) -> None:
        """SIGSTOP the server: a stalled camera whose sockets stay open but send nothing."""
        self._signal(signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        """SIGCONT the server: the stalled camera sends again, from the current time."""
        self._signal(signal.SIGCONT)
        self._paused = False

    def output(self) -> str:
        """The last lines the server printed (for failure messages)."""
        return "\n".join(self._output)

    def __enter__(self) -> RtspCameraServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _signal(self, signal_number: signal.Signals) -> None:
        pid = self.pid
        if pid is None:
            raise RuntimeError("the camera server is not running; start() it first")
        os.kill(pid, signal_number)

    def _drain(self, stream: IO[bytes], ready: threading.Event, port: list[int]) -> None:
        """Runs in the output thread until EOF; sets ``ready`` on READY or on EOF."""
        try:
            for raw in stream:
                line = raw.decode(errors="replace").rstrip()
                self._output.append(line)
                words = line.split()
                if len(words) == 2 and words[0] == "READY" and words[1].isdigit():
                    port.append(int(words[1]))
                    ready.set()
        except (OSError, ValueError):
            pass  # the stream was closed by stop(); the process is gone
        finally:
            ready.set()
