#!/usr/bin/env bash
# The whole test suite, as the README gives it and CI runs it.
#
# Installs and starts what the tests need when it is missing, and stops what
# it started. Besides the Rust toolchain, the connector tests use real
# servers, which ops/services.sh installs if needed and starts on loopback in
# throw-away data directories (a server already answering on its port is
# reused and left running): PostgreSQL on 127.0.0.1:55432, MariaDB on
# 127.0.0.1:53306 and an S3-compatible server (moto) on 127.0.0.1:59000. Their
# addresses reach the tests as PDQ_TEST_PG_URL, PDQ_TEST_MYSQL_URL,
# PDQ_TEST_S3_ENDPOINT and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
# AWS_REGION; they are stopped again when this script exits, however it exits.
# PDQ_TEST_SERVICES=off (and only that) skips them; nothing is started then.
# Chromium and chromium-driver (Debian) are installed for the browser test.
set -euo pipefail
cd "$(dirname "$0")/.."

# A target directory outside the checkout survives between CI runs (a clean
# clone would otherwise rebuild DataFusion every time); override with
# CARGO_TARGET_DIR.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pdq/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if [ "${PDQ_TEST_SERVICES:-}" != off ]; then
  echo "== services (PDQ_TEST_SERVICES=off skips them)"
  # Set before start, so that a start failing half-way still stops what it
  # had started.
  trap 'ops/services.sh stop' EXIT
  ops/services.sh start
  # shellcheck source=/dev/null
  source "${PDQ_SERVICES_DIR:-/tmp/pdq-services}/env"
  # Headless Chromium and its WebDriver for the browser test (Debian packages).
  if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
    echo "installing chromium and chromium-driver"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }
  fi
fi

echo "== formatting"
cargo fmt --all -- --check

echo "== module cycles (docs/ARCHITECTURE.md: no source file imports back)"
for crate in pipeline jobs connectors quality-rules; do
  python3 ops/tools/module_cycles.py "$crate/src"
done

echo "== lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== build (one package selection for every step: the whole workspace)"
cargo build --workspace --all-targets --locked

echo "== unit, integration and CLI tests"
cargo test --workspace --all-targets --locked

echo "== documentation examples"
cargo test --workspace --doc --locked
