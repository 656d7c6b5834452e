"""The execution log: one record per run, closed once, and recovered after a crash."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vistter.store import (
    Database,
    ExecutionEndedError,
    ExecutionLog,
    ExecutionNotFoundError,
    TimelineLibrary,
    TimelineNotFoundError,
)
from vistter.store.executions import this_runner


class StepClock:
    def __init__(self) -> None:
        self.now = datetime(2024, 6, 1, 18, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=30)
        return self.now


class StepMonotonic:
    """A monotonic clock 30 s further on at every reading, like :class:`StepClock`."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 30.0
        return self.now


def show(key: str = "show") -> dict[str, Any]:
    return {
        "timeline": {
            "id": key,
            "name": f"Show {key}",
            "duration": 10,
            "tracks": {
                "video": {
                    "track_id": "v",
                    "cues": [
                        {"id": "a", "start_time": 0, "duration": 10, "action": "show_camera",
                         "params": {"camera_id": 1}},
                    ],
                }
            },
        }
    }  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "vistter.db", wall_clock=StepClock()) as database:
        yield database


@pytest.fixture
def timeline_id(db: Database) -> int:
    return TimelineLibrary(db).create(show()).id


def test_start_and_finish_record_a_run(db: Database, timeline_id: int) -> None:
    log = ExecutionLog(db, monotonic=StepMonotonic())
    run = log.start(timeline_id)
    running = log.get(run)
    assert (running.status, running.timeline_id, running.timeline_name) == (
        "running", timeline_id, "Show show",
    )  # fmt: skip
    assert running.completed_at is None
    assert running.duration_seconds is None
    assert running.runner == this_runner()
    assert [r.id for r in log.running()] == [run]
    finished = log.finish(run, "completed", metrics={"frames": 300, "dropped": 0, "fps": 29.97})
    assert finished.status == "completed"
    assert finished.metrics == {"frames": 300, "dropped": 0, "fps": 29.97}
    assert finished.error_message is None
    assert finished.duration_seconds == 30.0
    assert log.running() == []
    assert log.get(run) == finished


def test_an_error_run_keeps_its_message(db: Database, timeline_id: int) -> None:
    log = ExecutionLog(db)
    run = log.start(timeline_id)
    record = log.finish(run, "error", error="encoder crashed 6 times in 60 s")
    assert (record.status, record.error_message, record.metrics) == (
        "error", "encoder crashed 6 times in 60 s", None,
    )  # fmt: skip


def test_an_execution_ends_only_once(db: Database, timeline_id: int) -> None:
    log = ExecutionLog(db)
    run = log.start(timeline_id)
    log.finish(run, "stopped")
    with pytest.raises(ExecutionEndedError, match="already ended") as caught:
        log.finish(run, "completed")
    assert caught.value.hint
    assert log.get(run).status == "stopped"


def test_bad_ids_and_statuses(db: Database, timeline_id: int) -> None:
    log = ExecutionLog(db)
    with pytest.raises(TimelineNotFoundError):
        log.start(timeline_id + 1)
    with pytest.raises(ExecutionNotFoundError):
        log.finish(99, "completed")
    with pytest.raises(ExecutionNotFoundError):
        log.get(99)
    run = log.start(timeline_id)
    with pytest.raises(ValueError, match="completed"):
        log.finish(run, "running")  # type: ignore[arg-type]
    assert log.get(run).status == "running"


def test_metrics_json_cannot_hold_are_made_to_fit(db: Database, timeline_id: int) -> None:
    log = ExecutionLog(db)
    run = log.start(timeline_id)
    metrics = {
        "bitrate": np.float32(2.5),
        "frames": np.int64(7),
        "nan": math.nan,
        "per_destination": {"yt": (1, 2), 3: {"x"}},
        "path": Path("/tmp/x"),
    }
    record = log.finish(run, "completed", metrics=metrics)
    assert record.metrics == {
        "bitrate": 2.5,
        "frames": 7,
        "nan": None,
        "per_destination": {"yt": [1, 2], "3": ["x"]},
        "path": "/tmp/x",
    }
    with db.read() as connection:
        stored = connection.execute("SELECT metrics FROM timeline_executions").fetchone()[0]
    assert json.loads(stored) == record.metrics


def test_list_is_newest_first_per_timeline_or_all(db: Database) -> None:
    library = TimelineLibrary(db)
    first = library.create(show("one")).id
    second = library.create(show("two")).id
    log = ExecutionLog(db)
    runs = [log.start(first), log.start(second), log.start(first)]
    for run in runs:
        log.finish(run, "completed")
    assert [r.id for r in log.list(first)] == [runs[2], runs[0]]
    assert [r.id for r in log.list(second)] == [runs[1]]
    assert [r.id for r in log.list()] == runs[::-1]
    assert [r.id for r in log.list(limit=1)] == [runs[2]]


def test_recover_closes_runs_of_a_dead_process_but_not_ours(db: Database, timeline_id: int) -> None:
    crashed = ExecutionLog(db, runner="4242-deadbeef0000")
    orphan = crashed.start(timeline_id)
    ours = ExecutionLog(db)
    live = ours.start(timeline_id)
    assert ours.recover() == [orphan]
    record = ours.get(orphan)
    assert record.status == "error"
    assert record.completed_at is not None
    assert record.error_message is not None
    assert "crash" in record.error_message
    assert ours.get(live).status == "running"
    assert ours.recover() == []
    with pytest.raises(ExecutionEndedError):  # the dead process cannot close it any more
        crashed.finish(orphan, "completed")


@pytest.mark.timeout(60)
def test_recover_after_a_real_crash(tmp_path: Path) -> None:
    path = tmp_path / "vistter.db"
    with Database(path) as db:
        timeline_id = TimelineLibrary(db).create(show()).id
    script = textwrap.dedent(f"""
        import sys, time
        from vistter.store import Database, ExecutionLog
        db = Database({str(path)!r})
        run = ExecutionLog(db).start({timeline_id})
        print(run, flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        run = int(child.stdout.readline())
    finally:
        os.kill(child.pid, signal.SIGKILL)  # the crash: no chance to finish the record
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
    with Database(path) as db:  # Vistter starting again
        log = ExecutionLog(db)
        assert log.get(run).status == "running"
        assert log.recover() == [run]
        record = log.get(run)
        assert record.status == "error"
        assert record.error_message is not None
        assert "started again" in record.error_message
        assert record.duration_seconds is not None
        assert record.duration_seconds >= 0
