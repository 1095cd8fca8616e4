#!/usr/bin/env bash
# Fault injection with the long budget (issue #18): kill -9 at many points
# across a whole sweep of the demo bureau, each followed by a re-run whose
# lake and published outputs must equal an uninterrupted sweep's.
#
#   ops/faults.sh            # 100 points
#   ops/faults.sh 300 1234   # 300 points, jitter seed 1234 (to replay a failure)
#
# CI runs the same test with 6 points (jobs/tests/sweep_kill.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
export PDQ_KILL_POINTS="${1:-100}"
if [ -n "${2:-}" ]; then export PDQ_KILL_SEED="$2"; fi
exec cargo test --workspace --locked --test sweep_kill -- --nocapture
