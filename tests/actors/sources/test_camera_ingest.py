"""Ingest command lines (credentials never in argv: on stdin) and the stderr tail (drains, keeps the
last lines, scrubs secrets)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from pydantic import SecretStr

from vistter.actors.sources.ingest import (
    FrameStats,
    IngestCommand,
    camera_ingest_command,
    file_ingest_command,
    program_video_filter,
)
from vistter.media.ffmpeg import find_ffmpeg
from vistter.media.frames import FrameFormat
from vistter.media.stderr_tail import StderrTail, scrub_url_credentials, secret_scrubber
from vistter.models.cameras import CameraConfig
from vistter.supervisors.secret_input import SecretInput

FMT = FrameFormat(320, 180, 15)
PASSWORD = "pa ss/w@rd"


def rtsp_camera(**kwargs: object) -> CameraConfig:
    return CameraConfig(
        id=3, url="rtsp://10.0.0.5:554/Streaming/101?token=abc", username="admin",
        password=SecretStr(PASSWORD), **kwargs,
    )


def _secret_list(command: IngestCommand) -> str:
    assert isinstance(command.stdin, SecretInput)
    return command.stdin.payload.decode()


def test_rtsp_command_keeps_credentials_out_of_argv() -> None:
    command = camera_ingest_command("/usr/bin/ffmpeg", rtsp_camera(), FMT, socket_timeout=2.5)
    argv = list(command.argv)
    # the URL and its options reach ffmpeg on stdin, as an ffconcat list, never in argv
    assert argv[argv.index("-i") + 1] == "pipe:0"
    assert argv[argv.index("-f") + 1] == "concat" and argv.index("-f") < argv.index("-i")
    listing = _secret_list(command).splitlines()
    assert listing[0] == "ffconcat version 1.0"
    url = listing[1].removeprefix("file '").removesuffix("'")
    assert url.startswith("rtsp://admin:pa%20ss%2Fw%40rd@10.0.0.5:554/")
    assert "option rtsp_transport 'tcp'" in listing
    assert "option timeout '2500000'" in listing
    # the frame-rate probe is off in the camera's own input, where the concat demuxer
    # applies it (on argv it would only reach the concat demuxer)
    assert "option fpsprobesize '0'" in listing and "-fpsprobesize" not in argv
    assert "-nostdin" in argv and argv[-3:] == ["-f", "rawvideo", "pipe:1"]
    for shown in (" ".join(argv), command.args_for_log, repr(command), command.display_url):
        assert PASSWORD not in shown and "pa%20ss" not in shown and "admin" not in shown
    assert "token=***" in command.display_url
    scrub = command.redactor()
    assert scrub(f"Error opening input file {url}.") == (
        "Error opening input file rtsp://***@10.0.0.5:554/Streaming/101?token=***."
    )
    assert PASSWORD not in scrub(f"401 for user admin password {PASSWORD}")


def test_transport_and_protocol_options_follow_the_url() -> None:
    udp = camera_ingest_command("ffmpeg", rtsp_camera(transport="udp"), FMT)
    assert "option rtsp_transport 'udp'" in _secret_list(udp).splitlines()
    assert "-rtsp_transport" not in udp.argv
    http = camera_ingest_command(
        "ffmpeg", CameraConfig(id=1, url="http://cam.local/mjpeg"), FMT, socket_timeout=1
    )
    assert "-rw_timeout" in http.argv and "-timeout" not in http.argv
    assert http.argv[http.argv.index("-rw_timeout") + 1] == "1000000"
    assert http.stdin == subprocess.DEVNULL  # no credentials: a plain -i URL
    authenticated_http = camera_ingest_command(
        "ffmpeg",
        CameraConfig(id=1, url="http://cam.local/mjpeg", username="u", password=SecretStr("p")),
        FMT, socket_timeout=1,
    )  # fmt: skip
    assert "option rw_timeout '1000000'" in _secret_list(authenticated_http).splitlines()
    lavfi = camera_ingest_command(
        "ffmpeg", CameraConfig(id=1, url="lavfi:testsrc2=size=640x360:rate=30"), FMT
    )
    i = lavfi.argv.index("-i")
    graph = "testsrc2=size=640x360:rate=30"
    assert lavfi.argv[i - 3 : i + 2] == ("-re", "-f", "lavfi", "-i", graph)
    assert "-timeout" not in lavfi.argv and "-rw_timeout" not in lavfi.argv
    video = file_ingest_command("ffmpeg", "/media/loop.mp4", FMT)
    i = video.argv.index("-i")
    assert video.argv[i - 3 : i + 2] == ("-re", "-stream_loop", "-1", "-i", "/media/loop.mp4")
    assert "fps=15" in program_video_filter(FMT) and "pad=320:180" in program_video_filter(FMT)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("source_size", ["333x199", "100x300", "1920x1080"])
def test_ingest_makes_whole_program_frames_from_any_source_size(source_size: str) -> None:
    camera = CameraConfig(id=1, url=f"lavfi:testsrc2=size={source_size}:rate=30:duration=0.4")
    command = camera_ingest_command(find_ffmpeg().path, camera, FMT)
    result = subprocess.run(command.argv, capture_output=True, timeout=20, check=False)
    assert result.returncode == 0, result.stderr.decode()
    frames, rest = divmod(len(result.stdout), FMT.frame_bytes)
    assert rest == 0 and 5 <= frames <= 7  # 0.4 s at the program's 15 fps


def test_stderr_tail_keeps_the_last_lines_and_scrubs_secrets() -> None:
    read_end, write_end = os.pipe()
    seen: list[str] = []

    def on_line(line: str) -> None:
        seen.append(line)
        if len(seen) == 2:
            raise RuntimeError("a broken callback must not stop the draining")

    with os.fdopen(read_end, "rb", buffering=0) as reader:
        tail = StderrTail(reader, 3, redact=secret_scrubber(["hunter2"]), on_line=on_line)
        with os.fdopen(write_end, "wb") as writer:
            writer.write(b"one\ntwo\r\n\nthree\rrtsp://bob:hunter2@cam/x failed\n")
            writer.write(b"password hunter2 and hunter%32\n")
            writer.write("caf\u00e9 \xff".encode() + b"\xfe no newline at the end")
        assert tail.join(5.0) and tail.finished.is_set()
    assert tail.lines() == [
        "rtsp://***@cam/x failed",
        "password *** and hunter%32",
        "caf\u00e9 \u00ff\ufffd no newline at the end",
    ]
    assert tail.last_line().endswith("no newline at the end")
    assert tail.line_count == 6
    assert seen == ["one", "two"]  # the callback was dropped after it raised


@pytest.mark.timeout(30)
def test_stderr_tail_drains_a_chatty_process_so_it_never_blocks() -> None:
    # 2 MB on stderr: far more than a pipe holds. Undrained, the child would block forever.
    script = (
        "import sys\nfor i in range(40000): sys.stderr.write(f'line {i:05d} ' + 'x'*40 + '\\n')"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    try:
        assert process.stderr is not None
        tail = StderrTail(process.stderr, 5, name="chatty")
        assert process.wait(timeout=20) == 0
        assert tail.join(5.0)
        assert tail.line_count == 40000
        assert tail.lines()[-1].startswith("line 39999")
        assert len(tail.lines()) == 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()


def test_scrubbers() -> None:
    assert scrub_url_credentials("a rtsp://u:p@h/x and rtmps://k@h2") == (
        "a rtsp://***@h/x and rtmps://***@h2"
    )
    assert scrub_url_credentials("no url here: user@example.com") == (
        "no url here: user@example.com"
    )
    assert secret_scrubber(["a b"])("x a%20b y a b") == "x *** y ***"


def test_frame_stats_measure_the_rate() -> None:
    stats = FrameStats()
    assert stats.record(10.0) is None
    for n in range(1, 31):
        stats.record(10.0 + n / 15)
    assert stats.count == 31
    assert stats.fps(12.0) == pytest.approx(15.0)
    assert stats.fps(20.0) == 0.0  # nothing recent: not flowing
    barrier = threading.Barrier(4)

    def hammer() -> None:
        barrier.wait()
        for n in range(1000):
            stats.record(50.0 + n)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert stats.count == 4031


def test_a_plain_rtsp_camera_is_not_probed_for_its_frame_rate() -> None:
    """ffmpeg's frame-rate probe held back a camera's first 20 frames: the first came 2.0-2.4 s
    after the connect, then a burst of stale ones; without it 0.7-1.0 s, at a live pace."""
    plain = camera_ingest_command(
        "ffmpeg", CameraConfig(id=1, url="rtsp://10.0.0.5/live"), FMT, socket_timeout=1)
    argv = list(plain.argv)
    assert argv[argv.index("-fpsprobesize") + 1] == "0"
    assert argv.index("-fpsprobesize") < argv.index("-i")
    lavfi = camera_ingest_command("ffmpeg", CameraConfig(id=2, url="lavfi:testsrc2"), FMT)
    assert "-fpsprobesize" not in lavfi.argv  # a simulated camera is not a network input
