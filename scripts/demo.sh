#!/usr/bin/env bash
# The project's main job on an embedded default: a local chain, a subnet with
# a staked validator and two serving miners, and the proving core.
#
# 1. starts the local dev chain (scripts/localnet.sh; chopsticks is installed
#    into .tools/ on first use),
# 2. creates three throw-away wallets (validator, miner1, miner2) in a temp
#    directory, funds them from //Alice, registers their hotkeys on subnet 1,
#    stakes the validator and publishes the miners' axons on 127.0.0.2,
# 3. waits for a Yuma epoch and prints the subnet's metagraph from the chain,
# 4. proves and verifies random layered circuits of 2^16..2^20 gates.
#
# The miner and validator binaries (proving ONNX challenges and setting
# weights) are the next issue; this script will start them here.
#
# Environment: DEMO_PORT (default 9944).
set -euo pipefail
cd "$(dirname "$0")/.."

port="${DEMO_PORT:-9944}"
endpoint="ws://127.0.0.1:${port}"
work="$(mktemp -d)"
chain_pid=""
cleanup() {
    if [[ -n "$chain_pid" ]] && kill -0 "$chain_pid" 2>/dev/null; then
        kill -TERM "$chain_pid" 2>/dev/null || true
        wait "$chain_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "== building"
cargo build --locked -p chain-client --bin subnet-cli
cargo build --release --locked -p circuits --bin gkr-bench
cli=target/debug/subnet-cli

echo "== starting the local chain on ${endpoint}"
scripts/localnet.sh --port "$port" >"$work/chain.log" 2>&1 &
chain_pid=$!
for _ in $(seq 1 600); do
    grep -q "localnet: endpoint" "$work/chain.log" 2>/dev/null && break
    if ! kill -0 "$chain_pid" 2>/dev/null; then
        cat "$work/chain.log" >&2
        echo "demo: the local chain did not start" >&2
        exit 1
    fi
    sleep 1
done
grep -q "localnet: endpoint" "$work/chain.log" || { echo "demo: chain start timed out" >&2; exit 1; }

wallet_args() { echo --wallet.path "$work/wallets" --wallet.name "$1" --wallet.hotkey default; }
chain_args=(--subtensor.chain_endpoint "$endpoint")

echo "== wallets, registration, stake, axons"
for name in validator miner1 miner2; do
    # shellcheck disable=SC2046
    "$cli" wallet create $(wallet_args "$name") --no-password >/dev/null
    coldkey=$(sed -n 's/.*"ss58Address": *"\([^"]*\)".*/\1/p' "$work/wallets/$name/coldkeypub.txt")
    hotkey=$(sed -n 's/.*"ss58Address": *"\([^"]*\)".*/\1/p' "$work/wallets/$name/hotkeys/default")
    # shellcheck disable=SC2046
    "$cli" wallet transfer $(wallet_args "$name") "${chain_args[@]}" \
        --dest "$coldkey" --amount 1000 --dev.uri //Alice
    # Hotkeys sign serve_axon and set_weights. Those are fee-free (as on
    # subtensor), but FRAME refuses transactions from an account that does
    # not exist, so each hotkey gets a little TAO to exist.
    # shellcheck disable=SC2046
    "$cli" wallet transfer $(wallet_args "$name") "${chain_args[@]}" \
        --dest "$hotkey" --amount 10 --dev.uri //Alice
    # shellcheck disable=SC2046
    "$cli" subnet register $(wallet_args "$name") "${chain_args[@]}" --netuid 1
done
# shellcheck disable=SC2046
"$cli" stake add $(wallet_args validator) "${chain_args[@]}" --netuid 1 --amount 500
port_n=8091
for name in miner1 miner2; do
    # shellcheck disable=SC2046
    "$cli" subnet serve-axon $(wallet_args "$name") "${chain_args[@]}" \
        --netuid 1 --ip 127.0.0.2 --port "$port_n"
    port_n=$((port_n + 1))
done

echo "== waiting for a Yuma epoch (tempo 10: every 11 blocks of 250 ms)"
sleep 4
"$cli" subnet metagraph "${chain_args[@]}" --netuid 1

echo "== proving core: random layered circuits"
./target/release/gkr-bench --log-gates 16,18,20 --reps 1
