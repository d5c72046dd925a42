//! Layered arithmetic circuits: the statement language of the GKR prover.
//!
//! Layer `i` computes each of its outputs as a sum of gates that read layer
//! `i - 1` only: `mul` (coef * a * b), `add` (coef * a) and `const` (coef).
//! Layer 0 is the input layer: `[public inputs | hints | zero padding]`. The
//! last layer is the output layer: `[public outputs | asserted zeros]`, where
//! everything after the public outputs (padding included) must be zero.

pub mod builder;
pub mod codec;
pub mod random;
pub mod solver;

use rayon::prelude::*;

use crate::error::{CircuitError, ProveError};
use crate::field::{PrimeCharacteristicRing, PrimeField64, EF, F};

/// Largest layer we accept: 2^28 wires (4 GiB of base values per layer).
pub const MAX_LOG_SIZE: u32 = 28;
/// Largest range-check table: 2^20 entries.
pub const MAX_RANGE_BITS: u32 = 20;
/// Largest explicit lookup table.
pub const MAX_SET_TABLE: usize = 1 << 20;

/// `out += coef * in[x] * in[y]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MulGate {
    pub out: u32,
    pub x: u32,
    pub y: u32,
    pub coef: F,
}

/// `out += coef * in[x]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddGate {
    pub out: u32,
    pub x: u32,
    pub coef: F,
}

/// `out += coef`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConstGate {
    pub out: u32,
    pub coef: F,
}

/// One layer: `2^log_size` outputs computed from the previous layer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layer {
    pub log_size: u32,
    pub mul: Vec<MulGate>,
    pub add: Vec<AddGate>,
    pub consts: Vec<ConstGate>,
}

impl Layer {
    /// Number of gates of all kinds.
    pub fn num_gates(&self) -> usize {
        self.mul.len() + self.add.len() + self.consts.len()
    }
}

/// The set a lookup argument checks membership in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Table {
    /// `[0, 2^bits)`.
    Range { bits: u32 },
    /// An explicit list of distinct values.
    Set(Vec<F>),
}

impl Table {
    /// Number of entries.
    pub fn len(&self) -> usize {
        match self {
            Table::Range { bits } => 1 << bits,
            Table::Set(v) => v.len(),
        }
    }

    /// Whether the table has no entries (never true for a valid circuit).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entry `j`.
    pub fn value(&self, j: usize) -> F {
        match self {
            Table::Range { .. } => F::from_usize(j),
            Table::Set(v) => v[j],
        }
    }

    /// The multilinear extension of the table, zero-padded to `2^r.len()`
    /// entries, at `r`. For a range table this costs O(r.len()): the MLE of
    /// `j -> j` is `sum_b 2^b r_b`, masked to zero above the table.
    pub fn mle(&self, r: &[EF], eq: &[EF]) -> EF {
        match self {
            Table::Range { bits } => {
                let bits = *bits as usize;
                let mut low = EF::ZERO;
                let mut pow = F::ONE;
                for &rb in &r[..bits] {
                    low += rb * pow;
                    pow = pow.double();
                }
                let high: EF = r[bits..].iter().map(|&rb| EF::ONE - rb).product();
                low * high
            }
            Table::Set(v) => crate::mle::dot_base(v, eq),
        }
    }
}

/// A membership argument: every listed hint must take a value in `table`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// Indices into the hint vector (not the input layer).
    pub hints: Vec<u32>,
    pub table: Table,
}

/// A validated layered circuit with its canonical digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Circuit {
    input_log_size: u32,
    num_public_inputs: u32,
    num_hints: u32,
    layers: Vec<Layer>,
    num_public_outputs: u32,
    lookups: Vec<Lookup>,
    digest: [u8; 32],
}

