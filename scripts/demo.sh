#!/usr/bin/env bash
# The README's first command: install what is missing, then run the platform with the simulated Huế fleet.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
exec node --import tsx platform/demo.ts
