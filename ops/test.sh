#!/usr/bin/env bash
# The whole test suite, as the README gives it and CI runs it.
#
# Installs and starts what the tests need when it is missing, and stops what
# it started. Today the tests need only the Rust toolchain; services for the
# connector tests (PostgreSQL, MariaDB, an S3-compatible server, Chromium)
# are added here as those tests land.
set -euo pipefail
cd "$(dirname "$0")/.."

# A target directory outside the checkout survives between CI runs (a clean
# clone would otherwise rebuild DataFusion every time); override with
# CARGO_TARGET_DIR.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pdq/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== formatting"
cargo fmt --all -- --check

echo "== lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== build (one package selection for every step: the whole workspace)"
cargo build --workspace --all-targets --locked

echo "== unit, integration and CLI tests"
cargo test --workspace --all-targets --locked

echo "== documentation examples"
cargo test --workspace --doc --locked
