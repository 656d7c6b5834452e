"""The builder's editing model (``builder/state.js`` and its pure helpers), unit-tested in
Node's own test runner (``node --test tests/builder/state.test.mjs``): undo / redo, the
clipboard, tracks, snapping and adding from the palette, without a browser.

Node is a system requirement of the console's vendoring already (``frontend/``); a missing
``node`` is a failure that says how to install it, never a skip.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SUITE = Path(__file__).with_name("state.test.mjs")
REPO = SUITE.parents[2]


def test_the_builder_model_passes_its_node_tests() -> None:
    node = shutil.which("node")
    assert node, "node is missing: install Node.js 20 or newer (apt-get install nodejs)"
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", str(SUITE)], cwd=REPO, capture_output=True,
        text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout and "# pass 8" in result.stdout, result.stdout[-2000:]
