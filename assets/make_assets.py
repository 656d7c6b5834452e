"""Draw Vistter's built-in PNG assets with Pillow (no system fonts needed).

Run from anywhere: ``python assets/make_assets.py``. Writes next to this script:

- ``technical_difficulties.png`` 1920x1080 slate shown when no source is available,
- ``transition_slide.png``       1920x1080 slide used between cues,
- ``starting_soon.png``          1920x1080 slate platforms receive during a GO LIVE countdown,
- ``logo.png``                   240x120 RGBA corner bug with transparency,
- ``lower_third.png``            1000x140 RGBA bar template for lower thirds.

Flat colours only, so the files stay small. Needs Pillow >= 10.1 (scalable default font).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
NAVY = (12, 24, 48)
TEAL = (0, 150, 160)
WHITE = (255, 255, 255)
# SMPTE-like bar colours for the slate's top band.
BARS = [
    (192, 192, 192),
    (192, 192, 0),
    (0, 192, 192),
    (0, 192, 0),
    (192, 0, 192),
    (192, 0, 0),
    (0, 0, 192),
]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _centered(draw: ImageDraw.ImageDraw, y: int, width: int, text: str, size: int) -> None:
    font = _font(size)
    left, _, right, _ = draw.textbbox((0, 0), text, font=font)
    draw.text(((width - (right - left)) // 2, y), text, font=font, fill=WHITE)


def technical_difficulties() -> Image.Image:
    image = Image.new("RGB", (1920, 1080), NAVY)
    draw = ImageDraw.Draw(image)
    bar = 1920 // len(BARS)
    for index, colour in enumerate(BARS):
        draw.rectangle((index * bar, 0, (index + 1) * bar - 1, 300), fill=colour)
    _centered(draw, 450, 1920, "Technical difficulties", 120)
    _centered(draw, 620, 1920, "We'll be right back", 80)
    draw.rectangle((0, 1040, 1919, 1079), fill=TEAL)
    return image


def transition_slide() -> Image.Image:
    image = Image.new("RGB", (1920, 1080), TEAL)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 700, 1919, 1079), fill=NAVY)
    _centered(draw, 380, 1920, "VISTTER", 160)
    _centered(draw, 820, 1920, "Live from the marina", 72)
    return image


def starting_soon() -> Image.Image:
    image = Image.new("RGB", (1920, 1080), TEAL)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 760, 1919, 1079), fill=NAVY)
    _centered(draw, 360, 1920, "Starting soon", 160)
    _centered(draw, 860, 1920, "Live from the marina", 72)
    return image


def logo() -> Image.Image:
    image = Image.new("RGBA", (240, 120), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 235, 115), radius=24, fill=(*NAVY, 200), outline=WHITE, width=4)
    font = _font(44)
    left, top, right, bottom = draw.textbbox((0, 0), "VISTTER", font=font)
    draw.text(((240 - (right - left)) // 2 - left, (120 - (bottom - top)) // 2 - top), "VISTTER",
              font=font, fill=WHITE)  # fmt: skip
    return image


def lower_third() -> Image.Image:
    image = Image.new("RGBA", (1000, 140), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 10, 999, 129), fill=(*NAVY, 210))
    draw.rectangle((0, 10, 15, 129), fill=(*TEAL, 255))
    draw.rectangle((0, 124, 999, 129), fill=(*TEAL, 255))
    return image


def main() -> None:
    drawings = {
        "technical_difficulties.png": technical_difficulties,
        "transition_slide.png": transition_slide,
        "starting_soon.png": starting_soon,
        "logo.png": logo,
        "lower_third.png": lower_third,
    }
    for name, draw in drawings.items():
        path = HERE / name
        draw().save(path, optimize=True)
        print(f"wrote {path} ({path.stat().st_size} bytes)")  # noqa: T201 - a CLI script


if __name__ == "__main__":
    main()
