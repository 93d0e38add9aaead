#!/usr/bin/env bash
# Fresh machine -> the test suite (fast by default; pass -m slow for the long checks).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
"${PYTHON:-python3}" -m pytest -q "$@"
