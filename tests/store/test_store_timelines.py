"""The timeline library: validated, lossless, normalised, safe under concurrent writers."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import SPEC_EXAMPLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vistter.errors import OperatorError, TimelineError
from vistter.models.config import ApplianceConfig, load_config
from vistter.models.timeline import TimelineDocument
from vistter.models.validation import TimelineInvalid
from vistter.store import (
    Database,
    ExecutionLog,
    TimelineKeyTakenError,
    TimelineLibrary,
    TimelineNotFoundError,
    TimelineRunningError,
)


class TickingClock:
    """A wall clock that moves one second per reading, so modified_at visibly changes."""

    def __init__(self) -> None:
        self._now = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=1)
            return self._now


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "vistter.db", wall_clock=TickingClock()) as database:
        yield database


@pytest.fixture
def library(db: Database) -> TimelineLibrary:
    return TimelineLibrary(db)


def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_EXAMPLE.read_text(encoding="utf-8"))
    return data


def small(key: str = "t1", name: str = "Small") -> dict[str, Any]:
    return {
        "timeline": {
            "id": key,
            "name": name,
            "duration": 25,
            "tracks": {
                "video": {
                    "track_id": "v",
                    "cues": [
                        {"id": "a", "start_time": 0, "duration": 10, "action": "show_camera",
                         "params": {"camera_id": 1}},
                        {"id": "b", "start_time": 10, "duration": 10.5, "action": "show_camera",
                         "params": {"camera_id": 2, "transition": "dissolve",
                                    "transition_duration": 0.5}},
                    ],
                }
            },
        }
    }  # fmt: skip


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.read() as connection:
        return {
            table: [tuple(row) for row in connection.execute(f"SELECT * FROM {table} ORDER BY id")]
            for table in ("timelines", "timeline_tracks", "timeline_cues")
        }


def test_the_spec_example_round_trips_losslessly_through_import_and_export(
    library: TimelineLibrary, tmp_path: Path
) -> None:
    text = SPEC_EXAMPLE.read_text(encoding="utf-8")
    record = library.import_json(text)
    exported = library.export_json(record.id)
    assert json.loads(exported) == json.loads(text)
    # types survive too: ints stay ints, floats stay floats
    cue = json.loads(exported)["timeline"]["tracks"]["video"]["cues"][1]
    assert isinstance(cue["params"]["transition_duration"], float)
    assert isinstance(cue["start_time"], int)
    # and the export imports again, elsewhere, to the same document
    with Database(tmp_path / "other.db") as other:
        again = TimelineLibrary(other).import_json(exported)
        assert again.document == json.loads(text)
        assert TimelineLibrary(other).export_json(again.id) == exported


def test_create_validates_against_the_configuration(library: TimelineLibrary) -> None:
    config: ApplianceConfig = load_config(env={})
    data = small()
    data["timeline"]["tracks"]["video"]["cues"][0]["params"]["camera_id"] = 99
    with pytest.raises(TimelineInvalid) as caught:
        library.create(data, config)
    assert [p.path for p in caught.value.problems] == [
        "timeline.tracks.video.cues[0].params.camera_id"
    ]
    assert library.list() == []


def test_create_get_and_list(library: TimelineLibrary) -> None:
    record = library.create(example())
    assert (record.key, record.name, record.duration, record.fps) == (
        "timeline_001", "Daily Marina Stream", 3600, 30,
    )  # fmt: skip
    assert record.resolution == "1920x1080"
    assert record.is_active
    assert record.created_at == record.modified_at
    assert record.created_at.tzinfo is not None
    assert isinstance(record.to_model(), TimelineDocument)
    assert library.get(record.id) == record
    assert library.get_by_key("timeline_001") == record
    second = library.create(small(name="another"))
    names = [(s.id, s.name, s.duration, s.is_active, s.is_running) for s in library.list()]
    assert names == [
        (second.id, "another", 25, True, False),
        (record.id, "Daily Marina Stream", 3600, True, False),
    ]


def test_the_normalised_tables_mirror_the_document(library: TimelineLibrary, db: Database) -> None:
    record = library.create(example())
    with db.read() as connection:
        tracks = connection.execute(
            "SELECT track_key, track_type, track_name, track_order, layer FROM timeline_tracks "
            "WHERE timeline_id = ? ORDER BY track_order",
            (record.id,),
        ).fetchall()
        cues = connection.execute(
            "SELECT t.track_key, c.cue_key, c.cue_order, c.start_time, c.duration, "
            "c.action_type, c.action_params, c.transition_type, c.transition_duration "
            "FROM timeline_cues c JOIN timeline_tracks t ON t.id = c.track_id "
            "ORDER BY t.track_order, c.cue_order"
        ).fetchall()
        camera_cues = connection.execute(
            "SELECT cue_key FROM timeline_cues WHERE json_extract(action_params, '$.camera_id') = 2"
        ).fetchall()
    assert [tuple(t) for t in tracks] == [
        ("video_main", "video", "video_main", 0, 0),
        ("overlay_1", "overlay", "overlay_1", 1, 1),
        ("overlay_2", "overlay", "overlay_2", 2, 2),
    ]
    summary = [(c[0], c[1], c[2], c[3], c[4], c[5], c[7], c[8]) for c in cues]
    assert summary == [
        ("video_main", "cue_v1", 0, 0, 60, "show_camera", "cut", 0),
        ("video_main", "cue_v2", 1, 60, 5, "show_media", "fade", 1.0),
        ("video_main", "cue_v3", 2, 65, 60, "show_camera", "fade", 1.0),
        ("overlay_1", "cue_o1", 0, 10, 15, "show_overlay", "fade", 0.5),
        ("overlay_1", "cue_o2", 1, 70, 10, "show_overlay", "cut", 0),
        ("overlay_2", "cue_o3", 0, 30, 20, "show_overlay", "cut", 0),
    ]
    assert json.loads(cues[0][6]) == {"camera_id": 1, "preset_id": "wide_shot", "transition": "cut"}
    assert [row[0] for row in camera_cues] == ["cue_v3"]


def test_an_invalid_timeline_leaves_the_library_unchanged(
    library: TimelineLibrary, db: Database
) -> None:
    stored = library.create(example())
    before = snapshot(db)
    bad = example()
    bad["timeline"]["id"] = "other"
    bad["timeline"]["tracks"]["video"]["cues"][1]["start_time"] = 30  # overlaps cue_v1
    bad["timeline"]["fps"] = "thirty"
    with pytest.raises(TimelineInvalid) as caught:
        library.create(bad)
    assert "timeline.fps" in [p.path for p in caught.value.problems]
    with pytest.raises(TimelineInvalid):
        library.update(stored.id, bad)
    with pytest.raises(TimelineError, match="line 1, column"):
        library.import_json('{"timeline": ')
    with pytest.raises(TimelineError, match="NaN"):
        library.import_json('{"timeline": {"duration": NaN}}')
    with pytest.raises(TimelineKeyTakenError, match="timeline_001") as taken:
        library.create(example())
    assert taken.value.hint
    assert snapshot(db) == before
    assert library.get(stored.id) == stored


def test_update_replaces_document_and_tracks(library: TimelineLibrary, db: Database) -> None:
    record = library.create(example())
    changed = small(key="timeline_001", name="Evening show")
    updated = library.update(record.id, changed)
    assert updated.id == record.id
    assert updated.name == "Evening show"
    assert updated.created_at == record.created_at
    assert updated.modified_at > record.modified_at
    assert json.loads(library.export_json(record.id)) == changed
    with db.read() as connection:
        keys = connection.execute("SELECT cue_key FROM timeline_cues ORDER BY id").fetchall()
    assert [row[0] for row in keys] == ["a", "b"]


def test_update_cannot_take_another_timelines_key(library: TimelineLibrary) -> None:
    first = library.create(small("one"))
    second = library.create(small("two"))
    with pytest.raises(TimelineKeyTakenError):
        library.update(second.id, small("one"))
    assert library.get(second.id).key == "two"
    assert library.get(first.id).key == "one"


def test_clone_gets_a_new_key_and_name(library: TimelineLibrary) -> None:
    record = library.create(example())
    copy1 = library.clone(record.id)
    copy2 = library.clone(record.id, new_name="Marina, weekend")
    assert (copy1.key, copy1.name) == ("timeline_001_copy", "Daily Marina Stream (copy)")
    assert (copy2.key, copy2.name) == ("timeline_001_copy_2", "Marina, weekend")
    expected = example()
    expected["timeline"]["id"] = "timeline_001_copy_2"
    expected["timeline"]["name"] = "Marina, weekend"
    assert copy2.document == expected
    assert library.get(record.id).document == example()
    long_key = library.create(small("k" * 128))
    assert library.clone(long_key.id).key == "k" * 123 + "_copy"
    with pytest.raises(TimelineInvalid):
        library.clone(record.id, new_name="")


def test_delete_cascades_and_refuses_while_running(library: TimelineLibrary, db: Database) -> None:
    record = library.create(example())
    executions = ExecutionLog(db)
    run = executions.start(record.id)
    assert library.list()[0].is_running
    with pytest.raises(TimelineRunningError, match="running") as caught:
        library.delete(record.id)
    assert "Stop the show" in caught.value.hint
    assert library.get(record.id) == record
    executions.finish(run, "completed")
    library.delete(record.id)
    with pytest.raises(TimelineNotFoundError):
        library.get(record.id)
    assert snapshot(db) == {"timelines": [], "timeline_tracks": [], "timeline_cues": []}
    history = executions.list()
    assert [(h.id, h.timeline_id, h.timeline_name) for h in history] == [
        (run, None, "Daily Marina Stream")
    ]


def test_unknown_ids_raise_a_typed_not_found_with_a_hint(library: TimelineLibrary) -> None:
    calls: list[Callable[[], object]] = [
        lambda: library.get(42),
        lambda: library.get_by_key("nope"),
        lambda: library.update(42, small()),
        lambda: library.clone(42),
        lambda: library.delete(42),
        lambda: library.export_json(42),
        lambda: library.set_active(42, False),
    ]
    for call in calls:
        with pytest.raises(TimelineNotFoundError) as caught:
            call()
        assert isinstance(caught.value, OperatorError)
        assert caught.value.hint
        assert caught.value.http_status == 404


def test_set_active(library: TimelineLibrary) -> None:
    record = library.create(small())
    assert not library.set_active(record.id, False).is_active
    assert not library.list()[0].is_active
    assert library.set_active(record.id, True).is_active


def test_the_returned_document_is_a_copy(library: TimelineLibrary) -> None:
    record = library.create(small())
    record.document["timeline"]["name"] = "mutated"
    assert library.get(record.id).name == "Small"
    assert library.get(record.id).document["timeline"]["name"] == "Small"


@pytest.mark.timeout(60)
def test_four_threads_writing_at_once(library: TimelineLibrary, db: Database) -> None:
    per_thread = 15
    start = threading.Barrier(4)
    errors: list[BaseException] = []
    created: list[int] = []
    lock = threading.Lock()

    def writer(number: int) -> None:
        try:
            start.wait(timeout=10)
            for index in range(per_thread):
                record = library.create(small(f"t{number}_{index}", f"Show {number}/{index}"))
                library.update(record.id, small(f"t{number}_{index}", f"Edited {number}/{index}"))
                if index % 3 == 0:
                    library.clone(record.id)
                with lock:
                    created.append(record.id)
                library.list()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=50)
        assert not thread.is_alive()
    assert errors == []
    listing = library.list()
    assert len(listing) == 4 * per_thread + 4 * 5
    assert len({s.id for s in listing}) == len(listing)
    for timeline_id in created:
        assert library.get(timeline_id).name.startswith("Edited")
    with db.read() as connection:
        assert connection.execute("SELECT count(*) FROM timeline_cues").fetchone()[0] == (
            2 * len(listing)
        )
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


names = st.text(min_size=1, max_size=40)
seconds = st.one_of(st.integers(1, 500), st.floats(1.0, 500.0, allow_nan=False))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=names, description=st.none() | names, length=seconds, fps=st.integers(1, 60))
def test_round_trip_is_lossless_for_generated_documents(
    library: TimelineLibrary, name: str, description: str | None, length: float, fps: int
) -> None:
    data = copy.deepcopy(small(key=f"gen_{abs(hash((name, length, fps)))}"))
    body = data["timeline"]
    body.update(name=name, fps=fps, duration=10 + length, loop=True)
    if description is not None:
        body["description"] = description
    body["tracks"]["video"]["cues"][1]["duration"] = length
    record = library.create(data)
    try:
        assert json.loads(library.export_json(record.id)) == data
        assert record.name == name
        assert record.description == description
    finally:
        library.delete(record.id)
