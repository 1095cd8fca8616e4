#!/usr/bin/env bash
# Mutation fuzzing of pdq's parsers (tests/tests/fuzz.rs) with a long budget:
# ITERATIONS mutants per seed and target (default 5000; the test suite runs
# 40). Prints the time taken; a mutant that panics is kept under
# $CARGO_TARGET_DIR/tmp/fuzz-crashes/ and named in the failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pdq/target}"
export PDQ_FUZZ_ITERATIONS="${ITERATIONS:-5000}"
start=$(date +%s)
cargo test --workspace --locked --test fuzz -- --nocapture
echo "fuzz: ${PDQ_FUZZ_ITERATIONS} mutants per seed and target, $(( $(date +%s) - start )) s"
