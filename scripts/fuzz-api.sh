#!/usr/bin/env bash
# A long schemathesis run against the demo appliance (temporary data folder, API on a free
# port of 127.0.0.1), then the checks that it came through: the show live, the program
# advancing, no actor restarted, the stored library unchanged. Prints the request count,
# the statuses and every failure. The suite runs the same for 45 s (tests/api/test_fuzz_api.py).
#   scripts/fuzz-api.sh                 # 600 s of fuzzing
#   scripts/fuzz-api.sh --max-time 1800 --seed 42
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/_venv.sh
source scripts/_venv.sh
ensure_venv '.[test]'
exec .venv/bin/python -m bench.api_fuzz "$@"
