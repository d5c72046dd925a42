#!/usr/bin/env bash
# Runs the local dev chain: chopsticks executes the committed runtime from
# chain-spec/chain-spec.raw.json on 127.0.0.1, and a small loop asks it for a
# new block every --block-time-ms so that epochs (every tempo blocks) happen.
# No Rust build is needed. Ctrl-C / SIGTERM stops everything it started.
#
#   scripts/localnet.sh [--port 9944] [--block-time-ms 250] [--spec PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

CHOPSTICKS_VERSION=1.5.1
port=9944
block_ms=250
spec=$root/chain-spec/chain-spec.raw.json

usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case $1 in
    --port) port=${2:?--port needs a value}; shift 2 ;;
    --block-time-ms) block_ms=${2:?--block-time-ms needs a value}; shift 2 ;;
    --spec) spec=$(realpath "${2:?--spec needs a value}"); shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "localnet: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $port =~ ^[0-9]+$ && $port -ge 1 && $port -le 65535 ]] || { echo "localnet: bad port $port" >&2; exit 2; }
[[ $block_ms =~ ^[0-9]+$ && $block_ms -ge 1 ]] || { echo "localnet: bad block time $block_ms" >&2; exit 2; }
[[ -s $spec ]] || { echo "localnet: chain spec $spec not found (scripts/build-chain-spec.sh builds it)" >&2; exit 1; }

# Pinned chopsticks in a project-local, gitignored directory.
tools=$root/.tools/chopsticks
chopsticks=$tools/node_modules/.bin/chopsticks
installed_version() {
    node -p "require('$tools/node_modules/@acala-network/chopsticks/package.json').version" 2>/dev/null || true
}
if [[ $(installed_version) != "$CHOPSTICKS_VERSION" ]]; then
    mkdir -p "$tools"
    # Parallel tests may all start a chain at once: one installs, the rest wait.
    exec 9>"$root/.tools/chopsticks.lock"
    flock 9
    if [[ $(installed_version) != "$CHOPSTICKS_VERSION" ]]; then
        echo "localnet: installing @acala-network/chopsticks@$CHOPSTICKS_VERSION into .tools/" >&2
        npm install --no-audit --no-fund --loglevel=error --prefix "$tools" \
            "@acala-network/chopsticks@$CHOPSTICKS_VERSION" >&2
    fi
    flock -u 9
    exec 9>&-
fi

work=$(mktemp -d)
pids=()
cleanup() {
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# chopsticks decodes submitted extrinsics with polkadot.js, which must be told
# the wire type of subtensor's ChargeTransactionPaymentWrapper extension.
cat >"$work/config.yml" <<YAML
genesis: $spec
host: 127.0.0.1
port: $port
build-block-mode: Manual
registered-types:
  typesBundle:
    spec:
      subnet-dev:
        signedExtensions:
          ChargeTransactionPaymentWrapper:
            extrinsic:
              tip: Compact<u128>
            payload: {}
YAML

# RPC helper: `wait` polls until system_chain answers; `blocks` asks for a new
# block every interval and stops when the connection closes.
cat >"$work/rpc.js" <<'JS'
const WebSocket = require('ws');
const [mode, url, arg] = process.argv.slice(2);
function call(ws, method, params) {
  return new Promise((resolve, reject) => {
    const id = Math.floor(Math.random() * 1e9);
    const onMsg = (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.id !== id) return;
      ws.off('message', onMsg);
      msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result);
    };
    ws.on('message', onMsg);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  });
}
function connect() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  if (mode === 'wait') {
    const deadline = Date.now() + Number(arg);
    for (;;) {
      try {
        const ws = await connect();
        const chain = await call(ws, 'system_chain', []);
        ws.close();
        console.log(chain);
        process.exit(0);
      } catch (e) {
        if (Date.now() > deadline) { console.error(`no RPC at ${url}: ${e.message}`); process.exit(1); }
        await sleep(200);
      }
    }
  } else if (mode === 'blocks') {
    const ws = await connect();
    ws.on('close', () => process.exit(0));
    for (;;) {
      const started = Date.now();
      try { await call(ws, 'dev_newBlock', [{ count: 1 }]); } catch (e) { console.error(`dev_newBlock: ${e.message}`); }
      await sleep(Math.max(0, Number(arg) - (Date.now() - started)));
    }
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
JS
export NODE_PATH=$tools/node_modules

started=$(date +%s%N)
"$chopsticks" --config "$work/config.yml" >"$work/chopsticks.log" 2>&1 &
pids+=($!)
url=ws://127.0.0.1:$port
# Generous: chopsticks compiles the runtime on start, slow on a loaded machine.
if ! chain=$(node "$work/rpc.js" wait "$url" "${LOCALNET_START_TIMEOUT_MS:-240000}"); then
    echo "localnet: chopsticks did not answer on $url; its log:" >&2
    cat "$work/chopsticks.log" >&2
    exit 1
fi
ready_ms=$(( ($(date +%s%N) - started) / 1000000 ))
node "$work/rpc.js" blocks "$url" "$block_ms" >&2 &
pids+=($!)

echo "localnet: chain \"$chain\" ready in ${ready_ms} ms, blocks every ${block_ms} ms" >&2
echo "localnet: endpoint $url"
# Stay in the foreground until chopsticks exits or we are told to stop.
wait "${pids[0]}"
echo "localnet: chopsticks exited; its log:" >&2
tail -n 50 "$work/chopsticks.log" >&2
exit 1
