"""A bad message to the orchestrator is answered with an error; the orchestrator lives on.

The control API refuses such requests at the edge (``tests/api/test_api_edge.py``); this is
the defence behind it, for any other caller: a burst of jumps, forced cameras and live texts
with wrong types or absurd numbers costs no supervisor restart.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from test_show_rig import ShowRig, rig, small_timeline, stop_actors

from vistter.show import ShowError

__all__ = ["rig", "stop_actors"]

BAD_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("jump", (), {"cue_id": ["x"]}),
    ("jump", (), {"cue_id": {"a": 1}}),
    ("jump", (), {"seconds": 1e308}),
    ("jump", (), {"seconds": -1e308}),
    ("jump", (), {"seconds": 10**400}),
    ("jump", (), {"seconds": math.nan}),
    ("jump", (), {"seconds": math.inf}),
    ("jump", (), {"seconds": "12"}),
    ("jump", (), {"seconds": True}),
    ("force_camera", (["x"],), {}),
    ("force_camera", ("2",), {}),
    ("force_camera", (None,), {}),
    ("update_text", (["o1"], "x"), {}),
    ("update_text", ("o1", ["x"]), {}),
    ("update_text", ({"a": 1}, None), {}),
]


def _restarts(rig: ShowRig) -> list[dict[str, Any]]:
    return [
        event for event in rig.events.of("event.supervision")
        if event.get("event") in ("child_exited", "child_restarted")
    ]


@pytest.mark.timeout(60)
def test_a_burst_of_bad_messages_costs_no_restart(rig: ShowRig) -> None:
    rig.load(small_timeline())
    rig.call("go_live", 0)
    rig.run_until(30)
    before = _restarts(rig)
    for _ in range(3):  # 45 bad messages in a row, as a hostile client would send
        for method, args, kwargs in BAD_CALLS:
            with pytest.raises(ShowError):
                rig.call(method, *args, **kwargs)
    assert _restarts(rig) == before, "a bad message crashed an actor of the show"
    assert rig.call("status")["state"] == "live"
    # and the orchestrator still does what it is asked
    assert rig.call("jump", cue_id="v3")["state"] == "live"
    rig.run_seconds(1)
    assert rig.call("status")["video_cue"] == "v3"


@pytest.mark.timeout(60)
def test_live_text_with_any_line_break_is_shown_not_a_crash(rig: ShowRig) -> None:
    """Found by the API fuzzer: Pillow's text layout (raqm) fails on \\r, \\x85, \\u2029 and
    \\x1c-\\x1e inside a line, and the orchestrator crashed rendering such a live text."""
    rig.load(small_timeline())
    rig.call("go_live", 0)
    rig.run_until(3 * 30)  # o1 (a text overlay, 2..8 s) on air
    before = _restarts(rig)
    for text in ("a\x85b", "a\rb", "a\r\nb", "a\u2029b", "a\x1cb\x1dc\x1ed", "x\n\x85"):
        result = rig.call("update_text", "o1", text)
        assert (result["cue_id"], result["text"], result["on_air"]) == ("o1", text, True)
    assert _restarts(rig) == before
    assert rig.call("status")["state"] == "live"
