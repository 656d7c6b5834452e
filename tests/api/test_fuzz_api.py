"""schemathesis against the running demo appliance: no 5xx, every answer as documented, and
the show still live, the program still advancing and the library intact afterwards.

The harness (appliance, seeding, the run and the checks after it) is :mod:`bench.api_fuzz`;
``python -m bench.api_fuzz --max-time 600`` is the longer run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.api_fuzz import (
    Seeded,
    aftermath,
    demo_appliance,
    mixer_frames,
    restarts,
    run_schemathesis,
    seed_library,
)

pytestmark = [pytest.mark.slow]

FUZZ_SECONDS = 45  # the schemathesis time budget; the whole test stays under 90 s


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded, Path]]:
    folder = tmp_path_factory.mktemp("fuzz")
    with demo_appliance(folder) as (_, base):
        httpx.get(f"{base}/api/health", timeout=30).raise_for_status()
        yield base, seed_library(base), folder


@pytest.mark.timeout(120)
def test_a_burst_of_bad_jumps_is_refused_and_restarts_nothing(
    running: tuple[str, Seeded, Path],
) -> None:
    base, _, _ = running
    before = restarts(base)
    bodies = [{"cue_id": ["x"]}, {"seconds": 1e308}, {"seconds": -1}, {"cue_id": {"a": 1}}]
    with httpx.Client(base_url=base, timeout=30) as client:
        for n in range(40):
            response = client.post("/api/show/jump", json=bodies[n % len(bodies)])
            assert response.status_code == 400, response.text
        text = client.post("/api/show/text", json={"cue_id": "cue_o3", "text": ["x"]})
        assert text.status_code == 400
        assert client.get("/api/show").json()["state"] == "live"
    assert restarts(base) == before, "a refused request restarted an actor"
    first = mixer_frames(base)
    httpx.get(f"{base}/api/show", timeout=30)
    assert mixer_frames(base) >= first


@pytest.mark.timeout(150)
def test_schemathesis_finds_nothing_and_the_show_goes_on(
    running: tuple[str, Seeded, Path],
) -> None:
    base, seeded, folder = running
    result = run_schemathesis(base, seeded, max_time=FUZZ_SECONDS, workdir=folder)
    print(result.summary())
    assert result.exit_code == 0, result.output[-4000:]
    assert result.failures == []
    assert not [status for status in result.statuses if status >= 500], result.statuses
    assert result.requests >= 200, result.summary()  # it really ran
    assert result.statuses[200] + result.statuses[201] > 50, result.statuses
    assert aftermath(base, seeded) == []
