//! Models: ONNX loading, the static IR, and the exact quantized evaluator.
//!
//! * [`ir`] — the static graph every later stage works on.
//! * [`tensor`] — quantized tensors as they travel between slices and over
//!   the wire, with their Blake3 digest.
//! * [`error`] — every way a model can be refused.

pub mod error;
pub mod ir;
pub mod tensor;

pub use error::ModelError;
pub use ir::{Graph, Node, Op, TensorId};
pub use tensor::QTensor;
