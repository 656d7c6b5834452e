"""``vistter chaos ...``: the chaos harness from the vistter command (issue #12)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import vistter.chaos_command as chaos_command
from vistter.cli import main

pytestmark = pytest.mark.timeout(60)


def test_the_arguments_reach_the_harness_from_any_directory(tmp_path: Path) -> None:
    """Run as the installed command from outside the checkout: it finds the harness beside
    the vistter package and the harness answers (an unknown scenario: its own usage error)."""
    vistter = Path(sys.executable).with_name("vistter")
    command = [str(vistter)] if vistter.is_file() else [sys.executable, "-m", "vistter"]
    done = subprocess.run(
        [*command, "chaos", "run", "--short", "--scenario", "99"],
        cwd=tmp_path, capture_output=True, text=True, timeout=50, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "python -m chaos: error: no scenario 99; choose from [1, 2" in done.stderr


def test_help_is_the_harness_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["chaos", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "usage: python -m chaos" in out and "soak" in out


def test_other_commands_still_refuse_unknown_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["validate", "x.json", "--bogus"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("missing", "says", "fix"),
    [
        ("chaos", "the chaos harness is not installed with this vistter", "source checkout"),
        ("av", "needs the Python package 'av'", "pip install -e '.[chaos]'"),
    ],
)
def test_a_missing_harness_or_dependency_says_how_to_get_it(
    missing: str, says: str, fix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    def not_found() -> object:
        raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)

    monkeypatch.setattr(chaos_command, "_import_command", not_found)
    monkeypatch.setattr(chaos_command, "_CHECKOUT", tmp_path)  # a package without chaos/
    assert main(["chaos", "run", "--short"]) == 2
    err = capsys.readouterr().err
    assert says in err, err
    assert "how to fix:" in err and fix in err, err
