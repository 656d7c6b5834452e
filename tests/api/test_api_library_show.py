"""The library listing's ``loaded`` and ``on_air``: what the show has loaded, asked briefly,
and a show that does not answer never breaks the listing."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pykka
import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from test_api_library import small

from vistter.api import ApiDeps, create_app
from vistter.api.library import LibraryDeps
from vistter.api.library_show import LoadedShow, loaded_from_orchestrator, loaded_from_status
from vistter.clock import FakeClock
from vistter.errors import UnknownChildError
from vistter.store import AssetStore, Database, ExecutionLog, TimelineLibrary


class _Answer:
    def __init__(self, value: object, error: BaseException | None = None) -> None:
        self._value, self._error = value, error

    def get(self, timeout: float) -> object:
        if self._error is not None:
            raise self._error
        return self._value


class _Orchestrator:
    def __init__(self, value: object = None, error: BaseException | None = None) -> None:
        self._answer = _Answer(value, error)

    def status(self) -> _Answer:
        return self._answer


def status(state: str, db_id: object) -> dict[str, Any]:
    return {"state": state, "timeline": {"id": "k", "name": "N", "db_id": db_id}}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (status("live", 3), LoadedShow(3, on_air=True)),
        (status("paused", 3), LoadedShow(3, on_air=True)),
        (status("idle", 3), LoadedShow(3, on_air=False)),
        (status("stopped", 3), LoadedShow(3, on_air=False)),
        (status("live", None), None),  # loaded from a file, not from the library
        (status("live", True), None),
        ({"state": "idle", "timeline": None}, None),
        ({}, None),
    ],
)
def test_the_loaded_timeline_is_read_from_the_show_status(
    given: dict[str, Any], expected: LoadedShow | None
) -> None:
    assert loaded_from_status(given) == expected


@pytest.mark.parametrize(
    "error", [pykka.Timeout("slow"), pykka.ActorDeadError("gone"),
              UnknownChildError("no show", hint="start it")],
)  # fmt: skip
def test_a_show_that_does_not_answer_is_unknown(error: BaseException) -> None:
    assert loaded_from_orchestrator(lambda: _Orchestrator(error=error)) is None


def test_a_show_that_answers_says_what_it_has_loaded() -> None:
    assert loaded_from_orchestrator(lambda: _Orchestrator(status("live", 7))) == LoadedShow(7, True)


def listing(tmp_path: Path, loaded_show: Callable[[], LoadedShow | None]) -> dict[str, Any]:
    with Database(tmp_path / "vistter.db") as db:
        library = TimelineLibrary(db)
        library.create(small("one", "One"))
        library.create(small("two", "Two"))
        deps = ApiDeps(
            tree=lambda: {"id": "root", "state": "running", "children": []},
            validate_timeline=lambda document: [], started_at=0.0, version="t",
            clock=FakeClock(),
            library=LibraryDeps(timelines=library, executions=ExecutionLog(db),
                                assets=AssetStore(db, tmp_path / "assets", 1 << 20),
                                config=None, max_upload_bytes=1 << 20, loaded_show=loaded_show),
        )  # fmt: skip
        with TestClient(create_app(deps)) as client:
            rows = client.get("/api/timelines").json()["timelines"]
    return {row["key"]: (row["loaded"], row["on_air"]) for row in rows}


def test_the_listing_marks_the_loaded_and_the_live_timeline(tmp_path: Path) -> None:
    assert listing(tmp_path / "a", lambda: LoadedShow(2, on_air=True)) == {
        "one": (False, False), "two": (True, True)}
    assert listing(tmp_path / "b", lambda: LoadedShow(1, on_air=False)) == {
        "one": (True, False), "two": (False, False)}
    assert listing(tmp_path / "c", lambda: None) == {
        "one": (False, False), "two": (False, False)}
