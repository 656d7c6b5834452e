"""The publisher's look at the program before it connects: bounded, and it says what is wrong.

Seen at GO LIVE on a loaded box (bench/go_live_stages.py --log): PyAV's probe of the program
(ffmpeg's ``avformat_find_stream_info``) ran 13-17 s and ended with "Could not find codec
parameters for stream 1 (Audio: aac, 0 channels)"; the destination had given up after 10 s
("did not start") and retried. The publisher now reads at most ``probe_bytes`` (two seconds
of the program, not ffmpeg's 5 MB) and, when the audio has no parameters after the probe,
exits at once with a line that says so instead of publishing a stream without usable audio
(the destination retries within seconds).
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import threading

import av
import numpy as np
import pytest

from vistter.actors.outputs.destination import flv_publisher_argv
from vistter.actors.outputs.flv_publisher import EXIT_INPUT
from vistter.actors.outputs.publish_request import PublishRequest, probe_bytes_for

pytestmark = pytest.mark.timeout(60)


def _video_only_program(frames: int = 60) -> bytes:
    """MPEG-TS whose PMT lists an AAC stream that never gets a packet (noisy, large video)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mpegts") as out:
        video = out.add_stream("libx264", rate=30, options={"preset": "ultrafast", "crf": "0"})
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        out.add_stream("aac", rate=48000)
        noise = np.random.default_rng(7)
        for index in range(frames):
            picture = noise.integers(0, 256, (360, 320), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
            frame.pts = index
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    return buffer.getvalue()


def test_probe_bytes_follow_the_program_bitrate() -> None:
    assert probe_bytes_for(2500) == 1_000_000  # at least 1 MB: room for a large keyframe
    assert probe_bytes_for(8000) == 2_000_000  # two seconds of the program


def test_a_program_whose_audio_shows_no_parameters_is_refused_before_connecting() -> None:
    program = _video_only_program()
    assert len(program) > 1_200_000
    request = PublishRequest(
        url="rtmp://127.0.0.1:9/live/never", shown_as="rtmp://127.0.0.1:9/live/***",
        probe_bytes=1_000_000,
    )  # fmt: skip
    process = subprocess.Popen(
        flv_publisher_argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdin is not None and process.stderr is not None
        stdin, errors = process.stdin, process.stderr

        def feed() -> None:  # stdin stays open: a live program that goes on
            with contextlib.suppress(BrokenPipeError):  # it stops reading at probe_bytes
                stdin.write(request.secret_input().payload + program)
                stdin.flush()

        stderr: list[bytes] = []
        threads = [threading.Thread(target=feed),
                   threading.Thread(target=lambda: stderr.append(errors.read()))]
        for thread in threads:
            thread.start()
        code = process.wait(30)
        for thread in threads:
            thread.join(5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()
    said = b"".join(stderr).decode()
    assert code == EXIT_INPUT, said
    assert "audio showed no parameters" in said, said
