"""The cue list of the show status: every cue of the loaded timeline, for the console's
position bar, jump list and live-text editor (also for a timeline started at boot, which has
no library record to read the cues from)."""

from __future__ import annotations

import json

from conftest import SPEC_EXAMPLE

from vistter.models.timeline import TimelineDocument
from vistter.show.plan import ShowPlan
from vistter.show.status import cue_list


class Texts:
    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts

    def text_for(self, cue_id: str) -> str | None:
        return self.texts.get(cue_id)


def plan() -> ShowPlan:
    document = TimelineDocument.model_validate(json.loads(SPEC_EXAMPLE.read_text()))
    return ShowPlan(document, 30, loop=True)


def test_every_cue_of_the_timeline_video_track_first_in_start_order() -> None:
    show_plan = plan()
    cues = cue_list(show_plan, Texts({}))
    timeline = show_plan.timeline
    expected = [c.id for c in timeline.tracks.video.cues] + [
        c.id for track in timeline.overlay_tracks for c in track.cues
    ]
    assert sorted(c["id"] for c in cues) == sorted(expected)
    video = [c for c in cues if c["track"] == show_plan.video_track_id]
    assert [c["id"] for c in video] == [c["id"] for c in cues[: len(video)]]
    starts = [c["start_seconds"] for c in video]
    assert starts == sorted(starts)
    first = video[0]
    assert first["action"] == "show_camera" and first["label"].startswith("Camera ")
    for cue in cues:
        assert cue["end_seconds"] > cue["start_seconds"]
        assert (cue["text"] is not None) == (cue["action"] == "show_overlay"
                                             and cue["label"] in ("text", "lower third",
                                                                  "dynamic text"))


def test_an_overlay_shows_the_operators_live_text_once_set() -> None:
    show_plan = plan()
    texts = [c for c in cue_list(show_plan, Texts({})) if c["text"] is not None]
    assert texts, "the spec's example has text overlays"
    target = texts[0]
    changed = cue_list(show_plan, Texts({target["id"]: "Tide: High 4:10 PM"}))
    assert next(c for c in changed if c["id"] == target["id"])["text"] == "Tide: High 4:10 PM"
    others = [c for c in changed if c["id"] != target["id"] and c["text"] is not None]
    assert all(c["text"] != "Tide: High 4:10 PM" for c in others)
