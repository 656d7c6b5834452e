"""Overlay rendering: sizes, positions, pixels, scaling, lower thirds and asset errors."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageDraw
from pydantic import TypeAdapter

from vistter.errors import TimelineError
from vistter.media.frames import FrameFormat, planes, solid_frame
from vistter.models.overlays import OverlayParams
from vistter.overlays import (
    OverlayAssetError,
    OverlayError,
    OverlayTextError,
    RenderedOverlay,
    margin,
    render_overlay,
    resolution_scale,
)
from vistter.overlays.fonts import font
from vistter.overlays.render import AnyOverlay

FMT = FrameFormat(1280, 720, 30)
HD = FrameFormat(1920, 1080, 30)
ADAPTER: TypeAdapter[AnyOverlay] = TypeAdapter(OverlayParams)
NAVY = (12, 24, 48, 210)
ACCENT = (0, 150, 160, 255)
LOGO_FILL = (200, 30, 40, 255)


def overlay(**fields: Any) -> AnyOverlay:
    return ADAPTER.validate_python(fields)


def pixels(rendered: RenderedOverlay) -> npt.NDArray[np.uint8]:
    return np.asarray(rendered.image.convert("RGBA"), dtype=np.uint8)


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    """An assets folder with a logo, a photo and a lower third template of known colours."""
    folder = tmp_path / "assets"
    folder.mkdir()
    logo = Image.new("RGBA", (240, 120), (0, 0, 0, 0))
    ImageDraw.Draw(logo).rectangle((20, 20, 219, 99), fill=LOGO_FILL)
    logo.save(folder / "logo.png")
    Image.new("RGB", (400, 300), (10, 200, 10)).save(folder / "photo.jpg", quality=95)
    template = Image.new("RGBA", (1000, 140), (0, 0, 0, 0))
    pen = ImageDraw.Draw(template)
    pen.rectangle((0, 10, 999, 129), fill=NAVY)
    pen.rectangle((0, 10, 15, 129), fill=ACCENT)
    template.save(folder / "lower_third.png")
    return folder


ALL_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "text", "text": "Tide: High 3:45 PM", "font_size": 40},
    "lower_third": {"type": "lower_third", "text": "Marina Cam - Wharfside"},
    "logo": {"type": "logo", "image_url": "/assets/logo.png"},
    "image": {"type": "image", "image_url": "/assets/photo.jpg"},
    "dynamic_text": {"type": "dynamic_text", "template": "{time:%H:%M}", "font_size": 40},
}
NOW = datetime(2024, 6, 1, 12, 34, 56)


def expected_position(anchor: str, width: int, height: int, fmt: FrameFormat) -> tuple[int, int]:
    edge = margin(fmt)
    xs = {"left": edge, "right": fmt.width - edge - width, "center": (fmt.width - width) // 2}
    ys = {"top": edge, "bottom": fmt.height - edge - height, "center": (fmt.height - height) // 2}
    if anchor == "center":
        return xs["center"], ys["center"]
    vertical, horizontal = anchor.split("_")
    return xs[horizontal], ys[vertical]


def test_margin_is_three_percent_of_the_height() -> None:
    assert margin(HD) == 32
    assert margin(FMT) == 22


@pytest.mark.parametrize("kind", sorted(ALL_TYPES))
@pytest.mark.parametrize(
    "anchor", ["top_left", "top_right", "bottom_left", "bottom_right", "center"]
)
def test_every_type_lands_at_every_anchor(assets: Path, kind: str, anchor: str) -> None:
    rendered = render_overlay(overlay(**ALL_TYPES[kind], position=anchor), FMT, assets, now=NOW)
    assert rendered.image.mode == "RGBA"
    assert (rendered.x, rendered.y) == expected_position(
        anchor, rendered.width, rendered.height, FMT
    )
    assert rendered.x >= 0 and rendered.x + rendered.width <= FMT.width
    assert rendered.y >= 0 and rendered.y + rendered.height <= FMT.height
    assert pixels(rendered)[:, :, 3].max() == 255, "something visible was drawn"


@pytest.mark.parametrize("kind", sorted(ALL_TYPES))
def test_default_positions_per_type(assets: Path, kind: str) -> None:
    defaults = {
        "text": "top_left",
        "dynamic_text": "top_left",
        "lower_third": "bottom_left",
        "logo": "top_right",
        "image": "center",
    }
    rendered = render_overlay(overlay(**ALL_TYPES[kind]), FMT, assets, now=NOW)
    assert (rendered.x, rendered.y) == expected_position(
        defaults[kind], rendered.width, rendered.height, FMT
    )


@pytest.mark.parametrize("kind", sorted(ALL_TYPES))
def test_explicit_x_y_is_the_top_left_corner(assets: Path, kind: str) -> None:
    rendered = render_overlay(overlay(**ALL_TYPES[kind], x=101, y=57), FMT, assets, now=NOW)
    assert (rendered.x, rendered.y) == (101, 57)
    layer = rendered.to_layer()
    assert (layer.x, layer.y) == (100, 56), "the layer aligns to even pixels for yuv420p"


def test_text_box_has_background_colour_padding_and_text_colour() -> None:
    params = overlay(
        type="text", text="Hello", font_size=40, color="#FF0000", background_color="#102030",
        padding=12,
    )  # fmt: skip
    rendered = render_overlay(params, FMT, Path("/nonexistent"))
    rgba = pixels(rendered)
    face = font(40)
    ascent, descent = face.getmetrics()
    assert rendered.height == ascent + descent + 24
    assert rendered.width >= face.getlength("Hello") + 24
    background = np.array([16, 32, 48, 255], dtype=np.uint8)
    # The padding ring is pure background colour.
    for ring in (rgba[:12, :], rgba[-12:, :], rgba[:, :12], rgba[:, -12:]):
        assert (ring == background).all()
    # The text area holds solid text-coloured pixels, and only blends of the two colours.
    inner = rgba[12:-12, 12:-12].reshape(-1, 4)
    assert (inner == [255, 0, 0, 255]).all(axis=1).sum() > 100
    assert (inner[:, 3] == 255).all()
    assert (inner[:, 1] <= 32).all() and (inner[:, 2] <= 48).all()


def test_bare_text_is_transparent_around_the_glyphs_without_a_fringe() -> None:
    params = overlay(type="text", text="Tide 3:45", font_size=48, color="#FFD000", padding=20)
    rendered = render_overlay(params, FMT, Path("/nonexistent"))
    rgba = pixels(rendered)
    face = font(48)
    ascent, descent = face.getmetrics()
    assert rendered.height == ascent + descent, "no padding without a background box"
    assert rgba[0, 0, 3] == 0 and rgba[-1, -1, 3] == 0 and rgba[0, -1, 3] == 0
    ink = rgba[rgba[:, :, 3] > 0]
    assert len(ink) > 200
    # Straight alpha: every inked pixel, even at anti-aliased edges, has the text colour.
    assert (ink[:, :3] == [255, 208, 0]).all()
    assert 0.05 < (rgba[:, :, 3] > 0).mean() < 0.8


def test_text_colour_alpha_is_applied() -> None:
    params = overlay(type="text", text="HHHH", font_size=60, color="#FFFFFF80")
    alpha = pixels(render_overlay(params, FMT, Path("/nonexistent")))[:, :, 3]
    assert alpha.max() == 128


def test_text_height_does_not_depend_on_the_letters() -> None:
    heights = {
        render_overlay(overlay(type="text", text=text, font_size=36), FMT, Path(".")).height
        for text in ("ace", "HELLO", "gjpqy", "12:34")
    }
    assert len(heights) == 1


def test_multiline_text_stacks_lines() -> None:
    one = render_overlay(overlay(type="text", text="Line", font_size=30), FMT, Path("."))
    two = render_overlay(overlay(type="text", text="Line\nLine", font_size=30), FMT, Path("."))
    assert two.height == 2 * one.height
    assert two.width == one.width


def test_composited_layer_changes_only_its_rectangle() -> None:
    params = overlay(
        type="text", text="ON AIR", font_size=40, color="#FFFFFF", background_color="#000000",
        position="bottom_right",
    )  # fmt: skip
    rendered = render_overlay(params, FMT, Path("."))
    frame = solid_frame(FMT, 120, 90, 160)
    before = frame.copy()
    layer = rendered.to_layer()
    layer.composite_frame(frame, rendered.opacity)
    y_before, y_after = planes(before, FMT)[0], planes(frame, FMT)[0]
    changed = np.argwhere(y_before != y_after)
    assert len(changed) > 0
    (top, left), (bottom, right) = changed.min(axis=0), changed.max(axis=0)
    assert left >= layer.x and right < layer.x + layer.width
    assert top >= layer.y and bottom < layer.y + layer.height
    # The box is black (Y=16) and the text white (Y=235) on the frame.
    box = y_after[layer.y : layer.y + layer.height, layer.x : layer.x + layer.width]
    assert box.min() == 16 and box.max() == 235


def test_logo_keeps_its_pixels_and_reports_opacity_unbaked(assets: Path) -> None:
    rendered = render_overlay(
        overlay(type="logo", image_url="/assets/logo.png", opacity=0.8), FMT, assets
    )
    assert (rendered.width, rendered.height) == (240, 120)
    assert rendered.opacity == pytest.approx(0.8)
    rgba = pixels(rendered)
    assert tuple(rgba[60, 120]) == LOGO_FILL, "opacity is applied by the mixer, not baked"
    assert rgba[5, 5, 3] == 0
    assert rendered.text is None


def test_logo_scale_resizes(assets: Path) -> None:
    rendered = render_overlay(overlay(type="logo", image_url="logo.png", scale=0.5), FMT, assets)
    assert (rendered.width, rendered.height) == (120, 60)
    assert tuple(pixels(rendered)[30, 60]) == LOGO_FILL


def test_image_overlay_is_opaque_and_centered(assets: Path) -> None:
    rendered = render_overlay(overlay(type="image", image_url="/assets/photo.jpg"), FMT, assets)
    assert (rendered.width, rendered.height) == (400, 300)
    assert (rendered.x, rendered.y) == ((1280 - 400) // 2, (720 - 300) // 2)
    assert (pixels(rendered)[:, :, 3] == 255).all()


def test_timeline_sizes_scale_to_the_program(assets: Path) -> None:
    scale = resolution_scale(1080, FMT)
    assert scale == pytest.approx(2 / 3)
    text_720 = render_overlay(
        overlay(type="text", text="Tide", font_size=48), FMT, assets, scale=scale
    )
    text_32 = render_overlay(overlay(type="text", text="Tide", font_size=32), FMT, assets)
    assert text_720.image.size == text_32.image.size
    assert np.array_equal(pixels(text_720), pixels(text_32))
    logo = render_overlay(overlay(type="logo", image_url="/assets/logo.png"), FMT, assets,
                          scale=scale)  # fmt: skip
    assert logo.image.size == (160, 80)
    third = render_overlay(overlay(type="lower_third", text="Wharf"), FMT, assets, scale=scale)
    assert third.image.size == (667, 93)
    placed = render_overlay(overlay(type="logo", image_url="/assets/logo.png", x=300, y=150),
                            FMT, assets, scale=scale)  # fmt: skip
    assert (placed.x, placed.y) == (200, 100)
    # The same cue on a program the timeline's size is not scaled at all.
    full = render_overlay(overlay(type="lower_third", text="Wharf"), HD, assets,
                          scale=resolution_scale(1080, HD))  # fmt: skip
    assert full.image.size == (1000, 140)
    assert (full.x, full.y) == (32, 1080 - 32 - 140)


def test_resolution_scale_refuses_a_bad_height() -> None:
    with pytest.raises(ValueError, match="not positive"):
        resolution_scale(0, FMT)
    with pytest.raises(ValueError, match="scale"):
        render_overlay(overlay(type="text", text="x"), FMT, Path("."), scale=0)


def test_lower_third_draws_text_on_the_template(assets: Path) -> None:
    rendered = render_overlay(
        overlay(type="lower_third", text="Marina Cam", color="#FFFFFF"), HD, assets
    )
    assert rendered.image.size == (1000, 140)
    rgba = pixels(rendered)
    assert tuple(rgba[2, 500]) == (0, 0, 0, 0), "the template's transparent top stays"
    assert tuple(rgba[15, 5]) == ACCENT
    assert tuple(rgba[15, 900]) == NAVY, "bar right of the text is the template"
    white = (rgba == [255, 255, 255, 255]).all(axis=2)
    rows, cols = np.nonzero(white)
    assert len(rows) > 100
    assert cols.min() >= 28, "text starts after an inset of 20 % of the bar height"
    centre = (rows.min() + rows.max()) / 2
    assert abs(centre - 70) < 12, "text is vertically centred on the bar"


def test_lower_third_subtitle_is_smaller_and_below(assets: Path) -> None:
    plain = pixels(render_overlay(overlay(type="lower_third", text="Title"), HD, assets))
    both = pixels(
        render_overlay(overlay(type="lower_third", text="Title", subtitle="sub line"), HD, assets)
    )
    ink_plain = np.nonzero((plain == [255, 255, 255, 255]).all(axis=2))[0]
    ink_both = np.nonzero((both == [255, 255, 255, 255]).all(axis=2))[0]
    assert ink_both.max() > ink_plain.max(), "the subtitle is drawn below the title"


def test_long_lower_third_widens_the_bar_keeping_its_edges(assets: Path) -> None:
    text = "A very long name strap that will never fit in a thousand pixels of bar at this size"
    rendered = render_overlay(overlay(type="lower_third", text=text, font_size=40), HD, assets)
    rgba = pixels(rendered)
    assert rendered.width > 1000
    assert rendered.height == 140
    assert tuple(rgba[15, 5]) == ACCENT, "the left edge keeps its accent"
    assert tuple(rgba[15, rendered.width - 5]) == NAVY
    assert tuple(rgba[135, rendered.width // 2]) == (0, 0, 0, 0)


def test_lower_third_without_a_template_file_uses_the_builtin_bar(tmp_path: Path) -> None:
    rendered = render_overlay(overlay(type="lower_third", text="Wharf"), HD, tmp_path)
    rgba = pixels(rendered)
    assert rendered.image.size == (1000, 140)
    assert tuple(rgba[20, 5]) == ACCENT
    assert tuple(rgba[20, 900]) == NAVY
    tinted = render_overlay(
        overlay(type="lower_third", text="Wharf", background_color="#803000"), HD, tmp_path
    )
    assert tuple(pixels(tinted)[20, 900]) == (128, 48, 0, 255)


def test_lower_third_named_template_must_exist(tmp_path: Path) -> None:
    with pytest.raises(OverlayAssetError) as caught:
        render_overlay(
            overlay(type="lower_third", text="x", image_url="/assets/brand_third.png"),
            HD,
            tmp_path,
        )
    assert "brand_third.png" in str(caught.value)


def test_missing_logo_names_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(OverlayAssetError) as caught:
        render_overlay(overlay(type="logo", image_url="/assets/missing_logo.png"), FMT, tmp_path)
    error = caught.value
    assert isinstance(error, TimelineError)
    assert "missing_logo.png" in error.problem
    assert "Upload" in error.hint
    assert str(tmp_path) not in str(error), "errors name the asset, never a server path"


def test_unreadable_picture_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"this is not a png")
    with pytest.raises(OverlayAssetError, match=r"broken\.png.*not a picture"):
        render_overlay(overlay(type="image", image_url="/assets/broken.png"), FMT, tmp_path)


def test_picture_outside_the_assets_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside the assets folder"):
        overlay(type="logo", image_url="/assets/../secret.png")  # refused by the model
    assets = tmp_path / "assets"
    assets.mkdir()
    Image.new("RGBA", (8, 8), (1, 2, 3, 255)).save(tmp_path / "secret.png")
    (assets / "logo.png").symlink_to(tmp_path / "secret.png")  # inside, but leads out
    with pytest.raises(OverlayAssetError, match="outside the assets folder") as caught:
        render_overlay(overlay(type="logo", image_url="/assets/logo.png"), FMT, assets)
    assert str(tmp_path) not in str(caught.value)


def test_huge_scale_is_refused(assets: Path) -> None:
    with pytest.raises(OverlayError, match="far larger"):
        render_overlay(overlay(type="image", image_url="photo.jpg", scale=10), FMT, assets)


def test_replaced_picture_is_loaded_again(assets: Path) -> None:
    first = render_overlay(overlay(type="logo", image_url="/assets/logo.png"), FMT, assets)
    Image.new("RGBA", (50, 40), (1, 2, 3, 255)).save(assets / "logo.png")
    second = render_overlay(overlay(type="logo", image_url="/assets/logo.png"), FMT, assets)
    assert first.image.size == (240, 120)
    assert second.image.size == (50, 40)


def test_dynamic_text_fills_time_and_value() -> None:
    params = overlay(
        type="dynamic_text", template="Tide {value} at {time:%H:%M}",
        source={"path": "/assets/tide.json", "key": "tide"},
    )  # fmt: skip
    rendered = render_overlay(params, FMT, Path("."), now=NOW, value="high")
    assert rendered.text == "Tide high at 12:34"
    empty = render_overlay(
        overlay(type="dynamic_text", template="{value}", source={"path": "t.json"}),
        FMT,
        Path("."),
    )
    assert empty.text == ""
    assert (pixels(empty)[:, :, 3] == 0).all()


def test_dynamic_text_format_mismatch_is_a_typed_error() -> None:
    params = overlay(
        type="dynamic_text", template="{value:.1f} m", source={"path": "/assets/t.json"}
    )
    assert render_overlay(params, FMT, Path("."), value=2.345).text == "2.3 m"
    with pytest.raises(OverlayTextError, match=r"\.1f"):
        render_overlay(params, FMT, Path("."), value="high")


def test_live_text_update_replaces_the_cue_text(assets: Path) -> None:
    text = render_overlay(overlay(type="text", text="Old"), FMT, assets, text="New text")
    third = render_overlay(overlay(type="lower_third", text="Old"), FMT, assets, text="New")
    dynamic = render_overlay(
        overlay(type="dynamic_text", template="{time:%H}"), FMT, assets, text="Override"
    )
    assert (text.text, third.text, dynamic.text) == ("New text", "New", "Override")
    with pytest.raises(OverlayTextError, match="no text"):
        render_overlay(overlay(type="logo", image_url="logo.png"), FMT, assets, text="x")


def test_lower_third_renders_well_ahead_of_a_frame(assets: Path) -> None:
    params = overlay(
        type="lower_third", text="Marina Cam - Wharfside", subtitle="Live", fade_in=0.5
    )
    render_overlay(params, HD, assets).to_layer()  # warm the font and template caches
    rounds = 10
    started = time.perf_counter()
    for _ in range(rounds):
        render_overlay(params, HD, assets).to_layer()
    per_render = (time.perf_counter() - started) / rounds
    # Typically ~10 ms (render + YUV layer) on the 2-core box; bounded loosely for a busy CI.
    assert per_render < 0.25


@pytest.mark.timeout(60)
def test_track_executors_can_render_at_the_same_time(assets: Path) -> None:
    """Several threads (one per overlay track) render with the shared fonts and cache."""
    from concurrent.futures import ThreadPoolExecutor

    cues = [overlay(**ALL_TYPES[kind]) for kind in ("text", "lower_third", "logo")]
    expected = [pixels(render_overlay(cue, FMT, assets)) for cue in cues]

    def render(index: int) -> npt.NDArray[np.uint8]:
        return pixels(render_overlay(cues[index % 3], FMT, assets))

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(render, index) for index in range(60)]
        results = [future.result(timeout=30) for future in futures]
    for index, result in enumerate(results):
        assert np.array_equal(result, expected[index % 3])
