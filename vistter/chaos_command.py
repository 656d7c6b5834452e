"""``vistter chaos run|soak ...``: the chaos harness (``python -m chaos``) from the vistter
command.

The harness lives in the source checkout's ``chaos/`` package beside ``vistter/``, not in the
installed package (an appliance does not need it). This command finds it next to the
``vistter`` package it runs from (an editable install, ``pip install -e '.[chaos]'``), then
hands every argument to :func:`chaos.harness.command.main`. Runs in the main thread; the
harness's exit code is returned.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vistter.errors import VistterError

__all__ = ["ChaosUnavailableError", "cmd_chaos"]

_CHECKOUT = Path(__file__).resolve().parent.parent
"""The directory that holds the ``vistter`` package: a source checkout's root."""

_INSTALL_HINT = (
    "Run it from a source checkout (git clone), installed with "
    "`.venv/bin/pip install -e '.[chaos]'`, or there as `python -m chaos run`."
)


class ChaosUnavailableError(VistterError):
    """The chaos harness or what it needs (PyAV, matplotlib) is not installed here."""


def _import_command() -> Any:
    return importlib.import_module("chaos.harness.command")


def _harness() -> Any:
    """The harness's command module, found in the checkout when it is not importable."""
    try:
        return _import_command()
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing.split(".")[0] != "chaos":
            raise ChaosUnavailableError(
                f"the chaos harness needs the Python package {missing!r}, which is not "
                "installed.",
                hint="Install the harness's extras: `.venv/bin/pip install -e '.[chaos]'`.",
            ) from exc
    checkout = str(_CHECKOUT)
    if checkout in sys.path or not (_CHECKOUT / "chaos" / "harness" / "command.py").is_file():
        raise ChaosUnavailableError(
            "the chaos harness is not installed with this vistter (it ships with the source, "
            f"not the package; looked in {_CHECKOUT / 'chaos'}).",
            hint=_INSTALL_HINT,
        )
    sys.path.insert(0, checkout)  # once: the next failure is reported above
    return _harness()


def cmd_chaos(arguments: Sequence[str]) -> int:
    """Run ``python -m chaos`` with ``arguments`` (``run ...`` or ``soak ...``)."""
    return int(_harness().main(list(arguments)))
