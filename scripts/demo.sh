#!/usr/bin/env bash
# The project's main job on an embedded default.
#
# Today the proving core is what runs end to end: this builds the workspace
# and proves + verifies random layered circuits of 2^16..2^20 gates, printing
# timings, proof sizes and peak memory. When the miner/validator issue lands,
# this script starts the local chain, registers miners and a validator and
# prints the weights they earn.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p circuits --bin gkr-bench
./target/release/gkr-bench --log-gates 16,18,20 --reps 1
