"""Shared fixtures. Real components (nginx-rtmp, RTSP cameras, ffmpeg) come from ``realparts``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from chaos.realparts import NginxRtmp, RtspCameraServer, SimulatedCamera, ffmpeg_exe
from vistter.media.ffmpeg import FfmpegBinary, find_ffmpeg

if TYPE_CHECKING:
    from test_destination_feed import TsFeed


@pytest.fixture
def ffmpeg() -> str:
    """Path of the imageio-ffmpeg binary; fails (never skips) when it is missing."""
    return ffmpeg_exe()


@pytest.fixture
def nginx_rtmp(tmp_path: Path) -> Iterator[NginxRtmp]:
    """A running nginx-rtmp on 127.0.0.1 (app ``live``), stopped by PID after the test."""
    workdir = tmp_path / "nginx-rtmp"
    workdir.mkdir()
    with NginxRtmp(workdir) as ingest:
        yield ingest


@pytest.fixture
def rtsp_camera() -> Iterator[RtspCameraServer]:
    """One running test camera ``cam1`` (smpte, 320x240, 15 fps), ended by PID after the test."""
    with RtspCameraServer([SimulatedCamera()]) as server:
        yield server


@pytest.fixture
def rtsp_camera_factory() -> Iterator[Callable[[Sequence[SimulatedCamera]], RtspCameraServer]]:
    """Start camera servers of your choice: ``rtsp_camera_factory([SimulatedCamera(...)])``.

    Every server started through the factory is ended by PID after the test.
    """
    servers: list[RtspCameraServer] = []

    def start(cameras: Sequence[SimulatedCamera]) -> RtspCameraServer:
        server = RtspCameraServer(cameras)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in reversed(servers):
        server.stop()


# -- the spec's example timeline -------------------------------------------------------

SPEC_EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "daily-marina.timeline.json"
"""A verbatim copy of ../shared/spec/examples/daily-marina.timeline.json (checked by
tests/models/test_spec_example.py), so the suite does not depend on where shared/ lies."""


@pytest.fixture
def spec_example_path() -> Path:
    return SPEC_EXAMPLE


# -- ffmpeg and a live MPEG-TS feed ------------------------------------------------------


@pytest.fixture(scope="session")
def ffmpeg_binary() -> FfmpegBinary:
    """The ffmpeg the appliance would use (the bundled one unless configured)."""
    return find_ffmpeg()


@pytest.fixture
def ts_feed(ffmpeg_binary: FfmpegBinary) -> Iterator[TsFeed]:
    """Live MPEG-TS from ffmpeg, as a destination's chunk source (ended by PID after)."""
    from test_destination_feed import TsFeed

    with TsFeed(ffmpeg_binary.path) as feed:
        yield feed
