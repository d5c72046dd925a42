//! Proof of inference for whole models: compile once, prove slice by slice,
//! verify a chain of slice proofs.
//!
//! This is the API the miner and validator use. A model from the registry is
//! compiled into one [`CompiledSlice`] per slice of its slice plan. Each slice
//! proof carries the slice's output tensor; its transcript context binds the
//! model id, the slice index, the digests of the input and output tensors and
//! the challenge nonce, so a proof cannot be replayed for another slice,
//! model, input or challenge. [`CompiledModel::verify`] checks that slice
//! `k`'s output is slice `k + 1`'s input and that the first input is the
//! challenge's own tensor.

mod proof;

pub use proof::{SliceProof, MAX_SLICE_PROOF_BYTES};

use crate::model::{ModelError, QTensor};
use crate::registry::ModelId;
use crate::Circuit;

/// Why a slice or model proof was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ZkmlVerifyError {
    #[error("expected {expected} slice proofs, got {got}")]
    SliceCount { expected: usize, got: usize },
    #[error("slice proof {position} claims slice {claimed}")]
    SliceIndex { position: usize, claimed: u32 },
    #[error("slice {slice}: output tensor has shape {got:?}, expected {expected:?}")]
    OutputShape {
        slice: usize,
        expected: Vec<usize>,
        got: Vec<usize>,
    },
    #[error("slice {slice}: input tensor does not match (shape, scale or digest)")]
    InputMismatch { slice: usize },
    #[error("slice {slice}: {source}")]
    Proof {
        slice: usize,
        #[source]
        source: crate::VerifyError,
    },
}

/// One compiled slice: its circuit and how to fill the circuit's hints.
pub struct CompiledSlice {
    pub(crate) index: usize,
    pub(crate) circuit: Circuit,
    pub(crate) input_shape: Vec<usize>,
    pub(crate) output_shape: Vec<usize>,
}

impl CompiledSlice {
    pub fn index(&self) -> usize {
        self.index
    }
    pub fn circuit(&self) -> &Circuit {
        &self.circuit
    }
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }
    pub fn output_shape(&self) -> &[usize] {
        &self.output_shape
    }
    /// Gates over all layers.
    pub fn num_gates(&self) -> usize {
        self.circuit.num_gates()
    }
    /// A lower bound on the prover's peak memory for this slice, in bytes:
    /// the circuit, the values of its widest layer and the sumcheck tables
    /// cannot take less. A miner reporting less is not believed.
    pub fn min_prover_memory_bytes(&self) -> u64 {
        todo!("compiler lands with issue 3")
    }
}

/// A registry model compiled into slices.
pub struct CompiledModel {
    pub(crate) id: ModelId,
    pub(crate) name: String,
    pub(crate) scale_bits: u8,
    pub(crate) slices: Vec<CompiledSlice>,
}

impl CompiledModel {
    pub fn id(&self) -> ModelId {
        self.id
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn scale_bits(&self) -> u8 {
        self.scale_bits
    }
    pub fn slices(&self) -> &[CompiledSlice] {
        &self.slices
    }
    pub fn input_shape(&self) -> &[usize] {
        self.slices[0].input_shape()
    }
    pub fn output_shape(&self) -> &[usize] {
        self.slices
            .last()
            .expect("at least one slice")
            .output_shape()
    }

    /// Loads the entry's ONNX file from the hash-verified registry and
    /// compiles every slice of its slice plan.
    pub fn from_registry(
        registry: &crate::registry::Registry,
        entry: &crate::registry::ModelEntry,
    ) -> Result<Self, ModelError> {
        let _ = (registry, entry);
        todo!("compiler lands with issue 3")
    }

    /// A fresh challenge input drawn from `seed`: uniform reals in [-1, 1]
    /// quantized at the model's scale, in the model's input shape.
    pub fn random_input(&self, seed: [u8; 32]) -> QTensor {
        let _ = seed;
        todo!("compiler lands with issue 3")
    }

    /// Proves slice `k` on `input` (the model input for `k = 0`, slice
    /// `k - 1`'s output otherwise).
    pub fn prove_slice(
        &self,
        k: usize,
        input: &QTensor,
        nonce: &[u8],
    ) -> Result<SliceProof, ModelError> {
        let _ = (k, input, nonce);
        todo!("compiler lands with issue 3")
    }

    /// Proves every slice in order.
    pub fn prove(&self, input: &QTensor, nonce: &[u8]) -> Result<Vec<SliceProof>, ModelError> {
        let mut proofs = Vec::with_capacity(self.slices.len());
        let mut cur = input.clone();
        for k in 0..self.slices.len() {
            let p = self.prove_slice(k, &cur, nonce)?;
            cur = p.output.clone();
            proofs.push(p);
        }
        Ok(proofs)
    }

    /// Verifies one slice proof against an input the verifier trusts.
    pub fn verify_slice(
        &self,
        k: usize,
        input: &QTensor,
        proof: &SliceProof,
        nonce: &[u8],
    ) -> Result<(), ZkmlVerifyError> {
        let _ = (k, input, proof, nonce);
        todo!("compiler lands with issue 3")
    }

    /// Verifies a whole chain of slice proofs for the challenge `input` and
    /// returns the model output.
    pub fn verify(
        &self,
        input: &QTensor,
        proofs: &[SliceProof],
        nonce: &[u8],
    ) -> Result<QTensor, ZkmlVerifyError> {
        let _ = (input, proofs, nonce);
        todo!("compiler lands with issue 3")
    }
}

// The transcript context of one slice proof.
pub(crate) fn slice_context(
    model: &ModelId,
    slice: usize,
    input: &QTensor,
    output: &QTensor,
    nonce: &[u8],
) -> Vec<u8> {
    let mut h = blake3::Hasher::new();
    h.update(b"zkml-slice-context/v1");
    h.update(&model.0);
    h.update(&(slice as u64).to_le_bytes());
    h.update(&input.digest());
    h.update(&output.digest());
    h.update(&(nonce.len() as u64).to_le_bytes());
    h.update(nonce);
    h.finalize().as_bytes().to_vec()
}

#[allow(dead_code)]
fn _model_error_is_used(_: ModelError) {}
