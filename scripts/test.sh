#!/usr/bin/env bash
# One command to install everything the tests need and run the whole suite:
#   scripts/test.sh              # system packages, .venv, ruff, mypy, pytest
#   scripts/test.sh -k nginx -x  # extra arguments go to pytest
# Exits non-zero if any stage fails. Runs non-interactively (CI runs it with no stdin).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/_venv.sh
source scripts/_venv.sh

started=$SECONDS
stage() {
    printf '\n==== %s  [+%d s] ====\n' "$*" "$((SECONDS - started))"
}

stage "system packages (scripts/install-system-deps.sh)"
scripts/install-system-deps.sh

stage "python environment (.venv)"
ensure_venv '.[test]'

failed=()

stage "ruff check vistter tests chaos bench"
if ! .venv/bin/ruff check vistter tests chaos bench; then
    failed+=(ruff)
fi

stage "mypy (strict, config in pyproject.toml): vistter, tests, chaos, bench"
if ! .venv/bin/mypy vistter tests chaos; then
    failed+=(mypy)
fi
# bench/ is checked on its own (it is a script folder, not a package of vistter).
if ! .venv/bin/mypy --strict bench/; then
    failed+=(mypy-bench)
fi

stage "pytest $*"
pytest_status=0
.venv/bin/pytest "$@" || pytest_status=$?
if [[ $pytest_status -eq 5 ]]; then
    echo "pytest collected no tests: that is a failure here (wrong path or -k filter?)" >&2
    failed+=(pytest)
elif [[ $pytest_status -ne 0 ]]; then
    failed+=(pytest)
fi

stage "summary"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all stages passed"
