# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/demo.sh: make sure ./.venv exists and holds Vistter.
# Usage: ensure_venv '.[test]'   (run from the repository root)

# Pick the Python 3.11+ interpreter on PATH: python3.11 first, else python3 when it is >= 3.11.
find_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "ERROR: no Python >= 3.11 on PATH (looked for python3.11, python3)." >&2
    echo "Install it (Debian 12: apt-get install python3 python3-venv) and run again." >&2
    return 1
}

# ensure_venv SPEC: create .venv if missing, then `pip install -e SPEC` quietly.
ensure_venv() {
    local spec="$1" python
    if [[ ! -x .venv/bin/python ]]; then
        python="$(find_python)"
        echo "creating .venv with $python ($("$python" --version 2>&1))"
        if ! "$python" -m venv .venv; then
            echo "ERROR: '$python -m venv' failed. On Debian install python3-venv" \
                "(scripts/install-system-deps.sh does)." >&2
            return 1
        fi
    fi
    echo "pip install -e '$spec' into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
}
