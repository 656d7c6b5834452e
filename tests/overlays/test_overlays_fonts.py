"""The overlay font ships inside the package and is the one text is drawn with."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageDraw, ImageFont

import vistter
from vistter.media.frames import FrameFormat
from vistter.models.overlays import TextOverlay
from vistter.overlays import fonts, render_overlay

PACKAGE_DIR = Path(vistter.__file__).resolve().parent


@pytest.fixture
def fresh_font_cache() -> Iterator[None]:
    fonts.font.cache_clear()
    fonts._warn_missing.cache_clear()
    yield
    fonts.font.cache_clear()
    fonts._warn_missing.cache_clear()


def test_font_files_and_licence_ship_in_the_package() -> None:
    data = PACKAGE_DIR / "data"
    for name in (fonts.FONT_FILE, fonts.BOLD_FONT_FILE):
        assert (data / name).stat().st_size > 100_000
    licence = (data / "DejaVu-LICENSE.txt").read_text()
    assert "Bitstream Vera Fonts Copyright" in licence and "Arev Fonts Copyright" in licence
    regular = fonts.font_file()
    assert regular is not None and regular.resolve().parent == data


def test_font_is_dejavu_from_the_package_and_cached(fresh_font_cache: None) -> None:
    face = fonts.font(32)
    assert face.getname() == ("DejaVu Sans", "Book")
    assert Path(str(face.path)).resolve().is_relative_to(PACKAGE_DIR)
    assert fonts.font(32, bold=True).getname() == ("DejaVu Sans", "Bold")
    assert fonts.font(32) is face
    assert face.size == 32


def test_rendered_text_uses_the_shipped_font_not_pillows_default() -> None:
    text = "Tide: High 3:45 PM"
    rendered = render_overlay(
        TextOverlay(type="text", text=text, font_size=40, color="#FFFFFF"),
        FrameFormat(1280, 720, 30),
        Path("."),
    )
    shipped = ImageFont.truetype(str(PACKAGE_DIR / "data" / fonts.FONT_FILE), 40)
    default = ImageFont.load_default(size=40)
    assert isinstance(default, ImageFont.FreeTypeFont)
    assert default.getname()[0] != "DejaVu Sans"

    def drawn(face: ImageFont.FreeTypeFont) -> npt.NDArray[np.uint8]:
        left_ink = face.getbbox(text, anchor="la")[0]
        mask = Image.new("L", rendered.image.size, 0)
        ImageDraw.Draw(mask).text((-min(0, left_ink), 0), text, font=face, fill=255, anchor="la")
        return np.asarray(mask)

    alpha = np.asarray(rendered.image)[:, :, 3]
    assert np.array_equal(alpha, drawn(shipped))
    assert not np.array_equal(alpha, drawn(default))


def test_missing_font_file_falls_back_to_pillow_with_a_warning(
    fresh_font_cache: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fonts, "font_file", lambda *, bold=False: None)
    monkeypatch.setattr(fonts, "_font_bytes", lambda bold: None)
    with caplog.at_level(logging.WARNING, logger="vistter.overlays.fonts"):
        face = fonts.font(30)
        fonts.font(31)
    assert isinstance(face, ImageFont.FreeTypeFont)
    assert face.getname()[0] != "DejaVu Sans"
    warnings = [r for r in caplog.records if "missing" in r.getMessage()]
    assert len(warnings) == 1, "warned once, not per size"


def test_font_loads_from_bytes_when_not_a_plain_folder(
    fresh_font_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fonts, "font_file", lambda *, bold=False: None)
    assert fonts.font(24).getname() == ("DejaVu Sans", "Book")
