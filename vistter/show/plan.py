"""A timeline compiled to program frames, and where its cues fall on the program.

The show counts *show frames*: frames since timeline frame 0 of the first pass, so show frame
``k * length + t`` is timeline frame ``t`` of loop iteration ``k``. A :class:`ShowPlan` maps a
timeline's cues to frames once (``round(seconds * fps)`` at the *program's* frame rate, which
is what the mixer counts); the show state's segment maps show frames to program frames with
one offset, ``program frame = anchor + show frame``.

An :class:`Occurrence` is one cue in one loop iteration placed on the program: its key
``(cue id, iteration)`` is what the track executors arm at most once per segment.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass

from vistter.models.timeline import Cue, TimelineDocument

__all__ = ["CueSpan", "Occurrence", "ShowPlan"]


@dataclass(frozen=True, slots=True)
class CueSpan:
    """One cue on its track, in timeline frames: ``start`` inclusive, ``end`` exclusive."""

    track_id: str
    cue: Cue
    start: int
    end: int

    @property
    def cue_id(self) -> str:
        return self.cue.id


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A cue in loop iteration ``iteration``, from program frame ``start`` to ``end``."""

    span: CueSpan
    iteration: int
    start: int
    end: int

    @property
    def cue(self) -> Cue:
        return self.span.cue

    @property
    def key(self) -> tuple[str, int]:
        return (self.span.cue.id, self.iteration)


class ShowPlan:
    """The cues of one timeline in program frames. Immutable; any thread.

    ``fps`` is the program's frame rate; ``loop`` whether the show starts over at its end.
    """

    def __init__(self, document: TimelineDocument, fps: int, *, loop: bool) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.document = document
        self.timeline = document.timeline
        self.fps = fps
        self.loop = loop
        self.length = max(1, self.frames(self.timeline.duration))
        video = self.timeline.tracks.video
        self.video_track_id = video.track_id
        self._spans: dict[str, tuple[CueSpan, ...]] = {
            video.track_id: self._compile(video.track_id, video.cues)
        }
        self.layers: dict[str, int] = {}
        for track in self.timeline.overlay_tracks:
            self._spans[track.track_id] = self._compile(track.track_id, track.cues)
            self.layers[track.track_id] = track.layer
        self._starts = {tid: [s.start for s in spans] for tid, spans in self._spans.items()}
        self._by_id = {s.cue_id: s for spans in self._spans.values() for s in spans}

    def frames(self, seconds: float) -> int:
        """Seconds as program frames: ``round(seconds * fps)``."""
        return round(float(seconds) * self.fps)

    def _compile(self, track_id: str, cues: tuple[Cue, ...]) -> tuple[CueSpan, ...]:
        spans = [
            CueSpan(track_id, cue, self.frames(cue.start_time), self.frames(cue.end_time))
            for cue in cues
        ]
        return tuple(sorted((s for s in spans if s.end > s.start), key=lambda s: s.start))

    # -- lookups ----------------------------------------------------------------------------

    @property
    def overlay_track_ids(self) -> tuple[str, ...]:
        """Overlay tracks, bottom layer first."""
        return tuple(self.layers)

    @property
    def track_ids(self) -> tuple[str, ...]:
        return (self.video_track_id, *self.layers)

    def spans(self, track_id: str) -> tuple[CueSpan, ...]:
        return self._spans.get(track_id, ())

    def find(self, cue_id: str) -> CueSpan | None:
        return self._by_id.get(cue_id)

    def video_spans(self) -> tuple[CueSpan, ...]:
        return self._spans[self.video_track_id]

    def span_at(self, track_id: str, frame: int) -> CueSpan | None:
        """The cue of ``track_id`` playing at timeline frame ``frame`` (None in a gap)."""
        index = bisect.bisect_right(self._starts.get(track_id, []), frame) - 1
        if index < 0:
            return None
        span = self._spans[track_id][index]
        return span if frame < span.end else None

    def iteration_of(self, show_frame: int) -> tuple[int, int]:
        """``(loop iteration, timeline frame)`` of a show frame (iteration 0 without loop)."""
        if show_frame < 0:
            return 0, show_frame
        if not self.loop:
            return 0, show_frame
        return divmod(show_frame, self.length)

    def ended(self, show_frame: int) -> bool:
        """Whether a show that does not loop is over at ``show_frame``."""
        return not self.loop and show_frame >= self.length

    # -- placing cues on the program --------------------------------------------------------

    def covering(self, track_id: str, anchor: int, frame: int) -> Occurrence | None:
        """The occurrence of a cue of ``track_id`` on air at program ``frame``."""
        show_frame = frame - anchor
        if show_frame < 0 or self.ended(show_frame):
            return None
        iteration, timeline_frame = self.iteration_of(show_frame)
        span = self.span_at(track_id, timeline_frame)
        if span is None:
            return None
        return self._place(span, iteration, anchor)

    def starting(self, track_id: str, anchor: int, lo: int, hi: int) -> Iterator[Occurrence]:
        """Occurrences of ``track_id``'s cues starting in program frames ``[lo, hi)``, in order."""
        spans = self._spans.get(track_id, ())
        if not spans or hi <= lo:
            return
        first = max(0, lo - anchor)
        last = hi - anchor  # exclusive
        if last <= 0:
            return
        if not self.loop:
            for span in spans:
                if first <= span.start < min(last, self.length):
                    yield self._place(span, 0, anchor)
            return
        for iteration in range(first // self.length, (last - 1) // self.length + 1):
            base = iteration * self.length
            for span in spans:
                if first <= base + span.start < last:
                    yield self._place(span, iteration, anchor)

    def next_video(self, show_frame: int) -> CueSpan | None:
        """The first video cue starting after ``show_frame``'s timeline frame (wrapping round
        when the show loops), or None."""
        _, timeline_frame = self.iteration_of(show_frame)
        spans = self.video_spans()
        for span in spans:
            if span.start > timeline_frame:
                return span
        return spans[0] if (self.loop and spans) else None

    def _place(self, span: CueSpan, iteration: int, anchor: int) -> Occurrence:
        base = anchor + iteration * self.length
        return Occurrence(span, iteration, base + span.start, base + span.end)


