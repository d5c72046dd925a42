#!/usr/bin/env bash
# Proving-core benchmark: random layered circuits of 2^16..2^22 gates (half
# mul, half add), local and random wiring. Prints a markdown table of prove
# time, verify time, proof size and prover peak RSS (docs/BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p circuits --bin gkr-bench
exec ./target/release/gkr-bench "$@"
