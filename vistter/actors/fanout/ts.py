"""MPEG-TS packets: alignment, headers, PAT/PMT, and where video keyframes start.

The encoder writes an MPEG transport stream on a pipe, which arrives in chunks cut
anywhere. :class:`TsScanner` turns those chunks into :class:`TsBatch` es of whole
188-byte packets (re-aligning on the ``0x47`` sync byte when a chunk is cut mid-packet or
bytes were lost), remembers the latest PAT and PMT packets, learns the video PID from the
PMT, and marks the packets that start a video keyframe: a payload unit start on the video
PID whose adaptation field has the *random access indicator* set (ffmpeg's muxer sets it
on every keyframe).

Only what the fanout needs is parsed. PSI sections must fit in one packet, which is what
ffmpeg (and every muxer of a single-programme stream) writes; a longer section is ignored
and the previous PAT/PMT stays in force.
"""

from __future__ import annotations

from dataclasses import dataclass

PACKET_SIZE = 188
SYNC_BYTE = 0x47
PAT_PID = 0x0000
NULL_PID = 0x1FFF

#: PMT stream types that carry video (MPEG-1/2, MPEG-4 part 2, H.264, HEVC, VVC).
VIDEO_STREAM_TYPES = frozenset({0x01, 0x02, 0x10, 0x1B, 0x24, 0x33})

_SYNC_CONFIRMATIONS = 2
"""Packets after a candidate sync byte that must also start with 0x47 to trust it."""


# -- one packet --------------------------------------------------------------------------


def packet_pid(packet: bytes | memoryview, offset: int = 0) -> int:
    """The 13-bit PID of the packet starting at ``offset``."""
    return ((packet[offset + 1] & 0x1F) << 8) | packet[offset + 2]


def payload_unit_start(packet: bytes | memoryview, offset: int = 0) -> bool:
    """Whether the packet starts a PES packet or a PSI section (PUSI bit)."""
    return bool(packet[offset + 1] & 0x40)


def random_access(packet: bytes | memoryview, offset: int = 0) -> bool:
    """Whether the packet has an adaptation field with the random access indicator set."""
    if not packet[offset + 3] & 0x20:  # no adaptation field
        return False
    length = packet[offset + 4]
    return length > 0 and bool(packet[offset + 5] & 0x40)


def payload_offset(packet: bytes | memoryview, offset: int = 0) -> int | None:
    """Where the payload of the packet at ``offset`` starts (absolute), or None without one."""
    control = (packet[offset + 3] >> 4) & 0x3
    if not control & 0x1:
        return None
    start = offset + 4
    if control & 0x2:
        start += 1 + packet[offset + 4]
    return start if start < offset + PACKET_SIZE else None


def psi_section(packet: bytes | memoryview, offset: int = 0) -> bytes | None:
    """The PSI section that starts in this packet (after the pointer field), or None.

    None when the packet does not start a section, or the section does not fit in it.
    """
    if not payload_unit_start(packet, offset):
        return None
    start = payload_offset(packet, offset)
    if start is None:
        return None
    end = offset + PACKET_SIZE
    section_start = start + 1 + packet[start]
    if section_start + 3 > end:
        return None
    length = ((packet[section_start + 1] & 0x0F) << 8) | packet[section_start + 2]
    section_end = section_start + 3 + length
    if section_end > end:
        return None
    return bytes(packet[section_start:section_end])


def pmt_pids_from_pat(section: bytes) -> list[int]:
    """The PMT PIDs a PAT section lists (network PID entries skipped)."""
    if len(section) < 12 or section[0] != 0x00:
        return []
    pids: list[int] = []
    for at in range(8, len(section) - 4 - 3, 4):
        program = (section[at] << 8) | section[at + 1]
        pid = ((section[at + 2] & 0x1F) << 8) | section[at + 3]
        if program != 0:
            pids.append(pid)
    return pids


def streams_from_pmt(section: bytes) -> list[tuple[int, int]]:
    """``(stream_type, pid)`` of every elementary stream a PMT section lists."""
    if len(section) < 16 or section[0] != 0x02:
        return []
    info_length = ((section[10] & 0x0F) << 8) | section[11]
    at = 12 + info_length
    end = len(section) - 4  # CRC
    streams: list[tuple[int, int]] = []
    while at + 5 <= end:
        stream_type = section[at]
        pid = ((section[at + 1] & 0x1F) << 8) | section[at + 2]
        es_info = ((section[at + 3] & 0x0F) << 8) | section[at + 4]
        streams.append((stream_type, pid))
        at += 5 + es_info
    return streams


def video_pid_from_pmt(section: bytes) -> int | None:
    """The PID of the first video stream a PMT section lists, or None."""
    for stream_type, pid in streams_from_pmt(section):
        if stream_type in VIDEO_STREAM_TYPES:
            return pid
    return None


# -- alignment ---------------------------------------------------------------------------


