//! ONNX front end: untrusted `.onnx` bytes → the static [`Graph`] IR, and
//! standalone sub-models for slices.
//!
//! Why here and not in tract: the IR must be exactly what the circuit
//! proves, so lowering is ours (op_type + attributes + initializers); tract
//! is used only for its protobuf types and, in [`crate::model::reference`],
//! as an independent float oracle.

mod attrs;
pub(crate) mod consts;
mod extract;
mod lower;
mod passes;

use std::panic::{catch_unwind, AssertUnwindSafe};

use prost::Message;
use tract_onnx::pb::ModelProto;

use crate::model::{Graph, ModelError};

pub use consts::MAX_ELEMENTS;
pub use extract::extract_slice;

/// Largest `.onnx` file accepted.
pub const MAX_MODEL_BYTES: usize = 256 << 20;

/// Decode the protobuf, refusing oversized input.
pub(crate) fn decode(bytes: &[u8]) -> Result<ModelProto, ModelError> {
    if bytes.len() > MAX_MODEL_BYTES {
        return Err(ModelError::Parse(format!(
            "{} bytes is above the {} byte limit",
            bytes.len(),
            MAX_MODEL_BYTES
        )));
    }
    ModelProto::decode(bytes).map_err(|e| ModelError::Parse(e.to_string()))
}

/// Run `f`, turning a panic into an error: the loader is meant not to panic
/// on any input, this is the second line of defence.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, ModelError>) -> Result<T, ModelError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        Err(ModelError::Parse(format!("loader panicked: {msg}")))
    })
}

/// Load an ONNX model for a fixed input shape: fold constants, infer every
/// shape, lower to the IR and drop dead nodes.
pub fn load(bytes: &[u8], input_shape: &[usize]) -> Result<Graph, ModelError> {
    guarded(|| {
        let model = decode(bytes)?;
        lower::lower(&model, input_shape)
    })
}
