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

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

use crate::circuit::builder::Solver;
use crate::compile;
use crate::field::f_to_i64;
use crate::gkr::{self, Statement};
use crate::model::quant::ACT_BITS;
use crate::model::{onnx, slice, Graph, ModelError, Op, QTensor};
use crate::registry::{ModelEntry, ModelId, Registry};
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
    #[error("slice {slice}: {reason}")]
    Malformed { slice: usize, reason: String },
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
    pub(crate) solver: Solver,
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
    /// the gate lists (16 bytes a gate) and the values of every layer (8
    /// bytes a wire) must all be resident while the proof is built. A miner
    /// reporting less is not believed.
    pub fn min_prover_memory_bytes(&self) -> u64 {
        let gates = self.circuit.num_gates() as u64 * 16;
        let values: u64 = std::iter::once(self.circuit.input_log_size())
            .chain(self.circuit.layers().iter().map(|l| l.log_size))
            .map(|log| 8u64 << log)
            .sum();
        gates + values
    }
}

/// A registry model compiled into slices.
pub struct CompiledModel {
    pub(crate) id: ModelId,
    pub(crate) name: String,
    pub(crate) scale_bits: u8,
    pub(crate) slices: Vec<CompiledSlice>,
    /// Axis of a trailing Softmax, applied by [`CompiledModel::finalize`].
    pub(crate) softmax_axis: Option<usize>,
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
    pub fn from_registry(registry: &Registry, entry: &ModelEntry) -> Result<Self, ModelError> {
        let bytes = registry
            .read_onnx(entry)
            .map_err(|e| ModelError::Other(e.to_string()))?;
        let shape: Vec<usize> = entry.input_shape.iter().map(|&d| d as usize).collect();
        let graph = onnx::load(&bytes, &shape)?;
        Self::compile(
            entry.id,
            &entry.name,
            &graph,
            entry.quant_scale_bits,
            &entry.slices,
        )
    }

