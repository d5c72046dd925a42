//! Why a model, a tensor or a slice was refused. Models are untrusted input:
//! every problem in an ONNX file becomes one of these, naming the node.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ModelError {
    /// The bytes are not an ONNX model we can parse.
    #[error("not a readable ONNX model: {0}")]
    Parse(String),
    /// An op the compiler does not support.
    #[error("node '{node}': unsupported op {op}")]
    Unsupported { node: String, op: String },
    /// A node whose attributes, inputs or shapes make no sense.
    #[error("node '{node}': {reason}")]
    Invalid { node: String, reason: String },
    /// A tensor has the wrong shape or length.
    #[error("tensor '{tensor}': expected shape {expected:?}, got {got:?}")]
    Shape {
        tensor: String,
        expected: Vec<usize>,
        got: Vec<usize>,
    },
    /// A quantized value left the range the circuit can represent.
    #[error("node '{node}': value {value} is outside the representable range (|v| < 2^{bits})")]
    Overflow {
        node: String,
        value: i128,
        bits: u32,
    },
    /// The reference engine (tract) failed or panicked.
    #[error("reference inference failed: {0}")]
    Reference(String),
    /// The witness could not be computed or the prover refused it.
    #[error("proving failed: {0}")]
    Prove(String),
    /// Anything else about a model that is refused.
    #[error("{0}")]
    Other(String),
}
