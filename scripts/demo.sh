#!/usr/bin/env bash
# Install (first run only) and start the Vistter appliance demo in the foreground:
#   scripts/demo.sh            # uses config/demo.toml
#   scripts/demo.sh --help     # extra arguments go to `vistter run`
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/_venv.sh
source scripts/_venv.sh

if [[ ! -x .venv/bin/vistter ]]; then
    ensure_venv '.'
fi
if [[ ! -f config/demo.toml ]]; then
    echo "ERROR: config/demo.toml is missing; restore it from git (git checkout -- config)." >&2
    exit 1
fi
exec .venv/bin/vistter run --config config/demo.toml "$@"
