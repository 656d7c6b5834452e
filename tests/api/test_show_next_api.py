"""``POST /api/show/next`` and ``DELETE /api/show/next`` at the HTTP edge: a library
timeline, validated again, goes to the orchestrator's ``put_next``; a bad request gets a
4xx with words and never reaches the running show."""

from __future__ import annotations

import json
from pathlib import Path

from test_api_edge import Edge, assert_refused, edge

__all__ = ["edge"]


def test_a_library_timeline_is_queued_with_the_orchestrator(
    edge: Edge, spec_example_path: Path
) -> None:
    stored = edge.library.create(json.loads(spec_example_path.read_text(encoding="utf-8")))
    answer = edge.post("/api/show/next", json.dumps({"timeline_id": stored.id}))
    assert answer.status_code == 200, answer.text
    [(method, args, _)] = edge.orchestrator.calls
    assert method == "put_next"
    document, timeline_id, loop = args
    assert document.timeline.id == stored.document["timeline"]["id"]
    assert (timeline_id, loop) == (stored.id, None)
    assert edge.client.delete("/api/show/next").status_code == 200
    assert edge.orchestrator.calls[-1][0] == "cancel_next"


def test_bad_requests_are_refused_with_words_and_touch_nothing(
    edge: Edge, spec_example_path: Path
) -> None:
    missing = assert_refused(edge.post("/api/show/next", '{"timeline_id": 999}'), 404,
                             "TimelineNotFoundError")
    assert "999" in missing["problem"] and missing["hint"]
    for body in ('{}', '{"timeline_id": "two"}', '{"timeline_id": 1, "loop": "yes"}',
                 '{"timeline_id": 1, "extra": 1}'):
        refused = assert_refused(edge.post("/api/show/next", body), 400, "BadRequestError")
        assert refused["hint"]
    text = spec_example_path.read_text(encoding="utf-8").replace(
        '"camera_id": 2', '"camera_id": 42')
    stored = edge.library.create(json.loads(text))  # stored before camera 42 was removed
    invalid = assert_refused(edge.post("/api/show/next", json.dumps({"timeline_id": stored.id})),
                             422, "TimelineInvalid")
    assert "camera 42 is not configured" in invalid["problem"] and invalid["hint"]
    assert edge.orchestrator.calls == []
