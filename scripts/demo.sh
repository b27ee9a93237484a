#!/usr/bin/env bash
# The README's first command: install what is missing, then run the platform with the simulated Huế fleet.
set -euo pipefail
cd "$(dirname "$0")/.."
# With arguments (--help, or a mistake) the demo only answers them: nothing to install for that.
if [ "$#" -eq 0 ]; then bash scripts/install-deps.sh; fi
# A larger young generation: the per-reading path allocates fast, and scavenges were a third of the CPU
# at 30,000 readings/s with the default (BENCHMARKS.md).
exec node --max-semi-space-size=64 --import tsx platform/demo.ts "$@"
