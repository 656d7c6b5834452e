"""A camera with a password: its input options (in the ffconcat list on stdin) take effect.

ffmpeg reads an ffconcat ``option`` name as a bare keyword and ignores an option it does not
know without a word, so a wrongly written list looks fine and does nothing. Real ffmpeg
against a TCP server that accepts and never answers: with the camera's socket ``timeout``
applied, the ingest gives up by itself; without it, it would wait forever.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from vistter.actors.sources.ingest import camera_ingest_command
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat
from vistter.models.cameras import CameraConfig
from vistter.supervisors.secret_input import SecretInput

pytestmark = pytest.mark.timeout(60)

FMT = FrameFormat(320, 180, 15)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


def _exits_within(ffmpeg: str, camera: CameraConfig, limit: float) -> float | None:
    """Seconds until the ingest exits by itself (None: still running after ``limit``)."""
    command = camera_ingest_command(ffmpeg, camera, FMT, socket_timeout=1.0)
    assert isinstance(command.stdin, SecretInput)
    stdin = command.stdin.open_pipe()
    began = time.monotonic()
    process = subprocess.Popen(
        command.argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    os.close(stdin)
    try:
        process.wait(limit)
        return time.monotonic() - began
    except subprocess.TimeoutExpired:
        return None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def test_the_socket_timeout_reaches_a_password_cameras_input(
    ffmpeg_binary: FfmpegBinary, silent_server: int
) -> None:
    camera = CameraConfig(
        id=1, url=f"rtsp://127.0.0.1:{silent_server}/cam", username="u", password="p"
    )
    took = _exits_within(ffmpeg_binary.path, camera, 15.0)
    assert took is not None, "ffmpeg still waits on a silent camera: its timeout was not applied"
    assert took < 10.0
