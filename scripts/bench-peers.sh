#!/usr/bin/env bash
# Peer benchmark (issue 3): our prover (`zkml bench`) and EZKL on the same
# registry models, on the same machine, in the same run. Prints a markdown
# table: compile/setup, prove, verify, peak RSS, proof size, and
# ours-vs-EZKL ratios (docs/BENCHMARKS.md).
#
# Installs what it needs: python3-venv (apt) if missing, and a venv with the
# pinned EZKL in .tools/venv-bench. EZKL's SRS is generated locally with
# ezkl.gen_srs (insecure, fine for timing) and cached in .tools/bench-srs.
#
# Usage: scripts/bench-peers.sh [--models a,b] [--reps N] [--out DIR]
#          [--step-timeout-min M] [--mem-limit-gib G] [--max-logrows K]
#          [--skip-ours] [--skip-ezkl]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

models="digits_mlp,digits_cnn,resnet_blocks,ppocr_cls_mobile_v2"
reps=3
out="$root/tests/output/bench-peers"
timeout_min=20
mem_gib=20
max_logrows=24
skip_ours=0
skip_ezkl=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --models) models="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --step-timeout-min) timeout_min="$2"; shift 2 ;;
    --mem-limit-gib) mem_gib="$2"; shift 2 ;;
    --max-logrows) max_logrows="$2"; shift 2 ;;
    --skip-ours) skip_ours=1; shift ;;
    --skip-ezkl) skip_ezkl=1; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-peers.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
say() { echo "[bench-peers] $*" >&2; }

# --- Python environment for EZKL -------------------------------------------
venv="$root/.tools/venv-bench"
req="$root/scripts/requirements-bench.txt"
# Also used for the table, so it is set up even with --skip-ezkl.
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  say "installing python3-venv"
  apt-get install -y python3-venv >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y python3-venv >/dev/null; }
fi
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  say "creating $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi

# --- Our prover ---------------------------------------------------------------
# `zkml bench --registry DIR --model NAME --reps N --json` prints one JSON object:
# compile_s, prove_s, prove_cpu_s, verify_s, peak_rss_bytes, proof_bytes.
ours_json="$out/ours.json"
rm -f "$ours_json"
if [[ $skip_ours -eq 0 ]]; then
  target="${CARGO_TARGET_DIR:-$root/target}"
  if nice -n 10 cargo build --release --locked -p circuits --bin zkml >"$out/zkml-build.log" 2>&1 \
     && "$target/release/zkml" bench --help >/dev/null 2>&1; then
    echo "[" > "$ours_json"
    first=1
    IFS=, read -ra names <<< "$models"
    for m in "${names[@]}"; do
      say "ours: $m"
      if line=$("$target/release/zkml" bench --registry registry --model "$m" --reps "$reps" --json 2>"$out/ours-$m.log"); then
        [[ $first -eq 1 ]] || echo "," >> "$ours_json"
        # Tag each record with its model so the table can join on it.
        "$venv/bin/python" -c 'import json,sys; d=json.loads(sys.argv[1]); d.setdefault("model", sys.argv[2]); print(json.dumps(d))' \
          "$line" "$m" >> "$ours_json"
        first=0
      else
        say "ours: $m failed (see $out/ours-$m.log)"
      fi
    done
    echo "]" >> "$ours_json"
  else
    say "ours: no 'zkml bench' available (see $out/zkml-build.log); EZKL only"
    rm -f "$ours_json"
  fi
fi

# --- EZKL ---------------------------------------------------------------------
ezkl_json="$out/ezkl.json"
if [[ $skip_ezkl -eq 0 ]]; then
  "$venv/bin/python" scripts/bench_ezkl.py run --registry registry --models "$models" \
    --work "$out/ezkl" --srs-cache "$root/.tools/bench-srs" --out "$ezkl_json" \
    --step-timeout-min "$timeout_min" --mem-limit-gib "$mem_gib" --max-logrows "$max_logrows"
fi

# --- Table --------------------------------------------------------------------
if [[ ! -f "$ezkl_json" ]]; then
  say "no EZKL results at $ezkl_json"; exit 1
fi
table_args=(--ezkl "$ezkl_json")
[[ -f "$ours_json" ]] && table_args+=(--ours "$ours_json")
"$venv/bin/python" scripts/bench_ezkl.py table "${table_args[@]}" | tee "$out/table.md"
