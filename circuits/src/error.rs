//! Error types. Every failure a caller can trigger with bad input (a malformed
//! circuit, a wrong witness, hostile proof bytes) is a value here, never a
//! panic.

use thiserror::Error;

/// A circuit description that is structurally invalid.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CircuitError {
    #[error("layer {layer}: log size {log_size} is outside 1..={max}")]
    LayerSize {
        layer: usize,
        log_size: u32,
        max: u32,
    },
    #[error("input layer: log size {log_size} is outside 1..={max}")]
    InputSize { log_size: u32, max: u32 },
    #[error("input layer of 2^{log_size} cannot hold {public} public inputs and {hints} hints")]
    InputOverflow {
        log_size: u32,
        public: u32,
        hints: u32,
    },
    #[error("layer {layer}: {kind} gate {gate} refers to index {index} outside 0..{bound}")]
    GateIndex {
        layer: usize,
        kind: &'static str,
        gate: usize,
        index: u32,
        bound: u64,
    },
    #[error("the circuit has no layers")]
    NoLayers,
    #[error("{public} public outputs do not fit an output layer of 2^{log_size}")]
    OutputOverflow { public: u32, log_size: u32 },
    #[error("lookup {lookup}: {reason}")]
    Lookup { lookup: usize, reason: String },
    #[error("builder: {0}")]
    Builder(String),
}

/// Why the prover refused to produce a proof.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProveError {
    #[error("expected {expected} public inputs, got {got}")]
    PublicInputCount { expected: usize, got: usize },
    #[error("expected {expected} hints, got {got}")]
    HintCount { expected: usize, got: usize },
    #[error("witness: {0}")]
    Witness(String),
    #[error("assertion {index} does not hold: the wire evaluates to {value}, not 0")]
    AssertionFailed { index: usize, value: u64 },
    #[error("lookup {lookup}: hint {hint} has value {value}, which is not in the table")]
    LookupValue {
        lookup: usize,
        hint: u32,
        value: u64,
    },
}

/// Why a proof was rejected.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("statement: expected {expected} public inputs, got {got}")]
    PublicInputCount { expected: usize, got: usize },
    #[error("statement: expected {expected} public outputs, got {got}")]
    PublicOutputCount { expected: usize, got: usize },
    #[error("proof shape: {0}")]
    Shape(String),
    #[error("layer {layer}: the sumcheck's final check failed")]
    LayerCheck { layer: usize },
    #[error("the input layer does not match the claimed evaluation")]
    InputCheck,
    #[error("lookup {lookup}: {reason}")]
    Lookup { lookup: usize, reason: String },
}

/// Why proof bytes could not be decoded.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("proof is {len} bytes, above the limit of {limit}")]
    TooLarge { len: usize, limit: usize },
    #[error("unsupported proof version {0}")]
    Version(u8),
    #[error("malformed proof: {0}")]
    Malformed(String),
    #[error("{0} trailing bytes after the proof")]
    TrailingBytes(usize),
}
