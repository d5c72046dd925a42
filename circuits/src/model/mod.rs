//! Models: ONNX loading, the static IR, and the exact quantized evaluator.
//!
//! * [`ir`] — the static graph every later stage works on.
//! * [`tensor`] — quantized tensors as they travel between slices and over
//!   the wire, with their Blake3 digest.
//! * [`error`] — every way a model can be refused.
//! * [`onnx`] — ONNX bytes → IR (folding, shapes, lowering), slice export.
//! * [`float`] — f32 evaluation of the IR.
//! * [`reference`] — tract as an independent float oracle.
//! * [`slice`] — clean cut points, splitting and slice planning.

pub mod error;
pub mod float;
pub mod geometry;
pub mod ir;
pub mod onnx;
pub mod quant;
pub mod reference;
pub mod slice;
pub mod tensor;

pub use error::ModelError;
pub use ir::{Graph, Node, Op, TensorId};
pub use tensor::QTensor;
