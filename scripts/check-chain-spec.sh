#!/usr/bin/env bash
# Cheap CI check: the committed raw chain spec must have been built from the
# current chain-spec/ sources. It compares a hash of those sources with the
# one recorded in chain-spec/SOURCE_HASH when the spec was last rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."

spec=chain-spec/chain-spec.raw.json
recorded_file=chain-spec/SOURCE_HASH

fail() {
    echo "check-chain-spec: $*" >&2
    echo "check-chain-spec: rebuild with scripts/build-chain-spec.sh and commit chain-spec/chain-spec.raw.json and chain-spec/SOURCE_HASH" >&2
    exit 1
}

[[ -s $spec ]] || fail "$spec is missing or empty"
[[ -s $recorded_file ]] || fail "$recorded_file is missing"
# 0x3a636f6465 is the storage key ":code": a spec without it cannot start a chain.
grep -q '"0x3a636f6465"' "$spec" || fail "$spec has no :code (runtime wasm) entry"

recorded=$(tr -d '[:space:]' <"$recorded_file")
current=$(chain-spec/source-hash.sh)
if [[ $recorded != "$current" ]]; then
    fail "runtime sources changed since the spec was built (recorded $recorded, current $current)"
fi
echo "check-chain-spec: $spec matches sources ($current)"