    /// Compiles a loaded graph, cut at the named tensors.
    pub fn compile(
        id: ModelId,
        name: &str,
        graph: &Graph,
        scale_bits: u8,
        cuts: &[String],
    ) -> Result<Self, ModelError> {
        // A trailing Softmax is a public function of the proven logits: the
        // verifier recomputes it from the verified output instead of the
        // circuit proving exp and division. Softmax anywhere else is refused
        // by the compiler.
        let mut graph = graph.clone();
        let mut softmax_axis = None;
        if let Some(last) = graph.nodes.last() {
            if let Op::Softmax { axis } = last.op {
                if last.output == graph.output && graph.nodes.len() > 1 {
                    softmax_axis = Some(axis);
                    graph.output = last.inputs[0];
                    graph.nodes.pop();
                }
            }
        }
        let graph = &graph;
        let cuts = slice::cuts_by_name(graph, cuts)?;
        let graphs = slice::split(graph, &cuts)?;
        let slices = graphs
            .par_iter()
            .enumerate()
            .map(|(index, g)| {
                let c = compile::compile(g, scale_bits)?;
                Ok(CompiledSlice {
                    index,
                    circuit: c.circuit,
                    solver: c.solver,
                    input_shape: c.input_shape,
                    output_shape: c.output_shape,
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        Ok(Self {
            id,
            name: name.to_string(),
            scale_bits,
            slices,
            softmax_axis,
        })
    }

    /// The model's real-valued output from a verified output tensor:
    /// dequantized, with a trailing Softmax applied when the model has one.
    pub fn finalize(&self, output: &QTensor) -> Vec<f32> {
        let mut v = output.dequantize();
        if let Some(axis) = self.softmax_axis {
            softmax_in_place(&mut v, &output.shape, axis);
        }
        v
    }

    /// Whether a trailing Softmax is applied outside the proof.
    pub fn has_trailing_softmax(&self) -> bool {
        self.softmax_axis.is_some()
    }

    /// A fresh challenge input drawn from `seed`: uniform reals in [-1, 1]
    /// quantized at the model's scale, in the model's input shape.
    pub fn random_input(&self, seed: [u8; 32]) -> QTensor {
        let mut rng = ChaCha20Rng::from_seed(seed);
        let one = 1i64 << self.scale_bits;
        let n: usize = self.input_shape().iter().product();
        let values = (0..n).map(|_| rng.random_range(-one..=one)).collect();
        QTensor {
            shape: self.input_shape().to_vec(),
            scale_bits: self.scale_bits,
            values,
        }
    }

    fn check_tensor(&self, t: &QTensor, shape: &[usize], what: &str) -> Result<(), String> {
        if t.shape != shape {
            return Err(format!(
                "{what} has shape {:?}, expected {shape:?}",
                t.shape
            ));
        }
        if t.scale_bits != self.scale_bits {
            return Err(format!(
                "{what} is at scale 2^{}, the model at 2^{}",
                t.scale_bits, self.scale_bits
            ));
        }
        // Values beyond the activation range would alias modulo p.
        if let Some(v) = t.values.iter().find(|v| v.unsigned_abs() >= 1 << ACT_BITS) {
            return Err(format!("{what} holds {v}, outside |v| < 2^{ACT_BITS}"));
        }
        Ok(())
    }

    fn slice_at(&self, k: usize) -> Result<&CompiledSlice, String> {
        self.slices
            .get(k)
            .ok_or_else(|| format!("slice {k} does not exist ({} slices)", self.slices.len()))
    }

    /// Proves slice `k` on `input` (the model input for `k = 0`, slice
    /// `k - 1`'s output otherwise).
    pub fn prove_slice(
        &self,
        k: usize,
        input: &QTensor,
        nonce: &[u8],
    ) -> Result<SliceProof, ModelError> {
        let slice = self.slice_at(k).map_err(ModelError::Other)?;
        self.check_tensor(input, &slice.input_shape, "input")
            .map_err(ModelError::Other)?;
        let public = input.to_field();
        let sol = slice
            .solver
            .solve(&public)
            .map_err(|e| ModelError::Prove(e.to_string()))?;
        let output = QTensor {
            shape: slice.output_shape.clone(),
            scale_bits: self.scale_bits,
            values: sol.outputs.iter().map(|&v| f_to_i64(v)).collect(),
        };
        let ctx = slice_context(&self.id, k, input, &output, nonce);
        let (proof, _) = gkr::prove(&slice.circuit, &public, &sol.hints, &ctx)
            .map_err(|e| ModelError::Prove(e.to_string()))?;
        Ok(SliceProof {
            slice: k as u32,
            output,
            proof,
        })
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

    /// Verifies one slice proof against an input the verifier trusts
    /// (its own challenge, or an output it has already verified).
    pub fn verify_slice(
        &self,
        k: usize,
        input: &QTensor,
        proof: &SliceProof,
        nonce: &[u8],
    ) -> Result<(), ZkmlVerifyError> {
        let slice = self
            .slice_at(k)
            .map_err(|reason| ZkmlVerifyError::Malformed { slice: k, reason })?;
        if proof.slice as usize != k {
            return Err(ZkmlVerifyError::SliceIndex {
                position: k,
                claimed: proof.slice,
            });
        }
        self.check_tensor(input, &slice.input_shape, "input")
            .map_err(|_| ZkmlVerifyError::InputMismatch { slice: k })?;
        self.check_tensor(&proof.output, &slice.output_shape, "output")
            .map_err(|reason| ZkmlVerifyError::Malformed { slice: k, reason })?;
        let public = input.to_field();
        let outputs = proof.output.to_field();
        let ctx = slice_context(&self.id, k, input, &proof.output, nonce);
        let st = Statement {
            public_inputs: &public,
            public_outputs: &outputs,
            context: &ctx,
        };
        gkr::verify(&slice.circuit, &st, &proof.proof)
            .map_err(|source| ZkmlVerifyError::Proof { slice: k, source })
    }

    /// Verifies a whole chain of slice proofs for the challenge `input` and
    /// returns the model output. Slice `k + 1` is checked against the
    /// output slice `k` was proven to produce, so the chain is only as long
    /// as every link verifies.
    pub fn verify(
        &self,
        input: &QTensor,
        proofs: &[SliceProof],
        nonce: &[u8],
    ) -> Result<QTensor, ZkmlVerifyError> {
        if proofs.len() != self.slices.len() {
            return Err(ZkmlVerifyError::SliceCount {
                expected: self.slices.len(),
                got: proofs.len(),
            });
        }
        let mut cur = input;
        for (k, p) in proofs.iter().enumerate() {
            self.verify_slice(k, cur, p, nonce)?;
            cur = &p.output;
        }
        Ok(cur.clone())
    }
}

fn softmax_in_place(v: &mut [f32], shape: &[usize], axis: usize) {
    if axis >= shape.len() {
        return;
    }
    let n = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let outer: usize = shape[..axis].iter().product();
    for o in 0..outer {
        for i in 0..inner {
            let idx = |k: usize| (o * n + k) * inner + i;
            let m = (0..n).map(|k| v[idx(k)]).fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = (0..n).map(|k| (v[idx(k)] - m).exp()).sum();
            for k in 0..n {
                v[idx(k)] = (v[idx(k)] - m).exp() / sum;
            }
        }
    }
}

/// The transcript context of one slice proof.
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
