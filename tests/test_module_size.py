"""Small modules, one concept each: no module of the product or of the chaos harness is over
450 lines (DESIGN.md, "Style we want"). A module that grows past it is split along a real seam,
not cut arbitrarily."""

from __future__ import annotations

from pathlib import Path

import chaos
import vistter

MAX_LINES = 450
PACKAGES = (Path(vistter.__file__).parent, Path(chaos.__file__).parent)


def _line_count(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle)


def test_no_module_is_over_450_lines() -> None:
    modules = [path for package in PACKAGES for path in sorted(package.rglob("*.py"))]
    assert len(modules) > 50, f"expected the vistter and chaos packages under {PACKAGES}"
    root = PACKAGES[0].parent
    too_long = {
        str(path.relative_to(root)): lines
        for path in modules
        if (lines := _line_count(path)) > MAX_LINES
    }
    assert too_long == {}, f"over {MAX_LINES} lines, split along a real seam: {too_long}"
