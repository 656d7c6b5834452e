"""Vistter under test, exactly as an operator starts it: ``vistter run --config FILE``.

The harness reads it only from the outside: its HTTP API (``/api/status``,
``/api/destinations``, ``/api/supervision``) and its process tree (psutil). The process runs in
its own session with its log in the work directory and is ended by PID (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

__all__ = ["ApiError", "ProcessFootprint", "VistterProcess"]


class ApiError(RuntimeError):
    """The API did not answer (in time, or with JSON)."""


@dataclass(frozen=True)
class ProcessFootprint:
    """Resources of the Vistter process itself (not its children), and its descendants."""

    rss_mb: float
    threads: int
    open_fds: int
    descendants: int

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def vistter_executable() -> list[str]:
    """``vistter`` next to this interpreter, else ``python -m vistter``."""
    script = Path(sys.executable).with_name("vistter")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "vistter"]


class VistterProcess:
    """``vistter run --config <config>`` in a subprocess; API on 127.0.0.1:``api_port``."""

    def __init__(
        self, config: Path, api_port: int, log_path: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.config = config
        self.api_port = api_port
        self.log_path = log_path
        self.env = dict(env or {})
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def start(self, ready_timeout: float = 60.0) -> None:
        """Start it and wait until ``/api/status`` answers; RuntimeError with the log if not."""
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [*vistter_executable(), "run", "--config", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                start_new_session=True,
            )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.pid is None:
                break
            try:
                self.get("/api/status", timeout=1.0)
                return
            except ApiError:
                time.sleep(0.2)
        code = self.stop()
        raise RuntimeError(f"vistter did not serve its API (exit {code}): {self.log_tail()}")

    def stop(self, grace: float = 20.0) -> int | None:
        """SIGTERM, wait ``grace`` s, then SIGKILL the whole session; returns the exit code."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def get(self, path: str, timeout: float = 2.0) -> Any:
        """GET ``path`` from the API as JSON; ApiError when it does not answer."""
        return self.call("GET", path, None, timeout)

    def call(self, method: str, path: str, body: Any = None, timeout: float = 5.0) -> Any:
        """One API request with an optional JSON body; ApiError on no/invalid answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.api_port}{path}",
            data=data,
            method=method,
            headers={"content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise ApiError(f"{method} {path}: HTTP {exc.code}") from exc
        except (OSError, ValueError) as exc:
            raise ApiError(f"{method} {path}: {exc}") from exc

    def process(self) -> psutil.Process | None:
        pid = self.pid
        try:
            return psutil.Process(pid) if pid is not None else None
        except psutil.NoSuchProcess:
            return None

    def descendants(self) -> list[psutil.Process]:
        process = self.process()
        if process is None:
            return []
        try:
            return list(process.children(recursive=True))
        except psutil.NoSuchProcess:
            return []

    def footprint(self) -> ProcessFootprint | None:
        """RSS, threads and open fds of the Vistter process, and how many descendants it has."""
        process = self.process()
        if process is None:
            return None
        try:
            with process.oneshot():
                return ProcessFootprint(
                    rss_mb=process.memory_info().rss / 2**20,
                    threads=process.num_threads(),
                    open_fds=process.num_fds(),
                    descendants=len(self.descendants()),
                )
        except psutil.Error:
            return None

    def log_tail(self, limit: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""


def supervision_nodes(tree: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every node of an ``/api/supervision`` tree, depth first."""
    yield tree
    for child in tree.get("children") or []:
        yield from supervision_nodes(child)


def node_pids(tree: Mapping[str, Any], node_id: str) -> list[int]:
    """PIDs owned by the supervision node whose id is ``node_id`` (e.g. ``encoder``)."""
    for node in supervision_nodes(tree):
        if node.get("id") == node_id:
            return [int(pid) for pid in node.get("pids") or []]
    return []


def total_restarts(tree: Mapping[str, Any]) -> int:
    """Sum of ``restarts`` over every node of the supervision tree."""
    return sum(int(node.get("restarts") or 0) for node in supervision_nodes(tree))
