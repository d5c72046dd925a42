#!/usr/bin/env bash
# The project's one test command (README, .ci/run). Each section checks one
# part of the tree; keep it runnable on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format"
cargo fmt --all -- --check

echo "== lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== main workspace tests"
cargo test --workspace --locked

# Sections below belong to the local chain (chain-spec/ has its own workspace).

echo "== chain-spec freshness"
scripts/check-chain-spec.sh

echo "== chain-spec pallet tests"
# Native only: SKIP_WASM_BUILD keeps CI off the wasm toolchain.
(cd chain-spec && SKIP_WASM_BUILD=1 cargo test --locked -p pallet-subtensor -p pallet-admin-utils)

echo "== local chain harness"
# Starts chopsticks (installed into .tools/ on first use) from the committed spec.
cargo test --locked -p localnet
