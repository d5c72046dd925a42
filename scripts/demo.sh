#!/usr/bin/env bash
# The project's main job on an embedded default: the whole subnet on one
# machine.
#
# 1. builds subnet-cli, the miner and the validator,
# 2. starts the local dev chain (scripts/localnet.sh; chopsticks is installed
#    into .tools/ on first use),
# 3. creates throw-away wallets in a temp directory (a validator and three
#    miners), funds them from //Alice, registers the validator with
#    subnet-cli and the miners with `miner register`, stakes the validator,
#    and sets subnet 1 to a 10-block tempo without commit-reveal,
# 4. starts three miners on 127.0.0.2-4 (honest; honest but 1.5 s slower;
#    and a cheater answering with a proof of another statement, using the
#    miner's test-hooks build), and the validator with its dashboard on
#    http://127.0.0.1:9180,
# 5. waits until the validator has set weights on chain twice, then prints
#    the metagraph (stake, incentive, axons) and the weights from the chain,
#    and the dashboard's miners table.
#
# Usage: scripts/demo.sh [--keep-running]
#   --keep-running  leave everything up (dashboard included) until Ctrl-C.
# Environment: DEMO_PORT (chain, default 9944), DEMO_DASHBOARD_PORT (9180).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# Plain logs: they go to files and are quoted below.
export NO_COLOR=1

keep=0
case "${1:-}" in
--keep-running) keep=1 ;;
"") ;;
-h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "demo: unknown argument $1 (see --help)" >&2; exit 2 ;;
esac

port="${DEMO_PORT:-9944}"
dash_port="${DEMO_DASHBOARD_PORT:-9180}"
endpoint="ws://127.0.0.1:${port}"
work="$(mktemp -d)"
pids=()
cleanup() {
    # Only what this script started, by PID; the chain last.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill -TERM "${pids[i]}" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
    echo "demo: $*" >&2
    exit 1
}

echo "== building (test profile: the proving stack optimized, shared with the test command)"
cargo build --locked --profile test -p chain-client -p miner -p validator \
    --features miner/test-hooks --bins
bin=target/debug
cli=$bin/subnet-cli

echo "== starting the local chain on ${endpoint}"
scripts/localnet.sh --port "$port" >"$work/chain.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
    grep -q "localnet: endpoint" "$work/chain.log" 2>/dev/null && break
    kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/chain.log" >&2; die "the local chain did not start"; }
    sleep 1
done
grep -q "localnet: endpoint" "$work/chain.log" || die "chain start timed out"

wallet_args() { echo --wallet.path "$work/wallets" --wallet.name "$1" --wallet.hotkey default; }
chain_args=(--subtensor.chain_endpoint "$endpoint")
ss58() { sed -n 's/.*"ss58Address": *"\([^"]*\)".*/\1/p' "$1"; }

echo "== subnet 1: tempo 10, no weights rate limit, commit-reveal off (sudo //Alice)"
# shellcheck disable=SC2046
{
    "$cli" sudo set-tempo $(wallet_args sudo) "${chain_args[@]}" --sudo.uri //Alice --netuid 1 --tempo 10
    "$cli" sudo set-weights-rate-limit $(wallet_args sudo) "${chain_args[@]}" --sudo.uri //Alice --netuid 1 --limit 0
    "$cli" sudo set-commit-reveal $(wallet_args sudo) "${chain_args[@]}" --sudo.uri //Alice --netuid 1 --enabled false
}

echo "== wallets, funds, registration, stake"
names=(validator miner-fast miner-slow miner-cheat)
for name in "${names[@]}"; do
    # shellcheck disable=SC2046
    "$cli" wallet create $(wallet_args "$name") --no-password >/dev/null
    coldkey=$(ss58 "$work/wallets/$name/coldkeypub.txt")
    hotkey=$(ss58 "$work/wallets/$name/hotkeys/default")
    # shellcheck disable=SC2046
    "$cli" wallet transfer $(wallet_args "$name") "${chain_args[@]}" \
        --dest "$coldkey" --amount 1000 --dev.uri //Alice
    # Hotkeys sign serve_axon and set_weights. Those are fee-free (as on
    # subtensor), but FRAME refuses transactions from an account that does
    # not exist, so each hotkey gets a little TAO to exist.
    # shellcheck disable=SC2046
    "$cli" wallet transfer $(wallet_args "$name") "${chain_args[@]}" \
        --dest "$hotkey" --amount 10 --dev.uri //Alice
done
# shellcheck disable=SC2046
"$cli" subnet register $(wallet_args validator) "${chain_args[@]}" --netuid 1
# shellcheck disable=SC2046
"$cli" stake add $(wallet_args validator) "${chain_args[@]}" --netuid 1 --amount 500
for name in miner-fast miner-slow miner-cheat; do
    # shellcheck disable=SC2046
    RUST_LOG=warn "$bin/miner" register $(wallet_args "$name") "${chain_args[@]}" --netuid 1
