"""The vendored front-end libraries are exactly what the npm lock pins, with their licences.

``scripts/vendor-frontend.py`` copies published files out of tarballs whose sha512 equals the
lock's ``integrity`` and records a sha256 per shipped file in ``vendor.json``; these tests hold
the shipped tree, the manifest and the lock to each other.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
VENDOR = REPO / "vistter" / "console" / "static" / "vendor"
LOCK = REPO / "frontend" / "package-lock.json"
PACKAGE = REPO / "frontend" / "package.json"


def manifest() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VENDOR / "vendor.json").read_text())
    return document


def locked_packages() -> dict[str, Any]:
    packages: dict[str, Any] = json.loads(LOCK.read_text())["packages"]
    return packages


def every_entry() -> list[dict[str, Any]]:
    """Every library and every package it bundles, as the manifest records them."""
    entries = []
    for library in manifest()["libraries"]:
        entries.append(library)
        entries.extend(library["bundled"])
    return entries


def test_every_shipped_file_matches_its_sha256_in_the_manifest() -> None:
    recorded: dict[Path, str] = {}
    for library in manifest()["libraries"]:
        for relative, digest in library["files"].items():
            recorded[VENDOR / library["directory"] / relative] = digest
    shipped = {path for path in VENDOR.rglob("*") if path.is_file()} - {VENDOR / "vendor.json"}
    assert shipped == set(recorded), (
        f"files not in vendor.json: {sorted(map(str, shipped - set(recorded)))}; "
        f"missing files: {sorted(map(str, set(recorded) - shipped))}. "
        "Run scripts/vendor-frontend.py."
    )
    for path, digest in recorded.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, (
            f"{path} was changed after vendoring; run scripts/vendor-frontend.py"
        )


@pytest.mark.parametrize("entry", every_entry(), ids=lambda entry: str(entry["name"]))
def test_manifest_version_integrity_and_licence_equal_the_lock(entry: dict[str, Any]) -> None:
    locked = locked_packages()[f"node_modules/{entry['name']}"]
    assert entry["version"] == locked["version"]
    assert entry["integrity"] == locked["integrity"]
    assert entry["integrity"].startswith("sha512-")
    assert entry["license"] == locked["license"]


def test_the_shipped_libraries_are_exactly_the_declared_dependencies() -> None:
    declared = json.loads(PACKAGE.read_text())["dependencies"]
    shipped = {library["name"]: library["version"] for library in manifest()["libraries"]}
    assert shipped == declared, "package.json pins exact versions; vendor exactly those"
    root = locked_packages()[""]["dependencies"]
    assert root == declared, "package-lock.json is out of step with package.json: npm install"


@pytest.mark.parametrize(
    "library", manifest()["libraries"], ids=lambda library: str(library["name"])
)
def test_each_library_and_what_it_bundles_ship_their_licence_texts(
    library: dict[str, Any],
) -> None:
    directory = VENDOR / library["directory"]
    assert library["licence_files"], f"{library['name']} ships no licence file"
    licence_files = list(library["licence_files"])
    for bundled in library["bundled"]:
        assert bundled["licence_files"], f"{bundled['name']} (in {library['name']}) has none"
        licence_files.extend(bundled["licence_files"])
    for relative in licence_files:
        text = (directory / relative).read_text(encoding="utf-8", errors="replace")
        assert relative in library["files"], f"{relative} is not covered by a sha256"
        assert len(text) > 100 and ("permission" in text.lower() or "license" in text.lower()), (
            f"{directory / relative} does not look like a licence text"
        )
