"""The program encoder's own latency, the floor under any preview delay.

Runs Vistter's live encoder command (:func:`vistter.actors.encoder.command.encoder_command`,
the default encoding at 1280x720@30, the encoder ``detect_encoder`` picks) on raw frames
written at the program's pace, and for every video PES that comes out of its MPEG-TS notes
when it arrived. Frame ``n`` (written at ``t0 + n / fps``) comes out as the PES whose PTS is
the first PTS plus ``n / fps``; its arrival minus its write time is the encoder's latency
(x264's lookahead and B-frames, frame threads, the muxer). The preview's delay minus this
is what the preview path itself adds (fanout, HTTP, the viewer's demux and decode).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time

import numpy as np
import numpy.typing as npt

from vistter.actors.encoder.command import encoder_command
from vistter.actors.encoder.hwaccel import detect_encoder
from vistter.actors.fanout.ts import PACKET_SIZE, TsScanner, packet_pid
from vistter.media.ffmpeg import find_ffmpeg
from vistter.media.frames import FrameFormat
from vistter.models.settings import EncodingConfig

FMT = FrameFormat(1280, 720, 30)


def _pes_pts(packet: bytes) -> float | None:
    """The PTS (seconds) of a TS packet that starts a PES with one, else None."""
    if not packet[1] & 0x40:
        return None
    at = 4
    if packet[3] & 0x20:  # adaptation field
        at += 1 + packet[4]
    pes = packet[at:]
    if len(pes) < 14 or pes[:3] != b"\x00\x00\x01" or not pes[7] & 0x80:
        return None
    p = pes[9:14]
    ticks = (((p[0] >> 1) & 0x07) << 30) | (p[1] << 22) | ((p[2] >> 1) << 15) | (p[3] << 7) | (
        p[4] >> 1)
    return ticks / 90_000


def _moving_block(n: int) -> npt.NDArray[np.uint8]:
    frame = np.full(FMT.frame_bytes, 128, dtype=np.uint8)
    luma = frame[: FMT.width * FMT.height].reshape(FMT.height, FMT.width)
    x = (n * 40) % (FMT.width - 80)
    luma[:] = 60
    luma[300:380, x : x + 80] = 235
    return frame


def encoder_latency(seconds: float = 12.0) -> dict[str, float]:
    """Median and max seconds from writing a frame to its PES leaving the encoder."""
    ffmpeg = find_ffmpeg(None)
    encoding = EncodingConfig()
    command = encoder_command(ffmpeg, FMT, encoding, detect_encoder(ffmpeg, encoding.encoder))
    process = subprocess.Popen(command.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    assert process.stdin is not None and process.stdout is not None
    arrivals: list[tuple[float, float]] = []  # (arrival, pts)
    scanner = TsScanner()

    def read() -> None:
        assert process.stdout is not None
        fd = process.stdout.fileno()
        while chunk := os.read(fd, 65536):
            now = time.monotonic()
            batch = scanner.feed(chunk)
            if batch is None or scanner.video_pid is None:
                continue
            data = batch.data
            for offset in range(0, len(data), PACKET_SIZE):
                packet = data[offset : offset + PACKET_SIZE]
                if packet_pid(packet) == scanner.video_pid:
                    pts = _pes_pts(packet)
                    if pts is not None:
                        arrivals.append((now, pts))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    frames = [_moving_block(n) for n in range(FMT.fps)]  # easy content, like a still camera
    written: list[float] = []
    start = time.monotonic()
    try:
        for n in range(int(seconds * FMT.fps)):
            due = start + n / FMT.fps
            time.sleep(max(0.0, due - time.monotonic()))
            process.stdin.write(frames[n % len(frames)].data)
            process.stdin.flush()
            written.append(time.monotonic())
    finally:
        process.stdin.close()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        reader.join(5)
    if not arrivals:
        raise AssertionError("the encoder wrote no video")
    first_pts = min(pts for _, pts in arrivals)
    latencies = []
    for arrived, pts in arrivals:
        n = round((pts - first_pts) * FMT.fps)
        if 0 <= n < len(written) and n > FMT.fps:  # past the start-up
            latencies.append(arrived - written[n])
    return {"median": round(statistics.median(latencies), 3), "max": round(max(latencies), 3)}