impl Circuit {
    /// Validates every index and bound, puts gates in canonical order
    /// (sorted by output, then inputs) and computes the digest.
    pub fn new(
        input_log_size: u32,
        num_public_inputs: u32,
        num_hints: u32,
        mut layers: Vec<Layer>,
        num_public_outputs: u32,
        lookups: Vec<Lookup>,
    ) -> Result<Self, CircuitError> {
        if !(1..=MAX_LOG_SIZE).contains(&input_log_size) {
            return Err(CircuitError::InputSize {
                log_size: input_log_size,
                max: MAX_LOG_SIZE,
            });
        }
        if num_public_inputs as u64 + num_hints as u64 > 1u64 << input_log_size {
            return Err(CircuitError::InputOverflow {
                log_size: input_log_size,
                public: num_public_inputs,
                hints: num_hints,
            });
        }
        if layers.is_empty() {
            return Err(CircuitError::NoLayers);
        }
        let mut in_log = input_log_size;
        for (i, layer) in layers.iter_mut().enumerate() {
            validate_layer(i, layer, in_log)?;
            canonicalize(layer);
            in_log = layer.log_size;
        }
        if num_public_outputs as u64 > 1u64 << in_log {
            return Err(CircuitError::OutputOverflow {
                public: num_public_outputs,
                log_size: in_log,
            });
        }
        for (i, lk) in lookups.iter().enumerate() {
            validate_lookup(i, lk, num_hints)?;
        }
        let mut c = Circuit {
            input_log_size,
            num_public_inputs,
            num_hints,
            layers,
            num_public_outputs,
            lookups,
            digest: [0; 32],
        };
        c.digest = c.compute_digest();
        Ok(c)
    }

    pub fn input_log_size(&self) -> u32 {
        self.input_log_size
    }
    pub fn num_public_inputs(&self) -> usize {
        self.num_public_inputs as usize
    }
    pub fn num_hints(&self) -> usize {
        self.num_hints as usize
    }
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }
    pub fn num_public_outputs(&self) -> usize {
        self.num_public_outputs as usize
    }
    pub fn lookups(&self) -> &[Lookup] {
        &self.lookups
    }
    /// Blake3 over the canonical encoding; bound into every proof.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }
    /// Log size of the output layer.
    pub fn output_log_size(&self) -> u32 {
        self.layers.last().map_or(0, |l| l.log_size)
    }
    /// Log size of the layer that layer `i` reads.
    pub fn layer_input_log_size(&self, i: usize) -> u32 {
        if i == 0 {
            self.input_log_size
        } else {
            self.layers[i - 1].log_size
        }
    }
    /// Total gates over all layers.
    pub fn num_gates(&self) -> usize {
        self.layers.iter().map(Layer::num_gates).sum()
    }
    /// The input layer `[public | hints | 0..]`, checking the counts.
    pub fn input_layer(&self, public: &[F], hints: &[F]) -> Result<Vec<F>, ProveError> {
        if public.len() != self.num_public_inputs() {
            return Err(ProveError::PublicInputCount {
                expected: self.num_public_inputs(),
                got: public.len(),
            });
        }
        if hints.len() != self.num_hints() {
            return Err(ProveError::HintCount {
                expected: self.num_hints(),
                got: hints.len(),
            });
        }
        let mut v = Vec::with_capacity(1 << self.input_log_size);
        v.extend_from_slice(public);
        v.extend_from_slice(hints);
        v.resize(1 << self.input_log_size, F::ZERO);
        Ok(v)
    }

    /// Values of every layer, input layer first.
    pub fn evaluate(&self, public: &[F], hints: &[F]) -> Result<Vec<Vec<F>>, ProveError> {
        let mut values = Vec::with_capacity(self.layers.len() + 1);
        values.push(self.input_layer(public, hints)?);
        for layer in &self.layers {
            let next = evaluate_layer(layer, values.last().expect("input layer"));
            values.push(next);
        }
        Ok(values)
    }

    /// Blake3 over a domain tag, the format version and the canonical
    /// encoding, i.e. exactly the bytes `to_bytes` writes.
    fn compute_digest(&self) -> [u8; 32] {
        let mut out = codec::HashingOutput::new(b"zkml-circuit-digest");
        parity_scale_codec::Output::push_byte(&mut out, codec::CIRCUIT_VERSION);
        codec::encode_circuit(self, &mut out);
        out.finalize()
    }
}

fn validate_layer(i: usize, layer: &Layer, in_log: u32) -> Result<(), CircuitError> {
    if !(1..=MAX_LOG_SIZE).contains(&layer.log_size) {
        return Err(CircuitError::LayerSize {
            layer: i,
            log_size: layer.log_size,
            max: MAX_LOG_SIZE,
        });
    }
    let out_bound = 1u64 << layer.log_size;
    let in_bound = 1u64 << in_log;
    let check = |kind, gate, index: u32, bound: u64| {
        if index as u64 >= bound {
            Err(CircuitError::GateIndex {
                layer: i,
                kind,
                gate,
                index,
                bound,
            })
        } else {
            Ok(())
        }
    };
    for (n, g) in layer.mul.iter().enumerate() {
        check("mul", n, g.out, out_bound)?;
        check("mul", n, g.x, in_bound)?;
        check("mul", n, g.y, in_bound)?;
    }
    for (n, g) in layer.add.iter().enumerate() {
        check("add", n, g.out, out_bound)?;
        check("add", n, g.x, in_bound)?;
    }
    for (n, g) in layer.consts.iter().enumerate() {
        check("const", n, g.out, out_bound)?;
    }
    Ok(())
}

