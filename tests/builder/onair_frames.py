"""What the nginx recording of a show shows, frame by frame, against what its timeline designs.

The recording is decoded once (PyAV, tolerant of a truncated tail). The demo appliance of
:mod:`builder.onair_check` is always on air, so nginx records the slate (dark) before the show;
the first camera frame after the slate is the show's frame 0 (the *anchor*), and every frame
is numbered from there by the recording's own timestamps. On each frame:

- which camera is on screen: the colour of the picture's centre (:data:`CAMERA_COLOURS`);
- the logo: the asset file, scaled as the timeline's resolution asks, searched once in the top
  right corner of the first frame of its cue, then compared on every frame with "logo over
  the camera" and "camera alone" (the nearer wins, by a factor of two);
- a lower third: the appliance's own rendering of the cue, compared the same way.

:func:`check_recording` gives every designed edge (camera change, overlay on / off) with the
measured frame and its offset, and every frame that shows something else than designed
(frames within an edge's tolerance excepted). Pure computation in the caller's thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from PIL import Image

from builder.onair_check import (
    ASSETS,
    CAMERA_COLOURS,
    FPS,
    Design,
    DropLog,
    OverlayWindow,
)
from vistter.media.frames import FrameFormat
from vistter.models.assets import resolve_asset
from vistter.models.overlays import LogoOverlay
from vistter.overlays.render import render_overlay

__all__ = [
    "ISSUE_EDGES", "Edge", "OnAirResult", "assert_issue_show_in_recording",
    "assert_issue_show_on_program", "check_recording", "colour_name",
]

SLATE = "dark"
SEARCH_WINDOW = 90
"""Frames either side of a designed edge in which the measured edge is looked for."""
SEARCH_EVERY = 5
"""While the logo is not found, its place is searched again on every fifth frame..."""
SEARCH_SECONDS = 30
"""...for the first 30 s of its cue at most."""

Pixels = npt.NDArray[np.float32]


def colour_name(pixels: Pixels) -> str:
    """The dominant colour of ``pixels``: red, green, blue, or dark (the slate)."""
    r, g, b = (float(v) for v in pixels.reshape(-1, 3).mean(axis=0))
    if max(r, g, b) < 110:
        return SLATE
    return ("red", "green", "blue")[int(np.argmax([r, g, b]))]


@dataclass
class _Overlay:
    """An overlay's expected picture (RGB and effective alpha) at ``x``, ``y``."""

    rgb: Pixels
    alpha: Pixels
    x: int
    y: int

    def errors(self, frame: Pixels, background: Pixels) -> tuple[float, float]:
        """Mean absolute error of the frame's region against "overlay over the background"
        and against "background alone"."""
        h, w = self.alpha.shape[:2]
        region = frame[self.y:self.y + h, self.x:self.x + w]
        alpha = self.alpha[:region.shape[0], :region.shape[1]]
        rgb = self.rgb[:region.shape[0], :region.shape[1]]
        over = background * (1 - alpha) + rgb * alpha
        return float(np.abs(region - over).mean()), float(np.abs(region - background).mean())


def _split(image: Image.Image, opacity: float) -> tuple[Pixels, Pixels]:
    pixels = np.asarray(image.convert("RGBA"), dtype=np.float32)
    return pixels[..., :3], pixels[..., 3:] / 255.0 * opacity


def _logo_picture(window: OverlayWindow, design: Design, fmt: FrameFormat,
                  assets: Path) -> tuple[Pixels, Pixels]:
    """The logo asset file itself, scaled as the timeline asks (independent of the renderer)."""
    params = window.params
    assert isinstance(params, LogoOverlay)
    picture = Image.open(resolve_asset(params.image_url, assets)).convert("RGBA")
    factor = fmt.height / design.height * float(params.scale)
    size = (max(1, round(picture.width * factor)), max(1, round(picture.height * factor)))
    return _split(picture.resize(size, Image.Resampling.LANCZOS), float(params.opacity))


def _find_top_right(frame: Pixels, background: Pixels, rgb: Pixels, alpha: Pixels) -> _Overlay:
    """The place in the top right corner where the picture matches the frame best."""
    h, w = alpha.shape[:2]
    width, height = frame.shape[1], frame.shape[0]
    reach = height // 8
    best: tuple[float, int, int] | None = None
    for y in range(0, min(reach, height - h) + 1):
        for x in range(max(0, width - w - reach), width - w + 1):
            error = _Overlay(rgb, alpha, x, y).errors(frame, background)[0]
            if best is None or error < best[0]:
                best = (error, x, y)
    assert best is not None, "the logo is larger than the frame"
    return _Overlay(rgb, alpha, best[1], best[2])


