"""A real appliance on the demo configuration, as a separate process, for browser tests.

:func:`demo_appliance` copies ``config/demo.toml`` with everything that would touch the
repository or a fixed port redirected: data and recordings into a temporary folder, the API
and the telemetry bus on free ports of 127.0.0.1. It runs ``python -m vistter run`` exactly as
``scripts/demo.sh`` does, waits until the show is live, and always ends the process by its
PID (SIGTERM, then SIGKILL), together with any child process (ffmpeg) still alive by then.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import tomli_w

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "config" / "demo.toml"
START_TIMEOUT = 90.0  # seconds; a few when the box is quiet, up to 40 seen on a loaded 2-core box
STOP_TIMEOUT = 15.0


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


Configure = Callable[[dict[str, Any]], None]
"""Changes the demo configuration (the parsed TOML) in place before it is written."""


def demo_config(workdir: Path, api_port: int, telemetry_port: int,
                configure: Configure | None = None) -> Path:
    """``config/demo.toml`` rewritten for a test run in ``workdir``; returns its path."""
    raw: dict[str, Any] = tomllib.loads(DEMO_CONFIG.read_text())
    base = DEMO_CONFIG.parent
    raw["api"] = {**raw.get("api", {}), "host": "127.0.0.1", "port": api_port}
    raw["telemetry"] = {**raw.get("telemetry", {}),
                        "endpoint": f"tcp://127.0.0.1:{telemetry_port}"}
    raw["paths"] = {**raw.get("paths", {}),
                    "assets_dir": str((base / raw["paths"]["assets_dir"]).resolve()),
                    "data_dir": str(workdir / "var")}
    show = raw.get("show", {})
    if "timeline" in show:
        show["timeline"] = str((base / show["timeline"]).resolve())
    for destination in raw.get("destinations", []):
        if destination.get("platform") == "recorder":
            destination["path"] = str(workdir / "recordings")
    # Browser tests read the program's pixels and frames; on a shared 2-core box degraded mode
    # would (rightly) drop overlays or frames under their load. Its tests are tests/degraded.
    raw["degraded"] = {**raw.get("degraded", {}), "enabled": False}
    if configure is not None:
        configure(raw)
    path = workdir / "demo.toml"
    path.write_text(tomli_w.dumps(raw))
    return path


@dataclass
class DemoAppliance:
    """A running demo appliance: its process, base URL and log."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    workdir: Path

    def get(self, path: str) -> Any:
        response = httpx.get(self.base_url + path, timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return httpx.post(self.base_url + path, json=body, timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def program_fps(self) -> int:
        """The program's frame rate (``format`` of ``GET /api/status`` is ``WxH@fps``)."""
        return int(self.get("/api/status")["format"].rsplit("@", 1)[1])

    def wait_until(self, what: str, predicate: Any, timeout: float) -> Any:
        """Poll ``predicate()`` until it returns a truthy value; fail naming ``what``."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the appliance exited ({self.process.returncode}) while "
                                     f"waiting for {what}\n{self.log()}")
            try:
                value = predicate()
                if value:
                    return value
            except (httpx.HTTPError, KeyError, TypeError) as error:
                last_error = error
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what} "
                             f"(last error: {last_error})\n{self.log()}")


@contextlib.contextmanager
def demo_appliance(workdir: Path, configure: Configure | None = None,
                   ready: str = "live") -> Iterator[DemoAppliance]:
    """Start the demo appliance in ``workdir`` (its configuration changed by ``configure``),
    yield it once its show is in state ``ready``, stop it."""
    workdir.mkdir(parents=True, exist_ok=True)
    api_port = free_port()
    config = demo_config(workdir, api_port, free_port(), configure)
    log_path = workdir / "vistter.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "vistter", "run", "--config", str(config)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir,
        )
    appliance = DemoAppliance(process, f"http://127.0.0.1:{api_port}", log_path, workdir)
    try:
        appliance.wait_until(
            f"the demo show to be {ready}",
            lambda: appliance.get("/api/show")["state"] == ready, START_TIMEOUT,
        )
        yield appliance
    finally:
        stop_by_pid(process)


def stop_by_pid(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM ``process``, wait, then SIGKILL it and any child it left behind, by PID."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
