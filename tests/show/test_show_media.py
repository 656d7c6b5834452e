"""SupervisedMedia: media sources started and stopped on demand under a real supervisor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pykka
import pytest
from PIL import Image
from test_show_rig import FMT

from vistter.actors.sources.table import SourceTable
from vistter.clock import FakeClock
from vistter.errors import ChildStartError
from vistter.show.file_sources import MediaError, SupervisedMedia, media_child_id
from vistter.supervisors import RootSupervisor, Strategy, SupervisorFlags


@pytest.fixture
def media(tmp_path: Path) -> Iterator[tuple[SupervisedMedia, RootSupervisor, SourceTable]]:
    Image.new("RGB", (64, 36), (0, 200, 0)).save(tmp_path / "slide.png")
    clock = FakeClock()
    table = SourceTable(FMT, clock)
    root = RootSupervisor(SupervisorFlags(Strategy.ONE_FOR_ONE), [], clock=clock)
    control = SupervisedMedia(lambda: root.handle, FMT, table, tmp_path)
    yield control, root, table
    root.stop()
    pykka.ActorRegistry.stop_all()


@pytest.mark.timeout(30)
def test_a_still_is_started_once_and_released(
    media: tuple[SupervisedMedia, RootSupervisor, SourceTable],
) -> None:
    control, root, table = media
    assert control.ensure_media("/assets/slide.png") == "media:/assets/slide.png"
    assert control.ensure_media("/assets/slide.png") == "media:/assets/slide.png"
    assert [c.id for c in root.handle.which_children()] == [media_child_id("/assets/slide.png")]
    latest = table.slot("media:/assets/slide.png").latest()
    assert latest is not None and latest.frame.size == FMT.width * FMT.height * 3 // 2
    control.release_media("media:/assets/slide.png")
    control.release_media("media:/assets/slide.png")  # gone already: nothing to do
    assert root.handle.which_children() == []


@pytest.mark.timeout(30)
def test_media_that_cannot_play_is_refused_with_a_reason(
    media: tuple[SupervisedMedia, RootSupervisor, SourceTable],
) -> None:
    control, root, _ = media
    with pytest.raises(ChildStartError, match="does not exist"):
        control.ensure_media("/assets/missing.png")
    with pytest.raises(MediaError, match="not a local file"):
        control.ensure_media("https://example.com/a.png")
    with pytest.raises(MediaError, match="outside the assets folder"):
        control.ensure_media("/assets/../../etc/passwd.png")
    with pytest.raises(MediaError, match="no ffmpeg"):
        control.ensure_media("/assets/clip.mp4")
    assert root.handle.which_children() == []
