"""A live text is bounded and rendered off the show lock: arming never waits for a render."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from test_show_rig import FMT, FPS, ShowRig, rig, small_timeline, stop_actors

from vistter.models.limits import MAX_TEXT_CHARS
from vistter.overlays import OverlayTextError
from vistter.show import overrides

__all__ = ["rig", "stop_actors"]


@pytest.mark.timeout(60)
def test_a_live_text_over_the_limit_is_refused_and_the_show_goes_on(rig: ShowRig) -> None:
    rig.load(small_timeline())
    rig.call("go_live", 0)
    rig.run_until(3 * FPS)
    with pytest.raises(OverlayTextError, match=f"{MAX_TEXT_CHARS} characters"):
        rig.call("update_text", "o1", "W" * 600)
    assert rig.call("update_text", "o1", "W" * MAX_TEXT_CHARS)["on_air"] is True
    at = rig.program.horizon
    rig.run_until(at + 2)
    [layer] = rig.plans[at].layers
    assert layer.layer.width <= FMT.width and layer.layer.height <= FMT.height


@pytest.mark.timeout(60)
def test_the_render_runs_without_holding_the_show_lock(
    rig: ShowRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig.load(small_timeline())
    rig.call("go_live", 0)
    rig.run_until(3 * FPS)
    lock_free_while_rendering: list[bool] = []
    real = overrides.render_cue  # type: ignore[attr-defined]  # patched where overrides looks it up

    def watched(*args: Any, **kwargs: Any) -> Any:
        """In the orchestrator's thread: can another thread (an executor) arm meanwhile?"""
        got = threading.Event()

        def arm() -> None:
            with rig.show.guard():
                got.set()

        other = threading.Thread(target=arm, daemon=True)
        other.start()
        lock_free_while_rendering.append(got.wait(5))
        other.join(5)
        return real(*args, **kwargs)

    monkeypatch.setattr(overrides, "render_cue", watched)
    assert rig.call("update_text", "o1", "Gale warning")["on_air"] is True
    assert lock_free_while_rendering == [True]
