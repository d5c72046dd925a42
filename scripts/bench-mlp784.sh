#!/usr/bin/env bash
# Issue 3's size goals on the model they are stated for: a 784-128-10 MLP.
# Writes the MLP (scripts/make_mlp784.py: seeded random weights, ONNX, so the
# loader is measured too), builds the release `zkml`, runs
# `zkml bench --model FILE --input-shape 1,784 --json` (one child process, so
# peak RSS is the prover's own) and prints the numbers against the goals:
# compile < 1 s, prover peak RSS < 256 MB.
#
# Uses the venv of scripts/bench-peers.sh (.tools/venv-bench, created here
# from scripts/requirements-bench.txt if missing) for numpy and onnx.
#
# Usage: scripts/bench-mlp784.sh [--reps N] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

reps=5
out="$root/tests/output/bench-mlp784"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-mlp784.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
say() { echo "[bench-mlp784] $*" >&2; }

venv="$root/.tools/venv-bench"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import numpy, onnx' 2>/dev/null; then
  say "creating $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-bench.txt
fi

model="$out/mlp784.onnx"
"$venv/bin/python" scripts/make_mlp784.py --out "$model" >&2

target="${CARGO_TARGET_DIR:-$root/target}"
say "building release zkml (log: $out/zkml-build.log)"
nice -n 10 cargo build --release --locked -p circuits --bin zkml >"$out/zkml-build.log" 2>&1

say "zkml bench, $reps reps"
"$target/release/zkml" bench --model "$model" --input-shape 1,784 --reps "$reps" --json \
  | tee "$out/ours.json"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

"$venv/bin/python" - "$out/ours.json" <<'PY'
import json, sys

r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
mb = 1e6
print()
print("| model | gates | load + compile (s) | prove (s) | prove CPU (s) | verify (s) | prover peak RSS (MB) | proof (KB) |")
print("|---|---|---|---|---|---|---|---|")
print(f"| MLP 784-128-10 | {r['gates']:,} | {r['compile_s']:.3f} | {r['prove_s']:.3f} "
      f"| {r['prove_cpu_s']:.3f} | {r['verify_s']:.4f} | {r['peak_rss_bytes'] / mb:.0f} | {r['proof_bytes'] / 1e3:.1f} |")
print()
ok = lambda c: "met" if c else "MISSED"
print(f"goal compile < 1 s: {ok(r['compile_s'] < 1.0)} ({r['compile_s']:.3f} s, of which ONNX load {r['load_s']:.3f} s)")
print(f"goal prover peak RSS < 256 MB: {ok(r['peak_rss_bytes'] < 256e6)} ({r['peak_rss_bytes'] / mb:.0f} MB)")
PY
