#!/usr/bin/env bash
# Prints one sha256 over every file the committed raw spec is built from
# (manifests, lock file, runtime/pallet/spec-tool sources, their paths
# included), so CI can tell cheaply whether chain-spec.raw.json is stale.
set -euo pipefail
cd "$(dirname "$0")"
find Cargo.toml Cargo.lock runtime pallets spec-builder -type f \
    \( -name '*.rs' -o -name 'Cargo.toml' -o -name 'Cargo.lock' \) \
    -not -path '*/target/*' -print0 |
    LC_ALL=C sort -z |
    xargs -0 sha256sum |
    sha256sum |
    cut -d' ' -f1
