"""Where the encoder's output can be cut cleanly: after a whole, gap-free run of frames.

An encoder whose ffmpeg dies leaves its last frame half written, and frames it had taken but
not yet written (look-ahead, B-frames, threads) never come out. So the encoder's reader holds
back what follows the last *clean cut*: a point in the stream (the start of a video PES)
before which the video frames are exactly the first ``n`` of the run, none missing (with
B-frames they come out of order, so not every frame boundary is one). What lies before it is
released to the fanout; what lies after is released at the next clean cut, at the end of a
drained stream (:meth:`OutputCut.finish`), or thrown away when the encode dies, and the next
encoder encodes those frames again from the program's frame queue. A destination so sees the
old stream end on a whole frame and the new one continue with the next.

Frames are found by their PTS: the run's ffmpeg stamps its output frame ``m`` at
``first_pts + m * 90000 / fps`` (``-output_ts_offset``, 90 kHz, modulo 2^33). A PES is
known complete when the next video PES starts. Holding back costs a few frames of latency
(a B-frame group). Not thread-safe: the reader thread owns it.
"""

from __future__ import annotations

from vistter.actors.fanout.ts import (
    PACKET_SIZE,
    PAT_PID,
    TsAligner,
    payload_offset,
    pmt_pids_from_pat,
    psi_section,
    video_pid_from_pmt,
)

__all__ = ["MAX_HOLD_BYTES", "OutputCut", "pes_pts"]

PTS_CLOCK = 90_000
PTS_WRAP = 1 << 33
MAX_HOLD_BYTES = 4 * 1024 * 1024
"""A run that shows no clean cut for this many bytes (no video PID found, frames missing)
is released as it is: the output must never stall on this bookkeeping."""
MAX_REORDER = 16
"""Frames completed past a missing one after which the missing one is taken as never coming
(an encoder that dropped it) rather than reordered."""


def pes_pts(packet: bytes | memoryview, offset: int = 0) -> int | None:
    """The PTS (90 kHz) of the PES that starts in the packet at ``offset``, or None."""
    start = payload_offset(packet, offset)
    end = offset + PACKET_SIZE
    if start is None or start + 14 > end:
        return None
    if packet[start] != 0 or packet[start + 1] != 0 or packet[start + 2] != 1:
        return None
    if not packet[start + 7] & 0x80:
        return None
    p = packet[start + 9 : start + 14]
    return (
        ((p[0] >> 1) & 0x07) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | p[4] >> 1
    )


class OutputCut:
    """Holds back one encoder run's output after its last clean cut (see the module doc).

    ``first_pts``: the 90 kHz PTS of the run's output frame 0; ``fps``: its output rate.
    :attr:`complete` is the number of output frames in what was released so far (whole
    and gap-free).
    """

    def __init__(self, first_pts: int, fps: float) -> None:
        self.first_pts = first_pts % PTS_WRAP
        self.fps = fps
        self.complete = 0
        self.skipped_frames = 0
        self._next = 0  # frames [0, _next) are complete in what was received so far
        self._aligner = TsAligner()
        self._pending = bytearray()
        self._pmt_pid: int | None = None
        self._video_pid: int | None = None
        self._current: int | None = None  # output frame of the PES being received
        self._done: set[int] = set()

    @property
    def held_bytes(self) -> int:
        return len(self._pending)

    @property
    def complete_seconds(self) -> float:
        """Seconds of the run's output released whole, from its first frame."""
        return self.complete / self.fps

    def feed(self, chunk: bytes) -> bytes:
        """Take a chunk of the run's stdout; return the bytes now safe to pass on."""
        data = self._aligner.feed(chunk)
        if not data:
            return b""
        base = len(self._pending)
        self._pending += data
        cut = None
        complete = self.complete
        flags = data[1::PACKET_SIZE]
        lows = data[2::PACKET_SIZE]
        for index in range(len(data) // PACKET_SIZE):
            high = flags[index]
            if not high & 0x40:  # only packets that start a PES or a section matter
                continue
            pid = ((high & 0x1F) << 8) | lows[index]
            offset = index * PACKET_SIZE
            if pid == self._video_pid:
                if self._frame_starts(data, offset):
                    cut, complete = base + offset, self._next
            elif pid == PAT_PID:
                section = psi_section(data, offset)
                pids = pmt_pids_from_pat(section) if section is not None else []
                if pids:
                    self._pmt_pid = pids[0]
            elif pid == self._pmt_pid:
                section = psi_section(data, offset)
                video = video_pid_from_pmt(section) if section is not None else None
                if video is not None:
                    self._video_pid = video
        if cut is None and len(self._pending) > MAX_HOLD_BYTES:
            cut = len(self._pending)  # released as it is: nothing more is known complete
        if cut is None:
            return b""
        self.complete = complete
        out = bytes(self._pending[:cut])
        del self._pending[:cut]
        return out

    def finish(self) -> bytes:
        """The stream ended cleanly (ffmpeg drained and exited): everything held, whole."""
        if self._current is not None:
            self._done.add(self._current)
            self._current = None
            self._advance()
        self.complete = self._next
        out = bytes(self._pending)
        self._pending.clear()
        return out

    def discard(self) -> int:
        """The run died: forget what is held (a frame cut short, frames after a missing one).
        Returns the bytes thrown away."""
        lost = len(self._pending)
        self._pending.clear()
        return lost

    # -- internals ---------------------------------------------------------------------

    def _frame_starts(self, data: bytes, offset: int) -> bool:
        """A video PES starts at ``offset``: the previous one is complete. Returns whether
        the stream can be cut cleanly right before this packet."""
        if self._current is not None:
            self._done.add(self._current)
        self._advance()
        clean = not self._done
        pts = pes_pts(data, offset)
        if pts is None:
            self._current = None
            return clean
        ticks = (pts - self.first_pts) % PTS_WRAP
        if ticks > PTS_WRAP // 2:  # before the run's first frame: not one of ours
            ticks -= PTS_WRAP
        self._current = round(ticks * self.fps / PTS_CLOCK)
        return clean

    def _advance(self) -> None:
        done = self._done
        while self._next in done:
            done.discard(self._next)
            self._next += 1
        if len(done) > MAX_REORDER:  # the missing frame is not coming: go on without it
            self.skipped_frames += min(done) - self._next
            self._next = min(done)
            self._advance()
        for frame in [f for f in done if f < self._next]:
            done.discard(frame)
