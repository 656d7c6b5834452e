"""The OTP runtime stands alone: ``vistter/supervisors/`` imports no domain package.

Every actor depends on the runtime, never the reverse. Each module under
``vistter/supervisors/`` is parsed with :mod:`ast` (imports under ``TYPE_CHECKING`` and inside
functions count too) and may import, from ``vistter``, only ``vistter.supervisors.*``,
``vistter.clock`` and ``vistter.errors``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import vistter.supervisors

SUPERVISORS = Path(vistter.supervisors.__file__).parent
ALLOWED = ("vistter.supervisors", "vistter.clock", "vistter.errors")


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``."""
    package = "vistter.supervisors"
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def _allowed(module: str) -> bool:
    if module != "vistter" and not module.startswith("vistter."):
        return True
    return any(module == allowed or module.startswith(f"{allowed}.") for allowed in ALLOWED)


def test_the_runtime_imports_no_domain_package() -> None:
    modules = sorted(SUPERVISORS.rglob("*.py"))
    assert len(modules) >= 10, f"expected the supervisors package at {SUPERVISORS}"
    offending = [
        f"{path.relative_to(SUPERVISORS.parent.parent)}:{line}: imports {module}"
        for path in modules
        for line, module in _imported_modules(path)
        if not _allowed(module)
    ]
    assert offending == [], "vistter/supervisors/ must not depend on the domain:\n" + "\n".join(
        offending
    )


def test_the_check_sees_a_domain_import(tmp_path: Path) -> None:
    """The check itself: a domain import, a package import and a relative one are caught."""
    module = tmp_path / "bad.py"
    module.write_text(
        "import vistter.actors.bus\n"
        "from vistter import telemetry\n"
        "from ..actors import bus\n"
        "from vistter.clock import Clock\n"
        "from vistter.supervisors.link import Link\n"
        "import pykka\n",
        encoding="utf-8",
    )
    verdicts = [(name, _allowed(name)) for _, name in _imported_modules(module)]
    assert verdicts == [
        ("vistter.actors.bus", False),
        ("vistter.telemetry", False),
        ("vistter.actors.bus", False),
        ("vistter.clock.Clock", True),
        ("vistter.supervisors.link.Link", True),
        ("pykka", True),
    ]
