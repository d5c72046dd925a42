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
use crate::model::{onnx, slice, Graph, ModelError, Op, QTensor, TensorId};
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

/// A trailing Softmax taken off a graph by [`strip_trailing_softmax`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrailingSoftmax {
    /// The axis it normalises over.
    pub axis: usize,
    /// The model's own output tensor (the Softmax's output). It stays in
    /// `graph.tensors`, but no node produces it any more.
    pub output: TensorId,
}

/// Takes a trailing Softmax off `graph`, making its input (the logits) the
/// graph output, and returns what was removed.
///
/// A trailing Softmax is a public function of the proven logits: the
/// verifier recomputes it from the verified output ([`CompiledModel::finalize`])
/// instead of the circuit proving exp and division. Softmax anywhere else is
/// left in place, and the compiler refuses it. A graph that is nothing but a
/// Softmax is left alone too, since it would have nothing left to prove.
/// Every path from a loaded graph to a circuit (the zkml API and the CLI's
/// inspect and compile) goes through this one function, so they agree on
/// which circuits a model has.
pub fn strip_trailing_softmax(graph: &mut Graph) -> Option<TrailingSoftmax> {
    let last = graph.nodes.last()?;
    let Op::Softmax { axis } = last.op else {
        return None;
    };
    if last.output != graph.output || graph.nodes.len() < 2 {
        return None;
    }
    let stripped = TrailingSoftmax {
        axis,
        output: last.output,
    };
    graph.output = last.inputs[0];
    graph.nodes.pop();
    Some(stripped)
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
        let mut graph = graph.clone();
        let softmax_axis = strip_trailing_softmax(&mut graph).map(|s| s.axis);
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
        let started = std::time::Instant::now();
        let sol = slice
            .solver
            .solve(&public)
            .map_err(|e| ModelError::Prove(e.to_string()))?;
        tracing::debug!(
            slice = k,
            solve_s = started.elapsed().as_secs_f64(),
            "hints solved"
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ir::{Const, Node, TensorInfo};

    fn tensor(name: &str, shape: &[usize]) -> TensorInfo {
        TensorInfo {
            name: name.into(),
            shape: shape.to_vec(),
        }
    }

    fn node(name: &str, op: Op, input: TensorId, output: TensorId) -> Node {
        Node {
            name: name.into(),
            op,
            inputs: vec![input],
            output,
        }
    }

    /// x[1, 4] -> Dense -> h[1, 3] -> `last` -> y[1, 3].
    fn dense_then(last: Op) -> Graph {
        let weight = Const::new(vec![3, 4], (0..12).map(|i| i as f32 / 16.0 - 0.3).collect());
        Graph {
            tensors: vec![
                tensor("x", &[1, 4]),
                tensor("h", &[1, 3]),
                tensor("y", &[1, 3]),
            ],
            nodes: vec![
                node("fc", Op::Dense { weight, bias: None }, 0, 1),
                node("last", last, 1, 2),
            ],
            input: 0,
            output: 2,
        }
    }

    #[test]
    fn trailing_softmax_is_stripped_and_reapplied_by_finalize() {
        let full = dense_then(Op::Softmax { axis: 1 });
        let mut g = full.clone();
        let s = strip_trailing_softmax(&mut g).expect("stripped");
        assert_eq!(s, TrailingSoftmax { axis: 1, output: 2 });
        assert_eq!(g.output, 1);
        assert_eq!(g.nodes.len(), 1);
        assert_eq!(g.tensors, full.tensors);
        // What is left compiles; the full graph does not.
        assert!(compile::compile(&g, 8).is_ok());
        assert!(compile::compile(&full, 8).is_err());

        let model = CompiledModel::compile(ModelId([1; 32]), "t", &full, 8, &[]).unwrap();
        assert!(model.has_trailing_softmax());
        assert_eq!(model.output_shape(), [1, 3]);
        let logits = QTensor::new(vec![1, 3], 8, vec![256, 0, -256]).unwrap();
        let p = model.finalize(&logits);
        let e = std::f32::consts::E;
        let z = e + 1.0 + 1.0 / e;
        for (got, want) in p.iter().zip([e / z, 1.0 / z, 1.0 / (e * z)]) {
            assert!((got - want).abs() < 1e-6, "{p:?}");
        }
    }

    #[test]
    fn other_graphs_are_left_alone() {
        // Not a Softmax at the end.
        let relu = dense_then(Op::Relu);
        let mut g = relu.clone();
        assert_eq!(strip_trailing_softmax(&mut g), None);
        assert_eq!(g, relu);
        let model = CompiledModel::compile(ModelId([1; 32]), "t", &relu, 8, &[]).unwrap();
        assert!(!model.has_trailing_softmax());

        // A graph that is only a Softmax has nothing left to prove.
        let only = Graph {
            tensors: vec![tensor("x", &[1, 3]), tensor("y", &[1, 3])],
            nodes: vec![node("sm", Op::Softmax { axis: 1 }, 0, 1)],
            input: 0,
            output: 1,
        };
        let mut g = only.clone();
        assert_eq!(strip_trailing_softmax(&mut g), None);
        assert_eq!(g, only);

        // The last node is a Softmax, but the graph output is another tensor.
        let mut odd = dense_then(Op::Softmax { axis: 1 });
        odd.output = 1;
        let mut g = odd.clone();
        assert_eq!(strip_trailing_softmax(&mut g), None);
        assert_eq!(g, odd);
    }
}
