"""``[show] starting_soon``: an image of the assets folder, checked when the config loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from vistter.models.config import ApplianceConfig, ConfigInvalid, parse_config


def show(tmp_path: Path, **settings: object) -> ApplianceConfig:
    return parse_config({"show": settings}, base_dir=tmp_path, env={})


def test_a_starting_soon_image_of_the_assets_folder_is_kept(tmp_path: Path) -> None:
    config = show(tmp_path, starting_soon="starting_soon.png")
    assert config.show.starting_soon == "starting_soon.png"
    assert show(tmp_path).show.starting_soon is None
    assert show(tmp_path, starting_soon=" ").show.starting_soon is None


@pytest.mark.parametrize("reference", ["/etc/passwd", "../secret.png", "http://x/a.png"])
def test_a_starting_soon_image_outside_the_assets_folder_is_refused(
    tmp_path: Path, reference: str
) -> None:
    with pytest.raises(ConfigInvalid) as info:
        show(tmp_path, starting_soon=reference)
    assert "starting-soon slate must be an image of the assets folder" in str(info.value)
    assert "starting_soon.png" in str(info.value)
