//! Float reference inference with tract, independent of our loader.
//!
//! Why: the loader's lowering (BatchNorm folding, HardSwish fusion, shape
//! folding) must not change what the model computes. tract reads the same
//! bytes with its own ONNX importer; we run its *unoptimized* typed model so
//! that its own fusions do not mask a disagreement. tract is third-party
//! code on untrusted input, so a panic inside it becomes an error.

use std::panic::{catch_unwind, AssertUnwindSafe};

use tract_onnx::prelude::*;

use crate::model::ModelError;

fn reference_err(e: impl std::fmt::Display) -> ModelError {
    ModelError::Reference(format!("{e:#}"))
}

/// Run the ONNX model in `bytes` on `input` (shape `input_shape`, row-major)
/// and return its first output, flattened.
pub fn run(bytes: &[u8], input_shape: &[usize], input: &[f32]) -> Result<Vec<f32>, ModelError> {
    if bytes.len() > crate::model::onnx::MAX_MODEL_BYTES {
        return Err(ModelError::Reference("model too large".into()));
    }
    let want: usize = input_shape.iter().product();
    if want != input.len() {
        return Err(ModelError::Shape {
            tensor: "input".into(),
            expected: input_shape.to_vec(),
            got: vec![input.len()],
        });
    }
    let result = catch_unwind(AssertUnwindSafe(|| -> TractResult<Vec<f32>> {
        let model = tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])?
            .with_input_fact(0, f32::fact(input_shape).into())?
            .into_typed()?
            .into_runnable()?;
        let x = Tensor::from_shape(input_shape, input)?;
        let out = model.run(tvec!(x.into()))?;
        let y = out
            .first()
            .ok_or_else(|| anyhow::anyhow!("model produced no output"))?;
        Ok(y.cast_to::<f32>()?
            .to_plain_array_view::<f32>()?
            .iter()
            .copied()
            .collect())
    }));
    match result {
        Ok(r) => r.map_err(reference_err),
        Err(_) => Err(ModelError::Reference("tract panicked".into())),
    }
}
