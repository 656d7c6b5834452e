"""The cue-latency benchmark's timeline: many cues, each recognisable by colour on the program.

:func:`build_show` generates (seeded) a timeline in the spec's JSON format with

- a video track cutting between ``camera:1`` and ``camera:2`` every 0.5-1 s (cuts only, so
  "the frame on which the change appears" is exact: no partial transition frames);
- two overlay tracks (``upper`` at z 2, top left; ``lower`` at z 1, bottom right) of ``image``
  overlays, each shown 0.5-1.5 s, with gaps of 0-1 s between them (a gap of 0 is a
  back-to-back replacement). Each overlay track cycles through three solid colours, so two
  consecutive cues of a track always differ on the program. The pictures are solid PNGs
  written to the assets folder and placed at explicit pixels (no scaling: the timeline has
  the program's resolution).

It also returns, for every cue, the timeline frame it starts on and what a probe pixel
shows while it is on air (:class:`ExpectedCue`), and the colour each probe can see
(:class:`Palette`), so :mod:`bench.cue_probe` can tell from one program frame which cue of
each track is on air.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from vistter.media.frames import FrameFormat
from vistter.media.yuv import rgb_to_yuv

__all__ = [
    "CAMERA_RGB",
    "OVERLAY_RGB",
    "OVERLAY_TRACKS",
    "VIDEO_TRACK",
    "ExpectedCue",
    "OverlayBox",
    "Palette",
    "ShowScript",
    "build_show",
]

Yuv = tuple[int, int, int]

VIDEO_TRACK = "video"
OVERLAY_TRACKS: tuple[str, ...] = ("upper", "lower")
"""Overlay track ids, top layer first (``upper`` is z 2, ``lower`` z 1)."""

CAMERA_RGB: dict[str, tuple[int, int, int]] = {
    "camera:1": (40, 60, 130),  # dark blue-grey
    "camera:2": (220, 140, 40),  # orange
}
OVERLAY_RGB: dict[str, tuple[tuple[int, int, int], ...]] = {
    "upper": ((230, 30, 30), (30, 200, 60), (40, 80, 240)),  # red, green, blue
    "lower": ((240, 230, 40), (40, 220, 230), (220, 40, 220)),  # yellow, cyan, magenta
}

VIDEO_FRAMES = (15, 30)
"""Length of a video cue in frames at 30 fps (0.5-1 s), scaled to the program's rate."""
OVERLAY_FRAMES = (15, 45)
OVERLAY_GAP_FRAMES = (0, 30)