@dataclass
class _Reading:
    number: int
    source: str
    lower_third: bool | None = None
    logo: bool | None = None


@dataclass
class Edge:
    """A designed change and where the recording shows it (frames from the anchor)."""

    what: str
    designed: int
    measured: int | None
    tolerance: int
    dropped: tuple[int, int] | None = None
    """Frames the encoder dropped before this edge (at least, at most), when known."""

    @property
    def offset(self) -> int | None:
        return None if self.measured is None else self.measured - self.designed

    @property
    def ok(self) -> bool:
        """On its designed frame in the recording (within the tolerance)."""
        return self.offset is not None and abs(self.offset) <= self.tolerance

    @property
    def ok_in_program(self) -> bool:
        """On its designed frame on the program clock. The encoder writes the last frame
        again for each frame its queue dropped, so the recording keeps the program clock
        and this is :attr:`ok`; ``dropped`` only explains a failure."""
        return self.ok

    def line(self) -> str:
        seconds = f"{self.designed // FPS // 60}:{self.designed // FPS % 60:02d}"
        where = ("not found" if self.offset is None
                 else f"frame {self.measured}, offset {self.offset:+d}")
        line = f"{self.what} at {seconds} (frame {self.designed}): {where} (±{self.tolerance})"
        if self.dropped is not None and self.dropped != (0, 0):
            low, high = self.dropped
            line += f"; the encoder dropped {low}..{high} frames before it"
            if self.offset is not None:
                back = self.offset + low, self.offset + high
                line += f" (offset with them put back: {back[0]:+d}..{back[1]:+d})"
        return line


@dataclass
class OnAirResult:
    """Everything measured on one recording."""

    recording: Path
    frames: int = 0
    gaps: list[float] = field(default_factory=list)
    anchor_time: float | None = None
    last: int = -1
    """The last frame number (from the anchor) the recording holds."""
    edges: list[Edge] = field(default_factory=list)
    wrong: dict[str, list[int]] = field(default_factory=dict)
    logo_place: tuple[int, int, int, int] | None = None
    logo_errors: tuple[float, float] | None = None

    def lines(self) -> list[str]:
        out = [f"recording {self.recording.name}: {self.frames} frames, anchor (show frame 0) "
               f"at {self.anchor_time} s, {self.last + 1} show frames recorded, "
               f"{len(self.gaps)} timestamp gaps"]
        out += [edge.line() for edge in self.edges]
        if self.logo_place is not None and self.logo_errors is not None:
            x, y, width, height = self.logo_place
            with_logo, without = self.logo_errors
            out.append(f"logo at x={x} y={y} {width}x{height} px; mean error against the "
                       f"asset {with_logo:.1f}, against no logo {without:.1f}")
        out += [f"{what}: {len(frames)} frames off design, first {frames[:8]}"
                for what, frames in self.wrong.items() if frames]
        return out

    def problems(self, through_frame: int) -> list[str]:
        """What is not as designed, up to show frame ``through_frame`` (which the recording
        must reach)."""
        found = [] if self.anchor_time is not None else [
            "no slate-to-camera change in the recording: the show's frame 0 is not in it"]
        if self.last < through_frame:
            found.append(f"the recording ends at show frame {self.last}, before {through_frame}")
        found += [f"not as designed: {edge.line()}" for edge in self.edges
                  if edge.designed <= through_frame and not edge.ok]
        found += [f"{what}: frames {frames[:8]} ... ({len(frames)}) show something else than "
                  "designed" for what, frames in self.wrong.items() if frames]
        return found

    def program_problems(self, through_frame: int) -> list[str]:
        """What was not on its designed frame on the program clock: the edges with the
        encoder's dropped frames put back, and the logo on every frame of its cue."""
        found = [] if self.anchor_time is not None else [
            "no slate-to-camera change in the recording: the show's frame 0 is not in it"]
        found += [f"not on its program frame: {edge.line()}" for edge in self.edges
                  if edge.designed <= through_frame and not edge.ok_in_program]
        logo = self.wrong.get("logo", [])
        if logo:
            found.append(f"logo: frames {logo[:8]} ... ({len(logo)}) without it")
        return found


