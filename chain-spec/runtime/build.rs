//! Compiles the runtime to wasm (via substrate-wasm-builder) when the `std`
//! feature is on; `SKIP_WASM_BUILD=1` skips it for native-only builds.

fn main() {
    #[cfg(feature = "std")]
    substrate_wasm_builder::WasmBuilder::build_using_defaults();
}
