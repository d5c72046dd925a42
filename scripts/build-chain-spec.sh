#!/usr/bin/env bash
# Rebuilds chain-spec/chain-spec.raw.json and chain-spec/SOURCE_HASH.
#
# The runtime must be compiled to wasm, and rustup here has no wasm target, so
# (see shared design notes, chain.md) this uses Debian's rustc-web toolchain
# for the inner wasm build: it installs it, links it into rustup as
# `debian-web`, builds core/alloc for wasm32v1-none once into its sysroot,
# then builds the spec tool with substrate-wasm-builder on that toolchain.
# Takes ~20+ CPU-minutes from scratch. Needs root for apt and /usr/lib/rustlib.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
toolchain=debian-web
sysroot=/usr/lib/rustlib/wasm32v1-none/lib

if ! command -v rustc-web >/dev/null 2>&1 && ! dpkg -s rustc-web >/dev/null 2>&1; then
    echo "== installing Debian's rustc-web toolchain"
    apt-get update -qq
    apt-get install -y -qq rustc-web cargo-web rust-web-src lld-22
fi

if ! rustup toolchain list | grep -q "^$toolchain"; then
    rustup toolchain link "$toolchain" /usr
fi

# The prebuilt sysroot must match the compiler exactly (else E0514).
stamp="$sysroot/.rustc-version"
want=$(rustc +"$toolchain" -vV)
if [[ ! -f $stamp ]] || [[ $(cat "$stamp") != "$want" ]]; then
    echo "== building core/alloc for wasm32v1-none"
    seed=$(mktemp -d)
    trap 'rm -rf "$seed"' EXIT
    mkdir -p "$seed/src"
    printf '[package]\nname = "sysroot-seed"\nversion = "0.0.0"\nedition = "2021"\n[profile.release]\npanic = "abort"\n' >"$seed/Cargo.toml"
    echo '#![no_std]' >"$seed/src/lib.rs"
    (cd "$seed" && RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Cembed-bitcode=yes" \
        nice -n 19 cargo +"$toolchain" build --release --target wasm32v1-none -Zbuild-std=core,alloc)
    mkdir -p "$sysroot"
    rm -f "$sysroot"/lib{core,alloc,compiler_builtins}-*.rlib
    cp "$seed"/target/wasm32v1-none/release/deps/lib{core,alloc,compiler_builtins}-*.rlib "$sysroot/"
    echo "$want" >"$stamp"
fi

echo "== building the runtime (native + wasm) and the spec tool"
cd "$root/chain-spec"
# WASM_BUILD_TYPE=release makes substrate-wasm-builder compact and compress the
# blob even though the outer (native) build is a fast debug build.
WASM_BUILD_TYPE=release WASM_BUILD_TOOLCHAIN=$toolchain nice -n 19 cargo build --locked -p spec-builder
target/debug/spec-builder --out chain-spec.raw.json
./source-hash.sh >SOURCE_HASH
echo "== wrote chain-spec/chain-spec.raw.json ($(wc -c <chain-spec.raw.json) bytes), SOURCE_HASH $(cat SOURCE_HASH)"