done
validator_hotkey=$(ss58 "$work/wallets/validator/hotkeys/default")

echo "== waiting for the validator's permit (granted at an epoch)"
for _ in $(seq 1 120); do
    "$cli" subnet metagraph "${chain_args[@]}" --netuid 1 2>&1 |
        awk -v hk="$validator_hotkey" '$2 == hk && $4 == "true" { found = 1 } END { exit !found }' && break
    sleep 1
done

echo "== starting three miners (models digits_mlp, digits_cnn)"
start_miner() { # name ip port [extra...]
    local name=$1 ip=$2 axon_port=$3
    shift 3
    # shellcheck disable=SC2046
    RUST_LOG=info "$bin/miner" run $(wallet_args "$name") "${chain_args[@]}" --netuid 1 \
        --axon.ip "$ip" --axon.port "$axon_port" --registry "$root/registry" \
        --models digits_mlp,digits_cnn "$@" >"$work/$name.log" 2>&1 &
    pids+=($!)
    echo "   $name on $ip:$axon_port (log $work/$name.log)"
}
start_miner miner-fast 127.0.0.2 8091
start_miner miner-slow 127.0.0.3 8092 --test.delay_ms 1500
start_miner miner-cheat 127.0.0.4 8093 --test.cheat

cat >"$work/validator.toml" <<EOF
netuid = 1
db = "$work/validator.sqlite"
registry = "$root/registry"
metrics_addr = "127.0.0.1:9108"

[wallet]
name = "validator"
hotkey = "default"
path = "$work/wallets"

[subtensor]
chain_endpoint = "$endpoint"

[metagraph]
sync_interval_blocks = 4

[challenge]
interval_ms = 300
sample_size = 3
concurrency = 3
models = ["digits_mlp", "digits_cnn"]

[weights]
interval_blocks = 20

[dashboard]
addr = "127.0.0.1:$dash_port"
refresh_ms = 1000
EOF

echo "== starting the validator (dashboard http://127.0.0.1:$dash_port, metrics http://127.0.0.1:9108/metrics)"
# The validator waits for the miners' axons: they appear at its next sync.
sleep 3
RUST_LOG=info "$bin/validator" --config "$work/validator.toml" >"$work/validator.log" 2>&1 &
vpid=$!
pids+=($vpid)

echo "== waiting until the validator has set weights twice"
for _ in $(seq 1 300); do
    kill -0 "$vpid" 2>/dev/null || { tail -40 "$work/validator.log" >&2; die "the validator exited"; }
    [[ $(grep -c "weights on chain" "$work/validator.log" || true) -ge 2 ]] && break
    sleep 1
done
[[ $(grep -c "weights on chain" "$work/validator.log" || true) -ge 2 ]] ||
    { tail -40 "$work/validator.log" >&2; die "no weights after 5 minutes"; }
grep "weights on chain" "$work/validator.log" | sed 's/\x1b\[[0-9;]*m//g; s/^.*INFO /   /'

echo "== one epoch later: the metagraph and weights, read from the chain"
# Incentive follows the weights at the first epoch (every tempo + 1 = 11
# blocks) after the block they landed in.
last_weights=$(sed -n 's/.*weights on chain.*block=\([0-9]*\).*/\1/p' "$work/validator.log" | tail -1)
for _ in $(seq 1 60); do
    "$cli" subnet metagraph "${chain_args[@]}" --netuid 1 >"$work/metagraph.txt"
    block=$(sed -n 's/^subnet 1 at block \([0-9]*\):.*/\1/p' "$work/metagraph.txt")
    [[ -n $block && $block -gt $((last_weights + 11)) ]] && break
    sleep 1
done
cat "$work/metagraph.txt"
for name in "${names[@]}"; do
    echo "   $name = $(ss58 "$work/wallets/$name/hotkeys/default")"
done

if command -v curl >/dev/null; then
    echo "== the dashboard's miners table (GET /api/miners)"
    curl -fsS "http://127.0.0.1:$dash_port/api/miners" |
        python3 -c '
import json, sys
rows = sorted(json.load(sys.stdin), key=lambda r: -r["score"])
print("   uid  score  validity  median ms  weight  hotkey")
for r in rows:
    w = "-" if r["weight"] is None else "%.3f" % r["weight"]
    ms = "-" if r["median_latency_ms"] is None else "%.0f" % r["median_latency_ms"]
    print("   %-4d %.3f  %7.0f%%  %9s  %6s  %s" % (r["uid"], r["score"], 100 * r["validity_rate"], ms, w, r["hotkey"]))
' || echo "   (dashboard not reachable)"
fi

if [[ $keep == 1 ]]; then
    echo "== running; dashboard at http://127.0.0.1:$dash_port — Ctrl-C stops everything"
    wait "$vpid"
fi