@dataclass(frozen=True)
class OverlayBox:
    """Where an overlay track's pictures go: top-left corner and size, even pixels."""

    x: int
    y: int
    width: int
    height: int

    @property
    def probe(self) -> tuple[int, int]:
        """The pixel read to tell the track's cues apart (the box centre, even)."""
        return (self.x + self.width // 2) & ~1, (self.y + self.height // 2) & ~1


@dataclass(frozen=True)
class ExpectedCue:
    """One cue as the program should show it.

    ``start``/``end``: timeline frames (end exclusive); ``state``: the label the probe of its
    track reads while it is on air (the source id, or ``"<track>:<colour index>"``).
    """

    cue_id: str
    track: str
    kind: str  # "take" or "overlay"
    start: int
    end: int
    state: str


@dataclass(frozen=True)
class Palette:
    """What each probe can see: label -> YUV. ``None`` in an overlay probe's reading means
    "no overlay" (the camera colour shows through)."""

    video_probe: tuple[int, int]
    boxes: dict[str, OverlayBox]
    cameras: dict[str, Yuv]
    overlays: dict[str, dict[str, Yuv]]


@dataclass(frozen=True)
class ShowScript:
    """The generated show: the timeline document, its cues and the palette."""

    document: dict[str, Any]
    cues: tuple[ExpectedCue, ...]
    palette: Palette
    length: int
    """Timeline frames (the show ends there)."""
    assets: list[Path] = field(default_factory=list)

    def by_track(self, track: str) -> list[ExpectedCue]:
        return sorted((c for c in self.cues if c.track == track), key=lambda c: c.start)


def _seconds(frames: int, fps: int) -> float:
    """Frames as seconds, written so that ``round(seconds * fps) == frames``."""
    return round(frames / fps, 6)


def _scaled(frames: tuple[int, int], fps: int) -> tuple[int, int]:
    return max(1, round(frames[0] * fps / 30)), max(1, round(frames[1] * fps / 30))


def _boxes(fmt: FrameFormat) -> dict[str, OverlayBox]:
    width = max(16, (fmt.width // 8) & ~1)
    height = max(16, (fmt.height // 8) & ~1)
    margin_x = (fmt.width // 20) & ~1
    margin_y = (fmt.height // 20) & ~1
    return {
        "upper": OverlayBox(margin_x, margin_y, width, height),
        "lower": OverlayBox((fmt.width - margin_x - width) & ~1,
                            (fmt.height - margin_y - height) & ~1, width, height),
    }


def _write_pictures(assets_dir: Path, boxes: dict[str, OverlayBox]) -> list[Path]:
    paths: list[Path] = []
    for track, colours in OVERLAY_RGB.items():
        box = boxes[track]
        for index, rgb in enumerate(colours):
            path = assets_dir / f"cue-bench-{track}-{index}.png"
            Image.new("RGB", (box.width, box.height), rgb).save(path)
            paths.append(path)
    return paths


def _video_cues(rng: random.Random, fps: int, until: int) -> list[tuple[int, int, str]]:
    low, high = _scaled(VIDEO_FRAMES, fps)
    cues: list[tuple[int, int, str]] = []
    start, camera = 0, 1
    while start < until:
        length = rng.randint(low, high)
        cues.append((start, start + length, f"camera:{camera}"))
        start += length
        camera = 3 - camera
    return cues


def _overlay_cues(rng: random.Random, fps: int, until: int) -> list[tuple[int, int, int]]:
    low, high = _scaled(OVERLAY_FRAMES, fps)
    gap_low, gap_high = _scaled(OVERLAY_GAP_FRAMES, fps)
    gap_low = 0
    cues: list[tuple[int, int, int]] = []
    start, colour = rng.randint(gap_low, gap_high), 0
    while start < until:
        length = rng.randint(low, high)
        cues.append((start, start + length, colour))
        start += length + rng.randint(gap_low, gap_high)
        colour = (colour + 1) % 3
    return cues


def build_show(fmt: FrameFormat, cue_count: int, assets_dir: Path, *, seed: int = 4) -> ShowScript:
    """A show of at least ``cue_count`` cues (video takes plus overlay starts) at the program's
    size and rate; its pictures are written to ``assets_dir``. Deterministic for a seed."""
    if cue_count < 1:
        raise ValueError(f"a show needs at least one cue, got {cue_count}")
    fps = fmt.fps
    boxes = _boxes(fmt)
    assets = _write_pictures(assets_dir, boxes)
    # Each track covers the same span; grow it until the cues starting in it are enough.
    span = fps * 4
    while True:
        rng = random.Random(seed)  # noqa: S311 (a reproducible timeline, not a secret)
        video = _video_cues(rng, fps, span)
        overlays = {track: _overlay_cues(rng, fps, span) for track in OVERLAY_TRACKS}
        count = len(video) + sum(len(cues) for cues in overlays.values())
        if count >= cue_count:
            break
        span += fps * 2
    length = max([video[-1][1], *(c[-1][1] for c in overlays.values() if c)]) + fps // 2
    video[-1] = (video[-1][0], length, video[-1][2])  # the last shot lasts to the end

    expected: list[ExpectedCue] = []
    video_json: list[dict[str, Any]] = []
    for number, (start, end, source) in enumerate(video):
        cue_id = f"v{number:04d}"
        expected.append(ExpectedCue(cue_id, VIDEO_TRACK, "take", start, end, source))
        video_json.append({
            "id": cue_id, "start_time": _seconds(start, fps),
            "duration": _seconds(end - start, fps), "action": "show_camera",
            "params": {"camera_id": int(source.split(":")[1]), "transition": "cut"},
        })
    tracks_json: list[dict[str, Any]] = []
    for layer, track in zip((2, 1), OVERLAY_TRACKS, strict=True):
        box = boxes[track]
        cues_json: list[dict[str, Any]] = []
        for number, (start, end, colour) in enumerate(overlays[track]):
            cue_id = f"{track[0]}{number:04d}"
            expected.append(ExpectedCue(cue_id, track, "overlay", start, end,
                                        f"{track}:{colour}"))
            cues_json.append({
                "id": cue_id, "start_time": _seconds(start, fps),
                "duration": _seconds(end - start, fps), "action": "show_overlay",
                "params": {"type": "image", "image_url": f"cue-bench-{track}-{colour}.png",
                           "x": box.x, "y": box.y},
            })
        tracks_json.append({"track_id": track, "layer": layer, "cues": cues_json})

    document = {"timeline": {
        "id": "cue_latency_bench", "name": "Cue latency benchmark",
        "description": f"{len(expected)} generated cues (seed {seed})",
        "duration": _seconds(length, fps), "fps": fps,
        "resolution": f"{fmt.width}x{fmt.height}", "loop": False,
        "tracks": {"video": {"track_id": VIDEO_TRACK, "cues": video_json},
                   "overlays": tracks_json},
    }}
    palette = Palette(
        video_probe=((fmt.width // 2) & ~1, (fmt.height // 2) & ~1),
        boxes=boxes,
        cameras={source: rgb_to_yuv(*rgb) for source, rgb in CAMERA_RGB.items()},
        overlays={track: {f"{track}:{i}": rgb_to_yuv(*rgb) for i, rgb in enumerate(colours)}
                  for track, colours in OVERLAY_RGB.items()},
    )
    return ShowScript(document, tuple(expected), palette, length, assets)