class TsAligner:
    """Cuts a byte stream into whole, sync-checked 188-byte packets.

    Not thread-safe: one reader thread (the fanout's) owns it. A chunk may end anywhere,
    even inside a packet: the rest is kept for the next chunk. When a packet does not start
    with the sync byte (bytes lost or garbage), the aligner looks for the next offset whose
    sync byte is confirmed by the following packets' and skips what lies between; skipped
    bytes and resyncs are counted. A packet cut short is only noticed at the next sync
    byte, so it passes glued to the head of the following packet, which is lost (the
    destination's demuxer drops the corrupt packet by its continuity counter). In Vistter
    this is a safety net only: every loss in the :class:`~vistter.actors.encoder.ts_pipe.TsPipe`
    is flagged, and the fanout resets the aligner there.
    """

    def __init__(self) -> None:
        self._pending = b""
        self._aligned = False
        self.skipped_bytes = 0
        self.resyncs = 0

    def reset(self) -> None:
        """Forget a partial packet: the next bytes do not continue the previous ones."""
        self.skipped_bytes += len(self._pending)
        self._pending = b""
        self._aligned = False

    def feed(self, chunk: bytes) -> bytes:
        """The whole packets completed by ``chunk`` (possibly none), joined."""
        data = self._pending + chunk if self._pending else chunk
        out: list[bytes] = []
        pos = 0
        while True:
            if not self._aligned:
                found, confirmed = _find_sync(data, pos)
                self.skipped_bytes += found - pos
                pos = found
                if not confirmed:
                    break
                self._aligned = True
            whole = (len(data) - pos) // PACKET_SIZE
            if whole == 0:
                break
            syncs = data[pos : pos + whole * PACKET_SIZE : PACKET_SIZE]
            good = whole if syncs.count(SYNC_BYTE) == whole else _first_bad(syncs)
            if good:
                out.append(data[pos : pos + good * PACKET_SIZE])
                pos += good * PACKET_SIZE
            if good == whole:
                break
            self._aligned = False  # a packet without its sync byte: look for the next one
            self.resyncs += 1
        self._pending = data[pos:]
        return out[0] if len(out) == 1 else b"".join(out)

    @property
    def pending_bytes(self) -> int:
        return len(self._pending)


def _find_sync(data: bytes, start: int) -> tuple[int, bool]:
    """The first offset >= ``start`` that may start a packet, and whether it is confirmed.

    Confirmed means the next :data:`_SYNC_CONFIRMATIONS` packets also start with the sync
    byte. An unconfirmed candidate near the end waits for more data; with no candidate at
    all, everything is skipped (returns ``len(data)``).
    """
    found = data.find(SYNC_BYTE, start)
    while found >= 0:
        if found + PACKET_SIZE * _SYNC_CONFIRMATIONS >= len(data):
            return found, False
        if all(
            data[found + k * PACKET_SIZE] == SYNC_BYTE for k in range(1, _SYNC_CONFIRMATIONS + 1)
        ):
            return found, True
        found = data.find(SYNC_BYTE, found + 1)
    return len(data), False


def _first_bad(syncs: bytes) -> int:
    for index, byte in enumerate(syncs):
        if byte != SYNC_BYTE:
            return index
    return len(syncs)


# -- scanning ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TsBatch:
    """Whole TS packets read from the encoder in one go, as the fanout hands them on.

    ``keyframes`` are the byte offsets (multiples of 188) of the packets that start a video
    keyframe; ``psi`` is the PAT packet followed by the PMT packet in force at the first of
    them (or at the end of the batch when it holds no keyframe; empty until both were
    seen): what a destination that resumes at that keyframe gets first.
    """

    data: bytes
    keyframes: tuple[int, ...] = ()
    psi: bytes = b""

    @property
    def packets(self) -> int:
        return len(self.data) // PACKET_SIZE


class TsScanner:
    """Turns encoder output chunks into :class:`TsBatch` es, tracking PAT, PMT and video PID.

    Not thread-safe: owned by one thread (the fanout's reader).
    """

    def __init__(self) -> None:
        self.aligner = TsAligner()
        self.pat: bytes | None = None
        self.pmt: bytes | None = None
        self.pmt_pid: int | None = None
        self.video_pid: int | None = None
        self.packets = 0
        self.keyframes = 0

    def reset(self) -> None:
        """Start over: the next chunk begins a new stream (a restarted encoder) or follows a
        gap. Forgets the partial packet and the PAT, PMT and video PID (learnt again from the
        next PAT and PMT, which ffmpeg sends before every keyframe)."""
        self.aligner.reset()
        self.pat = self.pmt = None
        self.pmt_pid = self.video_pid = None

    @property
    def psi(self) -> bytes:
        """The latest PAT and PMT packets, or empty until both are known."""
        if self.pat is None or self.pmt is None:
            return b""
        return self.pat + self.pmt

    def feed(self, chunk: bytes) -> TsBatch | None:
        """The packets ``chunk`` completes, annotated; None if it completes none."""
        data = self.aligner.feed(chunk)
        if not data:
            return None
        count = len(data) // PACKET_SIZE
        self.packets += count
        keyframes: list[int] = []
        psi_at_keyframe = b""
        flags = data[1::PACKET_SIZE]
        lows = data[2::PACKET_SIZE]
        for index in range(count):
            high = flags[index]
            if not high & 0x40:  # only packets that start a section or a PES matter
                continue
            pid = ((high & 0x1F) << 8) | lows[index]
            offset = index * PACKET_SIZE
            if pid == self.video_pid:
                if random_access(data, offset):
                    if not keyframes:
                        psi_at_keyframe = self.psi
                    keyframes.append(offset)
            elif pid == PAT_PID:
                self._on_pat(data, offset)
            elif pid == self.pmt_pid:
                self._on_pmt(data, offset)
        self.keyframes += len(keyframes)
        return TsBatch(data, tuple(keyframes), psi_at_keyframe if keyframes else self.psi)

    def _on_pat(self, data: bytes, offset: int) -> None:
        section = psi_section(data, offset)
        if section is None:
            return
        pids = pmt_pids_from_pat(section)
        if not pids:
            return
        if pids[0] != self.pmt_pid:
            self.pmt_pid = pids[0]
            self.pmt = None
            self.video_pid = None
        self.pat = data[offset : offset + PACKET_SIZE]

    def _on_pmt(self, data: bytes, offset: int) -> None:
        section = psi_section(data, offset)
        if section is None:
            return
        video = video_pid_from_pmt(section)
        if video is None:
            return
        self.video_pid = video
        self.pmt = data[offset : offset + PACKET_SIZE]
