"""A live MPEG-TS test source (``TsFeed``) and the ChunkFeed plumbing, with real ffmpeg.

``TsFeed`` stands in for the fanout's per-destination queue in the destination and recorder
tests: it runs the imageio ffmpeg (lavfi test pattern + silent AAC, real time) and offers its
MPEG-TS through the ``ChunkSource`` protocol, with a real ``resync`` (the next chunk starts
with PAT, PMT and a video keyframe).
"""

from __future__ import annotations

import collections
import io
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from support.eventsink import RecordingSink

from chaos.realparts import end_process
from chaos.realparts.decode import decode_video
from vistter.actors.outputs.chunk_feed import ChunkFeed
from vistter.clock import MonotonicClock
from vistter.media.ffmpeg import FfmpegBinary
from vistter.supervisors.processes import ProcessSet

PACKET = 188
PAT_PID = 0x0000
PMT_PID = 0x1000
VIDEO_PID = 0x0100
MAX_CHUNK = 348 * PACKET


def _pid(packet: bytes) -> int:
    return ((packet[1] & 0x1F) << 8) | packet[2]


def _starts_keyframe(packet: bytes) -> bool:
    """A video packet that starts a PES and carries the random-access flag."""
    if _pid(packet) != VIDEO_PID or not packet[1] & 0x40:
        return False
    has_adaptation = packet[3] & 0x20
    return bool(has_adaptation and packet[4] > 0 and packet[5] & 0x40)


