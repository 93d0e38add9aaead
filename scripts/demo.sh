#!/usr/bin/env bash
# Fresh machine -> a trained toy GAN and an image GAN, with sample pictures under runs/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
"${PYTHON:-python3}" -m ganforge demo "$@"
