#!/usr/bin/env python3
"""Vendor the operator console's front-end libraries into the Python package.

Nothing is built or bundled: each library's published files are copied as they are, so the
appliance serves them itself (no CDN, no build step at run time). The chain of trust:

1. ``frontend/package.json`` names the libraries, ``frontend/package-lock.json`` pins their
   versions and the sha512 ``integrity`` of each published tarball;
2. this script asks ``npm pack NAME@VERSION`` (npm's own client and cache) for each tarball
   and refuses any whose sha512 differs from the lock's ``integrity``;
3. it copies the files listed in :data:`SHIPPED` out of the tarball into
   ``vistter/console/static/vendor/<directory>/``, with the library's licence files and the
   licence files of every locked package the library depends on and bundles (all but those
   it imports from their own vendored copy: ``Shipped.imports``) under ``bundled/<package>/``;
4. it writes ``vendor/vendor.json``: name, version, licence, integrity and the sha256 of every
   shipped file. ``tests/console/test_vendor.py`` checks the shipped files against it and
   it against the lock.

Usage: ``scripts/vendor-frontend.py`` (after changing ``frontend/package.json``, run
``npm install --save-exact --ignore-scripts`` in ``frontend/`` first to update the lock).
Exit status 0 on success, 1 with a message naming the problem.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FRONTEND = REPO / "frontend"
VENDOR = REPO / "vistter" / "console" / "static" / "vendor"
MANIFEST = VENDOR / "vendor.json"
LICENCE_PREFIXES = ("license", "licence", "copying")


@dataclass(frozen=True)
class Shipped:
    """One library: where it goes and which of its published files (tarball path -> name).

    ``imports``: locked packages the shipped files import (resolved by the page's import map)
    instead of bundling them; each is vendored as a library of its own, so it is not listed
    (nor its licence copied) among what this one bundles.
    """

    name: str
    directory: str
    files: dict[str, str]
    imports: tuple[str, ...] = ()


SHIPPED = (
    Shipped("preact", "preact", {
        "dist/preact.mjs": "preact.mjs",
        "hooks/dist/hooks.mjs": "hooks.mjs",
    }),
    Shipped("htm", "htm", {"dist/htm.mjs": "htm.mjs"}),
    Shipped("uplot", "uplot", {
        "dist/uPlot.esm.js": "uPlot.esm.js",
        "dist/uPlot.min.css": "uPlot.min.css",
    }),
    Shipped("mpegts.js", "mpegts", {
        "dist/mpegts.js": "mpegts.js",
        "dist/mpegts.js.LICENSE.txt": "mpegts.js.LICENSE.txt",
    }),
    # The "peer" build: unlike the standalone one it injects no <style> element (the page's
    # Content-Security-Policy refuses inline styles); its sheet ships as a file and moment and
    # vis-data are imported, through the import map, from their own vendored ES modules.
    Shipped("vis-timeline", "vis-timeline", {
        "peer/esm/vis-timeline-graph2d.min.mjs": "vis-timeline-graph2d.min.mjs",
        "styles/vis-timeline-graph2d.min.css": "vis-timeline-graph2d.min.css",
    }, imports=("moment", "vis-data")),
    Shipped("vis-data", "vis-data", {"peer/esm/vis-data.min.mjs": "vis-data.min.mjs"}),
    Shipped("moment", "moment", {"dist/moment.js": "moment.mjs"}),
)


class VendorError(Exception):
    """Vendoring cannot go on; the message says what to do."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sri_sha512(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def load_lock() -> dict[str, dict[str, object]]:
    lock_path = FRONTEND / "package-lock.json"
    if not lock_path.is_file():
        raise VendorError(f"{lock_path} is missing: run `npm install` in frontend/ first.")
    packages: dict[str, dict[str, object]] = json.loads(lock_path.read_text())["packages"]
    return packages


def locked(lock: dict[str, dict[str, object]], name: str) -> dict[str, object]:
    entry = lock.get(f"node_modules/{name}")
    if entry is None:
        raise VendorError(
            f"{name} is not in frontend/package-lock.json: add it with "
            f"`npm install --save-exact --ignore-scripts {name}` in frontend/."
        )
    return entry


def dependency_closure(
    lock: dict[str, dict[str, object]], name: str, imports: tuple[str, ...] = ()
) -> list[str]:
    """Every locked package ``name`` depends on (dependencies and peers), sorted; type
    declarations (``@types/*``) are left out: no code of theirs ships. ``imports`` (and what
    only they depend on) are left out too: they are vendored on their own."""
    seen: set[str] = set(imports)
    stack = [name]
    while stack:
        entry = lock.get(f"node_modules/{stack.pop()}", {})
        for field in ("dependencies", "peerDependencies"):
            names = entry.get(field) or {}
            assert isinstance(names, dict), f"{field} in the lock is not an object"
            for dep in names:
                if dep not in seen and f"node_modules/{dep}" in lock:
                    seen.add(dep)
                    stack.append(dep)
    return sorted(dep for dep in seen if dep not in imports and not dep.startswith("@types/"))


def fetch_tarballs(specs: list[str], into: Path) -> dict[str, Path]:
    """``npm pack`` each ``name@version``; returns spec -> tarball path."""
    result = subprocess.run(
        ["npm", "pack", "--json", "--ignore-scripts", "--pack-destination", str(into), *specs],
        cwd=into, capture_output=True, text=True, check=False, timeout=300,
    )
    if result.returncode != 0:
        raise VendorError(f"npm pack failed:\n{result.stderr.strip()}")
    packed = json.loads(result.stdout)
    return {spec: into / item["filename"] for spec, item in zip(specs, packed, strict=True)}


def read_tarball(path: Path) -> dict[str, bytes]:
    """The regular files of an npm tarball, keyed by their path under ``package/``."""
    files: dict[str, bytes] = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            handle = archive.extractfile(member)
            if handle is None:
                continue
            _, _, inner = member.name.partition("/")
            files[inner] = handle.read()
    return files


def licence_files(files: dict[str, bytes]) -> dict[str, bytes]:
    """The top-level licence files of a package (LICENSE, LICENSE.md, LICENSE-MIT, ...)."""
    return {
        name: data for name, data in files.items()
        if "/" not in name and name.lower().startswith(LICENCE_PREFIXES)
    }


def verified(spec: str, tarball: Path, integrity: object) -> dict[str, bytes]:
    data = tarball.read_bytes()
    if sri_sha512(data) != integrity:
        raise VendorError(
            f"{spec}: the tarball npm returned does not match the lock's integrity {integrity}; "
            "refusing to vendor it (clear the npm cache and retry, or re-lock on purpose)."
        )
    return read_tarball(tarball)


def vendor() -> dict[str, object]:
    lock = load_lock()
    wanted = {item.name for item in SHIPPED}
    declared = set(json.loads((FRONTEND / "package.json").read_text())["dependencies"])
    if wanted != declared:
        raise VendorError(
            f"frontend/package.json declares {sorted(declared)} but this script ships "
            f"{sorted(wanted)}: keep SHIPPED in scripts/vendor-frontend.py and package.json "
            "in step."
        )
    closures = {item.name: dependency_closure(lock, item.name, item.imports) for item in SHIPPED}
    names = sorted(wanted | {dep for deps in closures.values() for dep in deps})
    specs = {name: f"{name}@{locked(lock, name)['version']}" for name in names}
    with tempfile.TemporaryDirectory(prefix="vistter-vendor-") as tmp:
        tarballs = fetch_tarballs([specs[name] for name in names], Path(tmp))
        contents = {
            name: verified(specs[name], tarballs[specs[name]], locked(lock, name)["integrity"])
            for name in names
        }
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    libraries = []
    for item in SHIPPED:
        files = contents[item.name]
        out: dict[str, bytes] = {}
        for source, target in item.files.items():
            if source not in files:
                raise VendorError(f"{specs[item.name]} has no {source}: update SHIPPED.")
            out[target] = files[source]
        own_licences = licence_files(files)
        if not own_licences:
            raise VendorError(f"{specs[item.name]} ships no licence file; do not vendor it.")
        out.update(own_licences)
        bundled = []
        for dep in closures[item.name]:
            dep_licences = licence_files(contents[dep])
            for licence_name, data in dep_licences.items():
                out[f"bundled/{dep}/{licence_name}"] = data
            entry = locked(lock, dep)
            bundled.append({
                "name": dep, "version": entry["version"], "license": entry.get("license"),
                "integrity": entry["integrity"],
                "licence_files": sorted(f"bundled/{dep}/{n}" for n in dep_licences),
            })
        target_dir = VENDOR / item.directory
        for relative, data in out.items():
            path = target_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        entry = locked(lock, item.name)
        libraries.append({
            "name": item.name,
            "version": entry["version"],
            "license": entry.get("license"),
            "integrity": entry["integrity"],
            "directory": item.directory,
            "licence_files": sorted(own_licences),
            "files": {relative: sha256(out[relative]) for relative in sorted(out)},
            "bundled": bundled,
        })
    manifest: dict[str, object] = {
        "generated_by": "scripts/vendor-frontend.py",
        "lock": "frontend/package-lock.json",
        "libraries": libraries,
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main() -> int:
    try:
        manifest = vendor()
    except VendorError as error:
        sys.stderr.write(f"vendor-frontend: {error}\n")
        return 1
    libraries = manifest["libraries"]
    assert isinstance(libraries, list)
    for library in libraries:
        sys.stdout.write(f"vendor-frontend: {library['name']} {library['version']} "
                         f"({len(library['files'])} files) -> vendor/{library['directory']}/\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