class TsFeed:
    """Real-time MPEG-TS from ffmpeg as a ``ChunkSource``. Bounded; drops and resyncs when
    nobody reads. Starts (and restarts after ``resync``) at PAT + PMT + a video keyframe."""

    def __init__(
        self,
        ffmpeg: str,
        *,
        size: str = "320x240",
        fps: int = 30,
        gop: int = 30,
        bitrate_kbps: int | None = None,
        capacity_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        rate = []
        if bitrate_kbps is not None:  # CBR with filler: a high bitrate at almost no CPU cost
            rate = [
                "-b:v", f"{bitrate_kbps}k", "-minrate", f"{bitrate_kbps}k",
                "-maxrate", f"{bitrate_kbps}k", "-bufsize", f"{bitrate_kbps // 2}k",
                "-x264-params", "nal-hrd=cbr:force-cfr=1",
            ]  # fmt: skip
        self.argv = [
            ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
            "-re", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}",
            "-re", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
            "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
            "-tune", "zerolatency", "-g", str(gop), "-pix_fmt", "yuv420p", *rate,
            "-c:a", "aac", "-b:a", "64k", "-f", "mpegts",
            "-mpegts_start_pid", str(VIDEO_PID), "-mpegts_pmt_start_pid", str(PMT_PID),
            "-flush_packets", "1", "pipe:1",
        ]  # fmt: skip
        self.capacity = capacity_bytes // PACKET
        self._cond = threading.Condition()
        self._packets: collections.deque[bytes] = collections.deque()
        self._resyncing = True
        self._pat: bytes | None = None
        self._pmt: bytes | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self.resyncs = 0
        self.packets_in = 0
        self.bytes_out = 0
        self.error: BaseException | None = None

    # -- ChunkSource -------------------------------------------------------------------

    def get(self, timeout: float) -> bytes | None:
        with self._cond:
            if not self._packets:
                self._cond.wait(timeout)
            if not self._packets:
                return None
            out: list[bytes] = []
            while self._packets and len(out) < MAX_CHUNK // PACKET:
                out.append(self._packets.popleft())
        chunk = b"".join(out)
        self.bytes_out += len(chunk)
        return chunk

    def resync(self) -> None:
        with self._cond:
            self._packets.clear()
            self._resyncing = True
            self.resyncs += 1

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> TsFeed:
        self._process = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self._thread = threading.Thread(target=self._read, name="test-ts-feed", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._process is not None:
            end_process(self._process)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> TsFeed:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def wait_packets(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.packets_in >= count:
                return True
            time.sleep(0.05)
        return False

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        assert isinstance(stdout, io.BufferedReader)
        pending = b""
        try:
            while True:
                data = stdout.read1(64 * 1024)
                if not data:
                    return
                pending += data
                whole = len(pending) - len(pending) % PACKET
                for offset in range(0, whole, PACKET):
                    self._on_packet(pending[offset : offset + PACKET])
                pending = pending[whole:]
        except (OSError, ValueError) as exc:
            self.error = exc

    def _on_packet(self, packet: bytes) -> None:
        if packet[0] != 0x47:
            raise AssertionError("the test TS lost packet alignment")
        self.packets_in += 1
        pid = _pid(packet)
        with self._cond:
            if pid == PAT_PID:
                self._pat = packet
            elif pid == PMT_PID:
                self._pmt = packet
            if self._resyncing:
                if not _starts_keyframe(packet) or self._pat is None or self._pmt is None:
                    return
                self._packets.extend((self._pat, self._pmt))
                self._resyncing = False
            if len(self._packets) >= self.capacity:
                self._packets.clear()
                self._resyncing = True
                return
            self._packets.append(packet)
            self._cond.notify()


class EventLog(RecordingSink):
    """Every published event; a test can wait for a destination state."""

    def wait_state(self, state: str, timeout: float, *, attempt: int | None = None) -> bool:
        def seen(messages: list[tuple[str, dict[str, Any]]]) -> bool:
            return any(
                t == "event.destination" and p["state"] == state
                and (attempt is None or p["attempt"] == attempt)
                for t, p in messages
            )  # fmt: skip

        return self.wait_for(seen, timeout)


# -- tests of the test source --------------------------------------------------------------


@pytest.mark.timeout(30)
def test_ts_feed_starts_at_pat_pmt_keyframe_and_resyncs(ts_feed: TsFeed, tmp_path: Path) -> None:
    out = tmp_path / "feed.ts"
    with out.open("wb") as sink:
        first = None
        deadline = time.monotonic() + 10
        while first is None and time.monotonic() < deadline:
            first = ts_feed.get(0.5)
        assert first is not None, "the test feed produced nothing in 10 s"
        assert _pid(first[:PACKET]) == PAT_PID
        assert _pid(first[PACKET : 2 * PACKET]) == PMT_PID
        assert _starts_keyframe(first[2 * PACKET : 3 * PACKET])
        sink.write(first)
        ts_feed.resync()
        got = b""
        deadline = time.monotonic() + 2.5  # 2.5 s of stream: more than two GOPs
        while time.monotonic() < deadline:
            got += ts_feed.get(0.5) or b""
        assert _pid(got[:PACKET]) == PAT_PID
        assert _starts_keyframe(got[2 * PACKET : 3 * PACKET])
        sink.write(got)
    video = decode_video(out)
    assert (video.width, video.height) == (320, 240)
    assert video.frames >= 45


# -- ChunkFeed with a real ffmpeg --------------------------------------------------------


def _copy_argv(ffmpeg: str, out: Path) -> list[str]:
    return [
        ffmpeg, "-hide_banner", "-loglevel", "warning", "-nostats", "-progress", "pipe:1",
        "-stats_period", "0.5", "-f", "mpegts", "-i", "pipe:0", "-c", "copy", "-f", "mpegts",
        "-y", str(out),
    ]  # fmt: skip


@pytest.mark.timeout(40)
def test_chunk_feed_moves_bytes_and_reports_progress(
    ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary, tmp_path: Path
) -> None:
    processes = ProcessSet()
    exited = threading.Event()
    errors: list[tuple[str, BaseException]] = []
    out = tmp_path / "copy.ts"
    feed = ChunkFeed(
        name="test-copy", argv=_copy_argv(ffmpeg_binary.path, out), args_for_log="copy",
        source=ts_feed, processes=processes, clock=MonotonicClock(),
        on_exit=lambda code: exited.set(),
        on_error=lambda worker, exc: errors.append((worker, exc)),
    )  # fmt: skip
    feed.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (feed.progress().output_bytes or 0) < 50_000:
            time.sleep(0.1)
        progress = feed.progress()
        assert (progress.output_bytes or 0) >= 50_000, feed.stderr_tail()
        assert progress.input_bytes >= (progress.output_bytes or 0) * 0.8
        assert progress.last_input_at is not None
        assert progress.input_waiting(time.monotonic(), 2.0)
    finally:
        feed.stop()
    assert processes.pids() == []
    assert not exited.is_set(), "a feed stopped on purpose must not report an exit"
    assert errors == []
    assert decode_video(out).frames > 0


class _Exits:
    """The feed's ``on_exit``: every exit code, and an event set at the first."""

    def __init__(self) -> None:
        self.codes: list[int | None] = []
        self.event = threading.Event()

    def __call__(self, code: int | None) -> None:
        self.codes.append(code)
        self.event.set()

    def run_until_exit(self, feed: ChunkFeed, why: str) -> None:
        """Start ``feed``, wait up to 15 s for ffmpeg's exit (failing with ``why``), stop it."""
        feed.start()
        try:
            assert self.event.wait(15), why
        finally:
            feed.stop()


@pytest.mark.timeout(30)
def test_chunk_feed_reports_exit_with_redacted_stderr(
    ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary, tmp_path: Path
) -> None:
    processes = ProcessSet()
    on_exit = _Exits()
    codes = on_exit.codes
    missing = tmp_path / "no-such-dir" / "SECRET" / "out.ts"

    feed = ChunkFeed(
        name="test-exit", argv=_copy_argv(ffmpeg_binary.path, missing), args_for_log="copy",
        source=ts_feed, processes=processes, clock=MonotonicClock(), on_exit=on_exit,
        on_error=lambda worker, exc: None, redact=lambda line: line.replace("SECRET", "***"),
    )  # fmt: skip
    on_exit.run_until_exit(feed, "ffmpeg writing into a missing folder should exit")
    assert codes and codes[0] != 0
    tail = " ".join(feed.stderr_tail())
    assert "***" in tail
    assert "SECRET" not in tail


_Thread = threading.Thread


class _LateStderrThread(_Thread):
    """A feed thread whose stderr reader is slow to start, as on a saturated machine."""

    def start(self) -> None:
        if self.name.endswith("-stderr"):
            time.sleep(1.5)
        super().start()


@pytest.mark.timeout(30)
def test_an_ffmpeg_that_exits_at_once_is_an_exit_not_a_crash_of_the_feed(
    ts_feed: TsFeed, ffmpeg_binary: FfmpegBinary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The progress reader joins the stderr reader after ffmpeg exits: that one started last
    once, and a publisher refused at once crashed its destination with "cannot join thread
    before it is started" (seen in CI on a loaded machine)."""
    monkeypatch.setattr(threading, "Thread", _LateStderrThread)
    errors: list[tuple[str, BaseException]] = []
    on_exit = _Exits()
    codes = on_exit.codes
    feed = ChunkFeed(
        name="test-late", args_for_log="missing input",  # ffmpeg exits within ~0.1 s
        argv=[ffmpeg_binary.path, "-hide_banner", "-i", str(tmp_path / "none.ts"), "-f", "null",
              "-"], source=ts_feed, processes=ProcessSet(), clock=MonotonicClock(),
        on_exit=on_exit, on_error=lambda worker, exc: errors.append((worker, exc)),
    )  # fmt: skip
    on_exit.run_until_exit(feed, "ffmpeg reading a missing file should exit")
    assert errors == []
    assert codes and codes[0] != 0


class _BrokenSource:
    def get(self, timeout: float) -> bytes | None:
        raise RuntimeError("queue corrupted")

    def resync(self) -> None:
        return None


@pytest.mark.timeout(30)
def test_chunk_feed_reports_a_dead_writer_thread(
    ffmpeg_binary: FfmpegBinary, tmp_path: Path
) -> None:
    processes = ProcessSet()
    errors: list[tuple[str, BaseException]] = []
    died = threading.Event()

    def on_error(worker: str, exc: BaseException) -> None:
        errors.append((worker, exc))
        died.set()

    feed = ChunkFeed(
        name="test-broken", argv=_copy_argv(ffmpeg_binary.path, tmp_path / "x.ts"),
        args_for_log="copy", source=_BrokenSource(), processes=processes,
        clock=MonotonicClock(), on_exit=lambda code: None, on_error=on_error,
    )  # fmt: skip
    feed.start()
    try:
        assert died.wait(10)
    finally:
        feed.stop()
    worker, cause = errors[0]
    assert worker == "writer" and isinstance(cause, RuntimeError)
    assert "queue corrupted" in str(cause)
    assert processes.pids() == []