fn validate_lookup(i: usize, lk: &Lookup, num_hints: u32) -> Result<(), CircuitError> {
    let err = |reason: String| CircuitError::Lookup { lookup: i, reason };
    if lk.hints.is_empty() {
        return Err(err("no hints to check".into()));
    }
    if let Some(&h) = lk.hints.iter().find(|&&h| h >= num_hints) {
        return Err(err(format!("hint index {h} is outside 0..{num_hints}")));
    }
    if lk.hints.len() > 1 << MAX_LOG_SIZE {
        return Err(err("too many hints".into()));
    }
    match &lk.table {
        Table::Range { bits } if !(1..=MAX_RANGE_BITS).contains(bits) => Err(err(format!(
            "range bits {bits} outside 1..={MAX_RANGE_BITS}"
        ))),
        Table::Set(v) if v.is_empty() || v.len() > MAX_SET_TABLE => Err(err(format!(
            "table has {} entries, allowed 1..={MAX_SET_TABLE}",
            v.len()
        ))),
        Table::Set(v) => {
            let mut seen: Vec<u64> = v.iter().map(|x| x.as_canonical_u64()).collect();
            seen.sort_unstable();
            if seen.windows(2).any(|w| w[0] == w[1]) {
                return Err(err("table entries are not distinct".into()));
            }
            Ok(())
        }
        Table::Range { .. } => Ok(()),
    }
}

fn mul_key(g: &MulGate) -> (u32, u32, u32, u64) {
    (g.out, g.x, g.y, g.coef.as_canonical_u64())
}

fn add_key(g: &AddGate) -> (u32, u32, u64) {
    (g.out, g.x, g.coef.as_canonical_u64())
}

fn const_key(g: &ConstGate) -> (u32, u64) {
    (g.out, g.coef.as_canonical_u64())
}

/// Whether the gate lists are already in canonical order.
pub(crate) fn is_canonical(layer: &Layer) -> bool {
    layer.mul.is_sorted_by_key(mul_key)
        && layer.add.is_sorted_by_key(add_key)
        && layer.consts.is_sorted_by_key(const_key)
}

fn canonicalize(layer: &mut Layer) {
    if !layer.mul.is_sorted_by_key(mul_key) {
        layer.mul.par_sort_unstable_by_key(mul_key);
    }
    if !layer.add.is_sorted_by_key(add_key) {
        layer.add.par_sort_unstable_by_key(add_key);
    }
    if !layer.consts.is_sorted_by_key(const_key) {
        layer.consts.par_sort_unstable_by_key(const_key);
    }
}

/// Output block processed by one rayon task during evaluation.
const EVAL_CHUNK: usize = 1 << 12;

/// Evaluates one layer. Gates are sorted by output, so each output block
/// finds its gates by binary search and blocks run in parallel.
pub(crate) fn evaluate_layer(layer: &Layer, input: &[F]) -> Vec<F> {
    let size = 1usize << layer.log_size;
    let mut out = F::zero_vec(size);
    out.par_chunks_mut(EVAL_CHUNK)
        .enumerate()
        .for_each(|(ci, chunk)| {
            let lo = (ci * EVAL_CHUNK) as u32;
            let hi = lo + chunk.len() as u32;
            let mr = layer.mul.partition_point(|g| g.out < lo)
                ..layer.mul.partition_point(|g| g.out < hi);
            for g in &layer.mul[mr] {
                chunk[(g.out - lo) as usize] += g.coef * input[g.x as usize] * input[g.y as usize];
            }
            let ar = layer.add.partition_point(|g| g.out < lo)
                ..layer.add.partition_point(|g| g.out < hi);
            for g in &layer.add[ar] {
                chunk[(g.out - lo) as usize] += g.coef * input[g.x as usize];
            }
            let cr = layer.consts.partition_point(|g| g.out < lo)
                ..layer.consts.partition_point(|g| g.out < hi);
            for g in &layer.consts[cr] {
                chunk[(g.out - lo) as usize] += g.coef;
            }
        });
    out
}
