"""Timeline revisions (ETag / If-Match at the store), renames, and the library listing."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vistter.models.validation import TimelineInvalid
from vistter.store import (
    Database,
    ExecutionLog,
    IfMatch,
    TimelineChangedError,
    TimelineLibrary,
    TimelineNotFoundError,
    etag_of,
    parse_if_match,
)
from vistter.store.migrations import MIGRATIONS


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "vistter.db") as database:
        yield database


@pytest.fixture
def library(db: Database) -> TimelineLibrary:
    return TimelineLibrary(db)


def show(key: str = "show", name: str = "Show", *, overlays: int = 0, loop: bool = False
         ) -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {
        "id": key, "name": name, "duration": 60, "loop": loop,
        "tracks": {
            "video": {"track_id": "v", "cues": [
                {"id": "a", "start_time": 0, "duration": 30, "action": "show_camera",
                 "params": {"camera_id": 1}},
                {"id": "b", "start_time": 30, "duration": 30, "action": "show_camera",
                 "params": {"camera_id": 2}},
            ]},
            "overlays": [
                {"track_id": f"o{n}", "layer": n + 1, "cues": [
                    {"id": f"t{n}", "start_time": 0, "duration": 5, "action": "show_overlay",
                     "params": {"type": "text", "text": "Hello"}}]}
                for n in range(overlays)
            ],
        },
    }  # fmt: skip
    return {"timeline": body}


def stored_row(db: Database, timeline_id: int) -> tuple[Any, ...]:
    with db.read() as connection:
        row = connection.execute("SELECT * FROM timelines WHERE id = ?", (timeline_id,)).fetchone()
    return tuple(row)


# -- If-Match parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("  ", None),
        ("*", IfMatch(any_version=True)),
        ('"3-7"', IfMatch(False, ('"3-7"',))),
        ('"3-6", "3-7"', IfMatch(False, ('"3-6"', '"3-7"'))),
        ('W/"3-7"', IfMatch(False, ())),  # weak tags never match an If-Match
        ("3-7", IfMatch(False, ('"3-7"',))),  # copied without its quotes: still that tag
        ('"3-7" garbage', IfMatch(False, ())),  # malformed: matches nothing, writes nothing
    ],
)
def test_if_match_headers_parse(header: str | None, expected: IfMatch | None) -> None:
    assert parse_if_match(header) == expected


def test_an_if_match_matches_only_its_version() -> None:
    assert parse_if_match('"1-2"').matches(etag_of(1, 2))  # type: ignore[union-attr]
    assert not parse_if_match('"1-2"').matches(etag_of(1, 3))  # type: ignore[union-attr]
    assert parse_if_match("*").matches(etag_of(9, 9))  # type: ignore[union-attr]


# -- revisions --------------------------------------------------------------------------------


def test_every_stored_change_gives_a_new_etag(library: TimelineLibrary) -> None:
    created = library.create(show())
    tags = [created.etag]
    tags.append(library.update(created.id, show(name="Changed")).etag)
    tags.append(library.rename(created.id, "Renamed").etag)
    tags.append(library.set_active(created.id, False).etag)
    tags.append(library.update(created.id, show(name="Renamed")).etag)  # same content again
    assert len(set(tags)) == len(tags), tags
    assert library.get(created.id).etag == tags[-1]
    assert tags[0] == etag_of(created.id, 1)
    copy = library.clone(created.id)
    assert copy.etag == etag_of(copy.id, 1) != tags[-1]


def test_a_stale_if_match_writes_nothing(library: TimelineLibrary, db: Database) -> None:
    created = library.create(show())
    current = library.update(created.id, show(name="Second")).etag
    before = stored_row(db, created.id)
    stale = parse_if_match(created.etag)
    with pytest.raises(TimelineChangedError) as caught:
        library.update(created.id, show(name="Third"), if_match=stale)
    assert caught.value.http_status == 412
    assert caught.value.current_etag == current
    assert caught.value.to_dict() == {
        "error": "conflict",
        "problem": "This timeline was changed elsewhere (in another tab or by another person) "
        "since you opened it.",
        "hint": "Reload it to see the other changes, or save yours as a copy.",
    }
    with pytest.raises(TimelineChangedError):
        library.rename(created.id, "Other", if_match=stale)
    assert stored_row(db, created.id) == before
    # the current tag, "*" and no If-Match at all may write
    assert library.update(created.id, show(name="Third"),
                          if_match=parse_if_match(current)).name == "Third"  # fmt: skip
    assert library.rename(created.id, "Fourth", if_match=parse_if_match("*")).name == "Fourth"
    assert library.rename(created.id, "Fifth").name == "Fifth"


def test_an_unknown_id_is_not_found_before_any_version_check(library: TimelineLibrary) -> None:
    with pytest.raises(TimelineNotFoundError):
        library.update(41, show(), if_match=parse_if_match('"41-1"'))
    with pytest.raises(TimelineNotFoundError):
        library.rename(41, "x", if_match=parse_if_match('"41-1"'))


def test_two_writers_with_the_same_if_match_exactly_one_wins(
    library: TimelineLibrary,
) -> None:
    created = library.create(show())
    if_match = parse_if_match(created.etag)
    start = threading.Barrier(2, timeout=30)
    outcomes: dict[str, str] = {}

    def write(name: str) -> None:
        start.wait()
        try:
            library.update(created.id, show(name=name), if_match=if_match)
            outcomes[name] = "stored"
        except TimelineChangedError:
            outcomes[name] = "conflict"

    threads = [threading.Thread(target=write, args=(name,)) for name in ("Tab A", "Tab B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["conflict", "stored"], outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome == "stored")
    record = library.get(created.id)
    assert (record.name, record.revision) == (winner, 2)


# -- rename -----------------------------------------------------------------------------------


def test_rename_changes_the_name_in_the_document_too(library: TimelineLibrary) -> None:
    created = library.create(show(overlays=1))
    renamed = library.rename(created.id, "Marina, évening")
    assert renamed.name == "Marina, évening"
    assert renamed.document["timeline"]["name"] == "Marina, évening"
    assert renamed.document["timeline"]["tracks"] == show(overlays=1)["timeline"]["tracks"]
    assert renamed.key == created.key
    assert [s.name for s in library.list()] == ["Marina, évening"]


def test_a_rename_the_document_cannot_take_is_refused(library: TimelineLibrary, db: Database
                                                      ) -> None:  # fmt: skip
    created = library.create(show())
    before = stored_row(db, created.id)
    for bad in ("", "x" * 201):
        with pytest.raises(TimelineInvalid) as caught:
            library.rename(created.id, bad)
        assert [p.path for p in caught.value.problems] == ["timeline.name"]
    assert stored_row(db, created.id) == before


# -- the listing ------------------------------------------------------------------------------


def test_the_listing_has_what_a_library_page_shows(library: TimelineLibrary, db: Database) -> None:
    plain = library.create(show("plain", "Plain"))
    looped = library.create(show("looped", "Looped", overlays=2, loop=True))
    log = ExecutionLog(db)
    first = log.start(looped.id)
    log.finish(first, "error", error="encoder died")
    second = log.start(looped.id)
    by_key = {summary.key: summary for summary in library.list()}

    assert (by_key["plain"].tracks, by_key["plain"].cues, by_key["plain"].loop) == (1, 2, False)
    assert (by_key["looped"].tracks, by_key["looped"].cues, by_key["looped"].loop) == (3, 4, True)
    assert (by_key["plain"].fps, by_key["plain"].resolution) == (30, "1920x1080")
    assert by_key["plain"].last_run is None and not by_key["plain"].is_running
    run = by_key["looped"].last_run
    assert run is not None and by_key["looped"].is_running
    assert (run.result, run.ended_at, run.error) == ("running", None, None)
    assert run.started_at == log.get(second).started_at
    assert by_key["plain"].etag == plain.etag
    log.finish(second, "completed")
    run = next(s for s in library.list() if s.key == "looped").last_run
    assert run is not None and run.result == "completed" and run.ended_at is not None


def test_the_listing_finds_names_by_any_case(library: TimelineLibrary) -> None:
    for key, name in (("a", "Marina Morning"), ("b", "MARINA evening"), ("c", "Évening news")):
        library.create(show(key, name))
    assert [s.name for s in library.list("marina")] == ["MARINA evening", "Marina Morning"]
    assert [s.name for s in library.list("éVENING")] == ["Évening news"]
    assert [s.name for s in library.list("  evening ")] == ["MARINA evening"]
    assert library.list("nothing like it") == []
    assert len(library.list("")) == 3


def test_the_listing_is_one_query_however_many_timelines(
    library: TimelineLibrary, db: Database
) -> None:
    def selects() -> int:
        statements: list[str] = []
        with db.read() as connection:  # this thread's connection, which list() uses too
            connection.set_trace_callback(statements.append)
        try:
            library.list()
        finally:
            with db.read() as connection:
                connection.set_trace_callback(None)
        return sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))

    library.create(show("one"))
    assert selects() == 1
    log = ExecutionLog(db)
    for n in range(6):
        created = library.create(show(f"more{n}", overlays=n % 3))
        log.finish(log.start(created.id), "stopped")
    assert selects() == 1


def test_a_version_2_database_gets_revisions(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Database(path, migrations=MIGRATIONS[:2]) as old, old.write() as connection:
        connection.execute(
            "INSERT INTO timelines (timeline_key, name, duration, document) "
            "VALUES ('k', 'Old', 60, ?)",
            ('{"timeline": {"id": "k", "name": "Old", "duration": 60, '
             '"tracks": {"video": {"track_id": "v"}}}}',),
        )  # fmt: skip
    with Database(path) as db:
        assert db.schema_version == 4  # revisions (3), then run durations (4)
        record = TimelineLibrary(db).get(1)
        assert (record.revision, record.etag) == (1, '"1-1"')
        with db.read() as connection, pytest.raises(sqlite3.IntegrityError):
            connection.execute("UPDATE timelines SET revision = 0")
