"""The mixer follows degraded mode's overlay gate from the next frame: simplified leaves out
the animated layer, off leaves out every layer, the notice is drawn on top (real frames of
a virtual mixer)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pykka
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parents[1] / "actors" / "program"))
from test_mixer_virtual import FMT, Rig, y_plane

from vistter.actors.program.overlay_gate import OverlayGate, OverlayMode
from vistter.actors.program.overlay_layer import OverlayLayer


def _box(y: int, x: int, shade: int, *, animated: bool = False) -> OverlayLayer:
    layer = OverlayLayer.from_rgba(Image.new("RGBA", (4, 4), (shade, shade, shade, 255)),
                                   x, y, FMT)
    layer.animated = animated
    return layer


@pytest.fixture
def rig() -> Iterator[Rig]:
    made = Rig()
    yield made
    made.close()
    pykka.ActorRegistry.stop_all(timeout=10)


@pytest.mark.timeout(30)
def test_the_mixer_draws_what_the_gate_lets_through(rig: Rig) -> None:
    rig.publish("camera:1", 60)
    rig.state.take("camera:1", at_frame=0)
    rig.state.show_overlay("logo", 1, _box(0, 0, 255), at_frame=0)
    rig.state.show_overlay("clock", 2, _box(0, 8, 0, animated=True), at_frame=0)
    gate = OverlayGate()
    _, barrier = rig.start(overlays=gate)

    def corners(count: int) -> list[tuple[int, int, int]]:
        frames = rig.frames(count)
        return [(int(y_plane(f.pixels())[0, 0]), int(y_plane(f.pixels())[0, 8]),
                 int(y_plane(f.pixels())[0, 16])) for f in frames]

    barrier.run_to(1)
    assert corners(1) == [(235, 16, 60)]  # logo white, clock black, no notice
    gate.set_mode(OverlayMode.SIMPLIFIED)
    barrier.run_to(2)
    assert corners(1) == [(235, 60, 60)]  # the animated clock is left out
    gate.set_mode(OverlayMode.OFF)
    gate.set_notice(_box(0, 16, 255))
    barrier.run_to(3)
    assert corners(1) == [(60, 60, 235)]  # no overlay, the notice on top
    gate.set_mode(OverlayMode.FULL)
    gate.set_notice(None)
    barrier.run_to(4)
    assert corners(1) == [(235, 16, 60)]