class _Checker:
    """One pass over the decoded frames; state between frames (anchor, overlay pictures)."""

    def __init__(self, design: Design, assets: Path, result: OnAirResult) -> None:
        self.design, self.assets, self.result = design, assets, result
        self.readings: list[_Reading] = []
        self.anchor: int | None = None
        self.previous = ""
        self.lower: dict[str, _Overlay] = {}
        self.logo: _Overlay | None = None
        self.logo_errors: list[tuple[float, float]] = []
        self.unsearched: list[tuple[int, Pixels, Pixels]] = []

    def feed(self, number: int, frame: Pixels) -> None:
        height, width = frame.shape[:2]
        centre = frame[height * 3 // 8:height * 5 // 8, width * 3 // 8:width * 5 // 8]
        source = colour_name(centre)
        if self.anchor is None:
            if self.previous == SLATE and source != SLATE:
                self.anchor = number
            else:
                self.previous = source
                return
        background = np.median(centre.reshape(-1, 3), axis=0).astype(np.float32)
        reading = _Reading(number - self.anchor, source)
        reading.lower_third = any(self._lower_third(w, frame, background)
                                  for w in self.design.lower_thirds)
        if self.design.logos:
            reading.logo = self._logo(reading.number, frame, background)
        self.readings.append(reading)

    def _lower_third(self, window: OverlayWindow, frame: Pixels, background: Pixels) -> bool:
        overlay = self.lower.get(window.cue)
        if overlay is None:
            fmt = FrameFormat(frame.shape[1], frame.shape[0], self.design.fps)
            drawn = render_overlay(window.params, fmt, self.assets,
                                   scale=fmt.height / self.design.height)
            overlay = _Overlay(*_split(drawn.image, drawn.opacity), drawn.x, drawn.y)
            self.lower[window.cue] = overlay
        present, absent = overlay.errors(frame, background)
        return present < absent

    def _logo(self, number: int, frame: Pixels, background: Pixels) -> bool:
        """Whether the logo is on ``frame``. Its place is searched from the first frame of its
        cue on (every :data:`SEARCH_EVERY` frames while not found: a late logo counts as
        missing until then), and kept once the asset matches there."""
        window = self.design.logos[0]
        if self.logo is None:
            first = window.start + window.fade_in
            if not first <= number <= first + SEARCH_SECONDS * self.design.fps:
                return False
            if number % SEARCH_EVERY:
                self.unsearched.append((number, frame, background))
                return False
            fmt = FrameFormat(frame.shape[1], frame.shape[0], self.design.fps)
            rgb, alpha = _logo_picture(window, self.design, fmt, self.assets)
            found = _find_top_right(frame, background, rgb, alpha)
            present, absent = found.errors(frame, background)
            if not _matches(present, absent):
                self.unsearched.clear()
                return False
            self.logo = found
            h, w = alpha.shape[:2]
            self.result.logo_place = (found.x, found.y, w, h)
            by_number = {reading.number: reading for reading in self.readings[-SEARCH_EVERY:]}
            for earlier, pixels, behind in self.unsearched:  # the frames since the last search
                by_number[earlier].logo = _matches(*found.errors(pixels, behind))
            self.unsearched.clear()
        present, absent = self.logo.errors(frame, background)
        self.logo_errors.append((present, absent))
        return _matches(present, absent)

    def finish(self, drops: DropLog | None) -> None:
        result, design = self.result, self.design
        if self.anchor is None or not self.readings:
            return
        result.last = self.readings[-1].number
        if self.logo_errors:
            result.logo_errors = (float(np.median([e[0] for e in self.logo_errors])),
                                  float(np.median([e[1] for e in self.logo_errors])))
        by_number = {reading.number: reading for reading in self.readings}
        camera_edges: list[tuple[int, int]] = []
        for index, (start, _, cue, camera) in enumerate(design.cameras):
            if index == 0 or start > result.last:
                continue
            tolerance = 1 + design.transitions[cue]
            before = CAMERA_COLOURS.get(design.cameras[index - 1][3], "?")
            after = CAMERA_COLOURS.get(camera, "?")
            dropped = drops.around(start) if drops else None
            measured = _edge(by_number, start, lambda r: r.source, before, after, dropped)
            result.edges.append(Edge(f"camera {camera} ({cue})", start, measured, tolerance,
                                     dropped))
            camera_edges.append((start, tolerance))
        overlay_edges: dict[str, list[tuple[int, int]]] = {"lower third": [], "logo": []}
        for what, windows, attribute in (("lower third", design.lower_thirds, "lower_third"),
                                         ("logo", design.logos, "logo")):
            for window in windows:
                for designed, fade, old, new, verb in (
                        (window.start, window.fade_in, False, True, "on"),
                        (window.end, window.fade_out, True, False, "off")):
                    if designed >= design.length or designed > result.last:
                        continue  # never off, or not recorded
                    dropped = drops.around(designed) if drops else None
                    measured = _edge(by_number, designed,
                                     lambda r, a=attribute: getattr(r, a), old, new, dropped)
                    result.edges.append(Edge(f"{what} {window.cue} {verb}", designed, measured,
                                             1 + fade, dropped))
                    overlay_edges[what].append((designed, 1 + fade))
        result.wrong = {
            "camera": [r.number for r in self.readings
                       if r.source != CAMERA_COLOURS.get(design.camera_at(r.number) or 0)
                       and not _near(r.number, camera_edges)],
            "lower third": [r.number for r in self.readings
                            if r.lower_third != _inside(r.number, design.lower_thirds)
                            and not _near(r.number, overlay_edges["lower third"])],
            "logo": [r.number for r in self.readings
                     if design.logos and r.logo != _inside(r.number, design.logos)
                     and not _near(r.number, overlay_edges["logo"])],
        }


def _matches(present: float, absent: float) -> bool:
    """The picture is there: the frame is at least twice as near "picture over the camera"
    as "camera alone"."""
    return present < absent * 0.5


def _edge(readings: Mapping[int, _Reading], designed: int, value: Any, old: object,
          new: object, dropped: tuple[int, int] | None) -> int | None:
    """The first frame near ``designed`` (earlier by up to the frames the encoder dropped
    before it) showing ``new`` right after a frame showing ``old``; at frame 0, the first
    frame showing ``new``."""
    earliest = designed - SEARCH_WINDOW - (dropped[1] if dropped else 0)
    for number in range(max(0, earliest), designed + SEARCH_WINDOW + 1):
        here, before = readings.get(number), readings.get(number - 1)
        if here is None or value(here) != new:
            continue
        if designed == 0 or (before is not None and value(before) == old):
            return number
    return None


def _near(number: int, edges: list[tuple[int, int]]) -> bool:
    return any(abs(number - designed) <= tolerance for designed, tolerance in edges)


def _inside(number: int, windows: tuple[OverlayWindow, ...]) -> bool:
    return any(w.start <= number < w.end for w in windows)


def check_recording(recording: Path, design: Design, assets: Path = ASSETS,
                    drops: DropLog | None = None) -> OnAirResult:
    """Decode ``recording`` (tolerating a truncated tail) and measure it against ``design``;
    ``drops`` (the encoder's dropped frames while it played) is reported with each edge."""
    result = OnAirResult(recording)
    checker = _Checker(design, assets, result)
    first: float | None = None
    last_number: int | None = None
    with av.open(str(recording)) as container:
        stream = container.streams.video[0]
        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                first = frame.time if first is None else first
                number = round((frame.time - first) * design.fps)
                if last_number is not None and number != last_number + 1:
                    result.gaps.append(frame.time)
                last_number = number
                result.frames += 1
                pixels = frame.to_ndarray(format="rgb24").astype(np.float32)
                checker.feed(number, pixels)
                if checker.anchor == number:
                    result.anchor_time = round(frame.time, 3)
        except (av.error.InvalidDataError, av.error.EOFError, EOFError):
            if result.frames == 0:
                raise
    checker.finish(drops)
    return result


ISSUE_EDGES = (10 * FPS, 25 * FPS, 60 * FPS, 120 * FPS)
"""The designed frames issue #11 names: the lower third on at 0:10 and off at 0:25, the
camera changes at 1:00 and 2:00."""


def assert_issue_show_on_program(result: OnAirResult, width: int, height: int,
                                 designed: tuple[int, ...] = ISSUE_EDGES) -> None:
    """Issue #11's show on its designed program frames: the four edges (``designed``: those
    of the show that was played) measured and within ±1 frame once the encoder's dropped
    frames are put back, the logo on every frame, top right, matching the asset file."""
    edges = {edge.designed: edge for edge in result.edges}
    missing = [frame for frame in designed if frame not in edges]
    assert not missing, f"frames {missing} are not in the recording\n" + "\n".join(result.lines())
    problems = result.program_problems(through_frame=max(designed))
    assert not problems, "\n".join([*problems, "", *result.lines()])
    assert result.logo_place is not None and result.logo_errors is not None, result.lines()
    x, y, logo_width, _ = result.logo_place
    assert x + logo_width >= width * 0.95 and y <= height * 0.05, f"logo at {result.logo_place}"
    assert result.logo_errors[0] < 12 < result.logo_errors[1], result.lines()


def assert_issue_show_in_recording(result: OnAirResult,
                                   designed: tuple[int, ...] = ISSUE_EDGES) -> None:
    """Issue #11's bar: the recording itself shows every change (``designed``: those of the
    show that was played) on its designed frame ±1, with no frame missing."""
    problems = result.problems(through_frame=max(designed))
    assert not problems, "\n".join([*problems, "", *result.lines()])
    assert all(edge.ok for edge in result.edges if edge.designed in designed)
    assert result.gaps == [], f"timestamp gaps at {result.gaps[:5]} s"
