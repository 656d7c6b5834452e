"""The repository's copy of the spec's example timeline is the original, byte for byte."""

from __future__ import annotations

from pathlib import Path

from conftest import SPEC_EXAMPLE

REPO = Path(__file__).resolve().parents[2]
ORIGINALS = [
    REPO.parent / "shared" / "spec" / "examples" / "daily-marina.timeline.json",
    Path("/work/shared/spec/examples/daily-marina.timeline.json"),
]


def test_the_copy_is_the_spec_example_unchanged() -> None:
    original = next((path for path in ORIGINALS if path.exists()), None)
    assert original is not None, f"the spec example is not at any of {ORIGINALS}"
    assert SPEC_EXAMPLE.read_bytes() == original.read_bytes()
