"""The live view's degraded-mode notice (``console/degraded.js``), unit-tested in Node's own
test runner without a browser (``node --test tests/degraded/notice.test.mjs``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SUITE = Path(__file__).with_name("notice.test.mjs")
REPO = SUITE.parents[2]


def test_the_degraded_notice_passes_its_node_tests() -> None:
    node = shutil.which("node")
    assert node, "node is missing: install Node.js 20 or newer (apt-get install nodejs)"
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", str(SUITE)], cwd=REPO, capture_output=True,
        text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout and "# pass 3" in result.stdout, result.stdout[-2000:]
