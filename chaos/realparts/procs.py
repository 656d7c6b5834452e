"""Run ffmpeg (the imageio-ffmpeg binary) bounded in time, and end processes by PID.

Every helper here ends what it started: terminate, wait, then kill, always by PID.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import imageio_ffmpeg
import pytest

DEFAULT_GRACE_SECONDS = 3.0


@cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped by the ``imageio-ffmpeg`` wheel.

    Fails the test (never skips) when it is missing.
    """
    try:
        exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as error:
        pytest.fail(
            f"ffmpeg is missing ({error}); run scripts/test.sh or "
            "`.venv/bin/pip install -e '.[test]'` to reinstall imageio-ffmpeg",
            pytrace=False,
        )
    return exe


def end_process(process: subprocess.Popen[bytes], grace: float = DEFAULT_GRACE_SECONDS) -> int:
    """Terminate ``process``, wait up to ``grace`` s, then kill it. Returns its exit code.

    Sends SIGCONT first, so a process paused with SIGSTOP can act on the SIGTERM.
    Safe to call more than once and on a process that already exited.
    """
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)
            process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.close()
    return process.returncode


def ffmpeg_argv(args: Sequence[str], loglevel: str = "error") -> list[str]:
    """The full command line: the imageio ffmpeg, no banner, no stdin, then ``args``."""
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", loglevel, *args]


def run_ffmpeg(
    args: Sequence[str], *, timeout: float, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg with ``args`` to completion, at most ``timeout`` seconds.

    Fails the test when it runs too long (the process is ended by PID first) or, with
    ``check``, when it exits non-zero; the message carries the end of ffmpeg's stderr.
    """
    argv = ffmpeg_argv(args)
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        end_process(process)
        pytest.fail(f"ffmpeg ran longer than {timeout} s: {' '.join(argv)}", pytrace=False)
    finally:
        end_process(process)
    result = subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)
    if check and result.returncode != 0:
        tail = stderr.decode(errors="replace")[-2000:]
        pytest.fail(f"ffmpeg exited {result.returncode}: {' '.join(argv)}\n{tail}", pytrace=False)
    return result


class FfmpegProcess:
    """ffmpeg running in the background (a publisher or a puller) until :meth:`stop`.

    stderr goes to ``log_path`` so a long run cannot fill a pipe. Use as a context manager;
    leaving the block ends the process by PID.
    """

    def __init__(self, args: Sequence[str], log_path: Path, loglevel: str = "warning") -> None:
        self.argv = ffmpeg_argv(args, loglevel)
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> FfmpegProcess:
        if self._process is not None and self._process.poll() is None:
            raise RuntimeError("ffmpeg is already running; stop() it before start()")
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log
            )
        return self

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("ffmpeg was never started; call start() first")
        return self._process.pid

    def poll(self) -> int | None:
        """The exit code, or None while it runs (or was never started)."""
        return None if self._process is None else self._process.poll()

    def wait(self, timeout: float) -> int:
        """Wait for ffmpeg to exit by itself; fails the test after ``timeout`` seconds."""
        if self._process is None:
            raise RuntimeError("ffmpeg was never started; call start() first")
        try:
            return self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            pytest.fail(f"ffmpeg did not exit within {timeout} s: {self.log()}", pytrace=False)

    def stop(self, grace: float = DEFAULT_GRACE_SECONDS) -> int | None:
        """End ffmpeg by PID (terminate, wait, kill); returns its exit code."""
        if self._process is None:
            return None
        return end_process(self._process, grace)

    def log(self, limit: int = 2000) -> str:
        """The end of ffmpeg's stderr, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def __enter__(self) -> FfmpegProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
