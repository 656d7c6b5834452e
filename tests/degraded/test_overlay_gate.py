"""The overlay gate on the program: simplified leaves out the animated layers (dynamic
texts), off leaves out every overlay, the notice is drawn on top; checked on real mixer
frames and on the overlay track's rendering."""

from __future__ import annotations

import numpy as np
from PIL import Image

from vistter.actors.program.frame_plan import PlannedLayer
from vistter.actors.program.overlay_gate import NOTICE_LAYER_ID, OverlayGate, OverlayMode
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.degraded.notice import notice_layer
from vistter.media.frames import FrameFormat, planes

FMT = FrameFormat(320, 180, 25)


def _layer(colour: tuple[int, int, int, int], *, animated: bool = False) -> OverlayLayer:
    layer = OverlayLayer.from_rgba(Image.new("RGBA", (32, 16), colour), 0, 0, FMT)
    layer.animated = animated
    return layer


LOGO = PlannedLayer("logo", 1, _layer((255, 255, 255, 255)), 1.0)
CLOCK = PlannedLayer("clock", 2, _layer((0, 255, 0, 255), animated=True), 1.0)


def test_modes_choose_the_layers_and_the_notice_goes_on_top() -> None:
    gate = OverlayGate()
    assert gate.filter((LOGO, CLOCK)) == (LOGO, CLOCK)
    gate.set_mode(OverlayMode.SIMPLIFIED)
    assert gate.filter((LOGO, CLOCK)) == (LOGO,)
    gate.set_mode(OverlayMode.OFF)
    assert gate.filter((LOGO, CLOCK)) == ()
    notice = _layer((255, 0, 0, 255))
    gate.set_notice(notice)
    (drawn,) = gate.filter((LOGO, CLOCK))
    assert drawn.layer_id == NOTICE_LAYER_ID and drawn.layer is notice
    gate.set_mode(OverlayMode.FULL)
    assert [p.layer_id for p in gate.filter((LOGO, CLOCK))] == ["logo", "clock",
                                                                 NOTICE_LAYER_ID]
    assert gate.filter((LOGO, CLOCK))[-1].z == 3
    gate.set_notice(None)
    assert gate.filter((LOGO, CLOCK)) == (LOGO, CLOCK)


def test_the_notice_is_drawn_text_in_the_top_left_corner() -> None:
    fmt = FrameFormat(1280, 720, 30)
    layer = notice_layer(fmt)
    assert not layer.empty and layer.x < 64 and layer.y < 64
    assert 100 < layer.width < 640 and 16 < layer.height < 120
    frame = np.full(fmt.frame_bytes, 16, dtype=np.uint8)  # black
    layer.composite_frame(frame)
    luma = planes(frame, fmt)[0]
    box = luma[layer.y:layer.y + layer.height, layer.x:layer.x + layer.width]
    assert box.max() > 150  # the yellow text shows on the dark box


def test_dynamic_text_cues_are_marked_animated_and_static_ones_are_not() -> None:
    from vistter.models.timeline import OverlayCue
    from vistter.show.overlay_track import render_cue

    class Plan:
        class timeline:  # noqa: N801 - the shape render_cue reads
            height = 180

    class Context:
        fmt = FMT
        assets_dir = None

    def cue(params: dict[str, object]) -> OverlayCue:
        return OverlayCue.model_validate({"id": "c", "start_time": 0, "duration": 5,
                                          "action": "show_overlay", "params": params})

    static = render_cue(Context(), Plan(), cue({"type": "text", "text": "Marina"}))  # type: ignore[arg-type]
    clock = render_cue(Context(), Plan(),  # type: ignore[arg-type]
                       cue({"type": "dynamic_text", "template": "{time:%H:%M}"}))
    assert static.layer.animated is False and clock.layer.animated is True
