"""The real-component fixtures work: nginx-rtmp records, RTSP cameras serve, die and stall."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from chaos.realparts import (
    FfmpegProcess,
    NginxRtmp,
    RtspCameraServer,
    port_accepts,
    run_ffmpeg,
)
from chaos.realparts.decode import decode_video

pytestmark = pytest.mark.slow

X264_FAST = [
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-tune",
    "zerolatency",
    "-pix_fmt",
    "yuv420p",
]


def lavfi_source(seconds: float, fps: int = 25) -> list[str]:
    """ffmpeg input arguments: ``seconds`` of a 320x240 lavfi test pattern."""
    return ["-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={fps}", "-t", str(seconds)]


def publish_lavfi_source(url: str, seconds: float, fps: int = 25) -> None:
    """Publish ``seconds`` of a test pattern to ``url`` (as fast as nginx takes it)."""
    run_ffmpeg(
        [*lavfi_source(seconds, fps), *X264_FAST, "-g", str(fps), "-f", "flv", url], timeout=30
    )


def pull_camera(url: str, output: Path, seconds: float | None = None) -> list[str]:
    """ffmpeg arguments that copy an RTSP camera (over TCP) into an MPEG-TS file."""
    duration = [] if seconds is None else ["-t", str(seconds)]
    return ["-rtsp_transport", "tcp", "-i", url, *duration, "-c", "copy", "-f", "mpegts",
            str(output)]  # fmt: skip


def wait_for_data(path: Path, timeout: float) -> None:
    """Wait until ``path`` holds data; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and path.stat().st_size > 0:
            return
        time.sleep(0.05)
    pytest.fail(f"nothing was written to {path} within {timeout} s")


@pytest.mark.timeout(60)
def test_nginx_records_what_ffmpeg_publishes(nginx_rtmp: NginxRtmp) -> None:
    publish_lavfi_source(nginx_rtmp.url(key="test"), seconds=3)

    video = decode_video(nginx_rtmp.recording("test"))

    assert (video.width, video.height) == (320, 240)
    assert 70 <= video.frames <= 75, f"expected ~75 frames of a 3 s 25 fps source: {video}"


@pytest.mark.timeout(60)
def test_nginx_stops_and_comes_back_on_the_same_port(nginx_rtmp: NginxRtmp) -> None:
    port, first_pid = nginx_rtmp.rtmp_port, nginx_rtmp.pid

    nginx_rtmp.stop()
    assert not nginx_rtmp.running
    assert not port_accepts(port), "the RTMP port still accepts after stop()"

    nginx_rtmp.start()
    assert nginx_rtmp.rtmp_port == port
    assert nginx_rtmp.pid is not None
    assert nginx_rtmp.pid != first_pid
    assert port_accepts(port)
    publish_lavfi_source(nginx_rtmp.url(key="after"), seconds=1)
    assert decode_video(nginx_rtmp.recording("after")).frames >= 20


@pytest.mark.timeout(60)
def test_nginx_reports_bytes_accepted_from_a_live_publisher(
    nginx_rtmp: NginxRtmp, tmp_path: Path
) -> None:
    assert nginx_rtmp.stream_bytes_in("live1") is None
    publisher = FfmpegProcess(
        [
            "-re",
            *lavfi_source(20),
            *X264_FAST,
            "-g",
            "25",
            "-f",
            "flv",
            nginx_rtmp.url(key="live1"),
        ],
        tmp_path / "publisher.log",
    )
    with publisher:
        deadline = time.monotonic() + 10
        accepted = None
        while time.monotonic() < deadline and not accepted:
            accepted = nginx_rtmp.stream_bytes_in("live1")
            time.sleep(0.1)
        assert accepted, f"nginx never saw the publisher: {publisher.log()}"
        assert publisher.poll() is None


@pytest.mark.timeout(60)
def test_rtsp_camera_serves_frames_over_tcp(rtsp_camera: RtspCameraServer, tmp_path: Path) -> None:
    received = tmp_path / "cam1.ts"

    run_ffmpeg(pull_camera(rtsp_camera.url("cam1"), received, seconds=2), timeout=20)

    video = decode_video(received)
    assert (video.width, video.height) == (320, 240)
    assert video.frames >= 20, f"expected ~30 frames in 2 s at 15 fps: {video}"


@pytest.mark.timeout(60)
def test_stalled_camera_resumes_at_the_current_time(
    rtsp_camera: RtspCameraServer, tmp_path: Path
) -> None:
    received = tmp_path / "stalled.ts"
    puller = FfmpegProcess(
        pull_camera(rtsp_camera.url("cam1"), received, seconds=6), tmp_path / "puller.log"
    )
    with puller:
        wait_for_data(received, timeout=10)
        rtsp_camera.pause()
        time.sleep(2.5)  # the stall being simulated, not a wait for something to happen
        rtsp_camera.resume()
        assert puller.wait(timeout=20) == 0, puller.log()

    video = decode_video(received)
    assert video.largest_gap() >= 2.0, f"stale frames were replayed after the stall: {video}"
    assert video.frames <= 6 * 15 - 2 * 15, f"stale frames were replayed: {video.frames}"


@pytest.mark.timeout(60)
def test_dead_camera_comes_back_on_the_same_port(
    rtsp_camera: RtspCameraServer, tmp_path: Path
) -> None:
    port = rtsp_camera.port
    puller = FfmpegProcess(
        pull_camera(rtsp_camera.url("cam1"), tmp_path / "dead.ts"), tmp_path / "dead.log"
    )
    with puller:
        wait_for_data(tmp_path / "dead.ts", timeout=10)
        rtsp_camera.stop()
        # Field note: ffmpeg exits 0 when its RTSP camera dies, as if the stream had ended.
        assert puller.wait(timeout=20) == 0, puller.log()
    assert not port_accepts(port)

    rtsp_camera.start()
    assert rtsp_camera.port == port
    received = tmp_path / "back.ts"
    run_ffmpeg(pull_camera(rtsp_camera.url("cam1"), received, seconds=1), timeout=20)
    assert decode_video(received).frames >= 8
