"""TS packet parsing and alignment, on real ffmpeg output checked against PyAV."""

from __future__ import annotations

import itertools
import random
import subprocess
from pathlib import Path

import av
import pytest

from vistter.actors.fanout.ts import (
    PACKET_SIZE,
    PAT_PID,
    TsAligner,
    TsScanner,
    packet_pid,
    payload_unit_start,
    pmt_pids_from_pat,
    psi_section,
    random_access,
    streams_from_pmt,
    video_pid_from_pmt,
)

SECONDS = 6
FPS = 30
GOP_SECONDS = 2


def make_ts(ffmpeg: str, path: Path, *, seconds: int, gop: int, bitrate: str | None = None) -> Path:
    """A few seconds of H.264 + AAC in MPEG-TS, with a keyframe exactly every ``gop`` frames."""
    rate = ["-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate] if bitrate else []
    subprocess.run(
        [
            ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
            "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FPS}",
            "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
            "-t", str(seconds), "-map", "0:v", "-map", "1:a",
            "-c:v", "libx264", "-preset", "veryfast", *rate,
            "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
            "-c:a", "aac", "-f", "mpegts", "-muxdelay", "0", "-y", str(path),
        ],
        check=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return path


@pytest.fixture(scope="module")
def ts_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from chaos.realparts import ffmpeg_exe

    path = tmp_path_factory.mktemp("ts") / "six-seconds.ts"
    return make_ts(ffmpeg_exe(), path, seconds=SECONDS, gop=GOP_SECONDS * FPS)


def pyav_keyframes(path: Path) -> tuple[int, list[int]]:
    """The video PID and the byte positions of the video keyframe packets, per PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        positions = [
            packet.pos
            for packet in container.demux(stream)
            if packet.is_keyframe and packet.pos is not None and packet.size
        ]
        return stream.id, positions


def scan_in_chunks(data: bytes, sizes: random.Random) -> tuple[TsScanner, bytes, list[int]]:
    scanner = TsScanner()
    out = bytearray()
    keyframes: list[int] = []
    at = 0
    while at < len(data):
        step = sizes.randint(1, 5000)
        batch = scanner.feed(data[at : at + step])
        at += step
        if batch is not None:
            keyframes += [len(out) + k for k in batch.keyframes]
            out += batch.data
    return scanner, bytes(out), keyframes


def test_keyframes_found_where_pyav_sees_them(ts_file: Path) -> None:
    data = ts_file.read_bytes()
    video_pid, positions = pyav_keyframes(ts_file)
    assert len(positions) == SECONDS // GOP_SECONDS

    scanner, out, keyframes = scan_in_chunks(data, random.Random(7))

    assert out == data  # a clean stream passes through whole, however it was cut
    assert scanner.video_pid == video_pid
    assert keyframes == positions
    for offset in keyframes:
        assert packet_pid(out, offset) == video_pid
        assert payload_unit_start(out, offset)
        assert random_access(out, offset)
    assert scanner.keyframes == len(positions)
    assert scanner.packets == len(data) // PACKET_SIZE
    assert scanner.aligner.skipped_bytes == 0


def test_keyframes_are_two_seconds_apart(ts_file: Path) -> None:
    with av.open(str(ts_file)) as container:
        stream = container.streams.video[0]
        times = [
            float(packet.pts * packet.time_base)
            for packet in container.demux(stream)
            if packet.is_keyframe and packet.pts is not None
        ]
    assert [round(b - a, 3) for a, b in itertools.pairwise(times)] == [2.0, 2.0]


def test_pat_and_pmt_are_tracked(ts_file: Path) -> None:
    scanner = TsScanner()
    data = ts_file.read_bytes()
    batch = scanner.feed(data)
    assert batch is not None
    assert len(batch.psi) == 2 * PACKET_SIZE
    # The PAT and PMT in force at the first keyframe: ffmpeg sends them just before it.
    first = batch.keyframes[0]
    assert batch.psi == data[first - 2 * PACKET_SIZE : first]
    pat, pmt = batch.psi[:PACKET_SIZE], batch.psi[PACKET_SIZE:]
    assert packet_pid(pat) == PAT_PID
    assert scanner.pmt_pid is not None
    assert packet_pid(pmt) == scanner.pmt_pid
    section = psi_section(pmt)
    assert section is not None
    kinds = {stream_type for stream_type, _ in streams_from_pmt(section)}
    assert kinds == {0x1B, 0x0F}  # H.264 and AAC (ADTS)
    assert video_pid_from_pmt(section) == scanner.video_pid
    pat_section = psi_section(pat)
    assert pat_section is not None
    assert pmt_pids_from_pat(pat_section) == [scanner.pmt_pid]


def test_no_keyframe_before_the_pmt_is_known(ts_file: Path) -> None:
    data = ts_file.read_bytes()
    # Start after the first PAT/PMT: the first keyframe (preceded by them) is still found,
    # because ffmpeg repeats PAT and PMT in front of it; a scanner that starts in the
    # middle of a GOP waits for the next PAT/PMT.
    _, positions = pyav_keyframes(ts_file)
    start = positions[0] + PACKET_SIZE  # just past the first keyframe's first packet
    scanner = TsScanner()
    batch = scanner.feed(data[start:])
    assert batch is not None
    assert [start + k for k in batch.keyframes] == positions[1:]


def test_aligner_recovers_from_garbage_and_lost_bytes(ts_file: Path) -> None:
    data = ts_file.read_bytes()[: 400 * PACKET_SIZE]
    packets = [data[i : i + PACKET_SIZE] for i in range(0, len(data), PACKET_SIZE)]
    # Leading garbage (with a fake sync byte), a packet cut in half, and junk between two.
    damaged = (
        b"\x00\x47\x12junk"
        + b"".join(packets[:100])
        + packets[100][:77]
        + b"".join(packets[101:200])
        + b"\xff" * 13
        + b"".join(packets[200:])
    )
    aligner = TsAligner()
    rng = random.Random(3)
    out = bytearray()
    at = 0
    while at < len(damaged):
        step = rng.randint(1, 3000)
        out += aligner.feed(damaged[at : at + step])
        at += step

    got = [bytes(out[i : i + PACKET_SIZE]) for i in range(0, len(out), PACKET_SIZE)]
    assert len(out) % PACKET_SIZE == 0
    assert all(packet[0] == 0x47 for packet in got)
    # Leading garbage and junk between packets cost nothing. A packet cut short is only
    # noticed at the next sync byte, so it passes glued to the head of the next packet,
    # which is lost; from there on every packet comes through again, in order.
    assert got[:100] == packets[:100]
    assert got[100][:77] == packets[100][:77]
    assert got[101:] == packets[102:]
    assert aligner.resyncs == 2
    # 7 leading bytes, the 77 bytes of packet 101 left after the glued one, 13 of junk
    assert aligner.skipped_bytes == 7 + 77 + 13


def test_aligner_reset_forgets_a_partial_packet(ts_file: Path) -> None:
    data = ts_file.read_bytes()[: 10 * PACKET_SIZE]
    aligner = TsAligner()
    assert aligner.feed(data[:1000]) == data[: 5 * PACKET_SIZE]
    assert aligner.pending_bytes == 1000 - 5 * PACKET_SIZE
    aligner.reset()
    # A new stream starts: the old partial packet must not be glued to it.
    assert aligner.feed(data) == data
    assert aligner.skipped_bytes == 1000 - 5 * PACKET_SIZE


def test_packet_fields_on_synthetic_packets() -> None:
    plain = bytes([0x47, 0x41, 0x00, 0x10]) + bytes(184)  # PUSI, PID 0x100, payload only
    assert packet_pid(plain) == 0x100
    assert payload_unit_start(plain)
    assert not random_access(plain)
    keyed = bytes([0x47, 0x41, 0x00, 0x30, 0x07, 0x40]) + bytes(182)  # AF with RAI
    assert random_access(keyed)
    af_empty = bytes([0x47, 0x01, 0x00, 0x30, 0x00]) + bytes(183)  # AF of length 0
    assert not random_access(af_empty)
    assert not payload_unit_start(af_empty)
    assert psi_section(plain[:4] + bytes([0xFF]) + bytes(183)) is None  # pointer past end


def test_pmt_without_video_has_no_video_pid() -> None:
    # table 0x02, one AAC stream on PID 0x101, CRC not checked.
    body = bytes([0x00, 0x01, 0xC1, 0x00, 0x00, 0xE1, 0x01, 0xF0, 0x00])
    stream = bytes([0x0F, 0xE1, 0x01, 0xF0, 0x00])
    length = len(body) + len(stream) + 4
    section = bytes([0x02, 0xB0, length]) + body + stream + bytes(4)
    assert streams_from_pmt(section) == [(0x0F, 0x101)]
    assert video_pid_from_pmt(section) is None
