//! The circuit's canonical encoding: what compiled circuits are stored as,
//! and what the circuit digest (bound into every proof) hashes.
//!
//! Decoding is for untrusted files: the same size, length and canonicity
//! checks as proofs, and the result goes through [`Circuit::new`], so a
//! decoded circuit is validated like a built one.

use parity_scale_codec::{Decode, Encode, Error as CodecError, Input, Output};

use super::{AddGate, Circuit, ConstGate, Layer, Lookup, MulGate, Table};
use crate::codec::{dec_f, dec_vec, enc_f, enc_len, versioned_decode};
use crate::error::DecodeError;

/// Current circuit format.
pub const CIRCUIT_VERSION: u8 = 1;
/// Default upper bound on an encoded circuit.
pub const MAX_CIRCUIT_BYTES: usize = 1 << 31;

/// Everything that defines a circuit, before validation.
struct RawCircuit {
    input_log_size: u32,
    num_public_inputs: u32,
    num_hints: u32,
    num_public_outputs: u32,
    layers: Vec<Layer>,
    lookups: Vec<Lookup>,
}

pub(super) fn encode_circuit<O: Output + ?Sized>(c: &Circuit, dest: &mut O) {
    c.input_log_size.encode_to(dest);
    c.num_public_inputs.encode_to(dest);
    c.num_hints.encode_to(dest);
    c.num_public_outputs.encode_to(dest);
    enc_len(c.layers.len(), dest);
    for l in &c.layers {
        l.log_size.encode_to(dest);
        enc_len(l.mul.len(), dest);
        for g in &l.mul {
            (g.out, g.x, g.y).encode_to(dest);
            enc_f(&g.coef, dest);
        }
        enc_len(l.add.len(), dest);
        for g in &l.add {
            (g.out, g.x).encode_to(dest);
            enc_f(&g.coef, dest);
        }
        enc_len(l.consts.len(), dest);
        for g in &l.consts {
            g.out.encode_to(dest);
            enc_f(&g.coef, dest);
        }
    }
    enc_len(c.lookups.len(), dest);
    for lk in &c.lookups {
        enc_len(lk.hints.len(), dest);
        lk.hints.iter().for_each(|h| h.encode_to(dest));
        match &lk.table {
            Table::Range { bits } => {
                dest.push_byte(0);
                bits.encode_to(dest);
            }
            Table::Set(v) => {
                dest.push_byte(1);
                enc_len(v.len(), dest);
                v.iter().for_each(|x| enc_f(x, dest));
            }
        }
    }
}

impl Decode for RawCircuit {
    fn decode<I: Input>(input: &mut I) -> Result<Self, CodecError> {
        let input_log_size = u32::decode(input)?;
        let num_public_inputs = u32::decode(input)?;
        let num_hints = u32::decode(input)?;
        let num_public_outputs = u32::decode(input)?;
        let layers = dec_vec(input, 7, |i| {
            Ok(Layer {
                log_size: u32::decode(i)?,
                mul: dec_vec(i, 20, |i| {
                    let (out, x, y) = <(u32, u32, u32)>::decode(i)?;
                    Ok(MulGate {
                        out,
                        x,
                        y,
                        coef: dec_f(i)?,
                    })
                })?,
                add: dec_vec(i, 16, |i| {
                    let (out, x) = <(u32, u32)>::decode(i)?;
                    Ok(AddGate {
                        out,
                        x,
                        coef: dec_f(i)?,
                    })
                })?,
                consts: dec_vec(i, 12, |i| {
                    Ok(ConstGate {
                        out: u32::decode(i)?,
                        coef: dec_f(i)?,
                    })
                })?,
            })
        })?;
        let lookups = dec_vec(input, 3, |i| {
            let hints = dec_vec(i, 4, |i| u32::decode(i))?;
            let table = match i.read_byte()? {
                0 => Table::Range {
                    bits: u32::decode(i)?,
                },
                1 => Table::Set(dec_vec(i, 8, dec_f)?),
                _ => return Err("invalid table tag".into()),
            };
            Ok(Lookup { hints, table })
        })?;
        Ok(RawCircuit {
            input_log_size,
            num_public_inputs,
            num_hints,
            num_public_outputs,
            layers,
            lookups,
        })
    }
}

impl Circuit {
    /// Version byte followed by the canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![CIRCUIT_VERSION];
        encode_circuit(self, &mut out);
        out
    }

    /// Decodes and validates an untrusted circuit (default size limit).
    pub fn from_bytes(bytes: &[u8]) -> Result<Circuit, DecodeError> {
        Self::from_bytes_with_limit(bytes, MAX_CIRCUIT_BYTES)
    }

    /// Decodes and validates, refusing inputs longer than `limit` bytes.
    pub fn from_bytes_with_limit(bytes: &[u8], limit: usize) -> Result<Circuit, DecodeError> {
        let raw: RawCircuit = versioned_decode(bytes, limit, CIRCUIT_VERSION)?;
        // Canonical order is required, so that one circuit has exactly one
        // encoding and `to_bytes(from_bytes(b)) == b`.
        if let Some(i) = raw.layers.iter().position(|l| !super::is_canonical(l)) {
            return Err(DecodeError::Malformed(format!(
                "layer {i}: gates are not in canonical order"
            )));
        }
        Circuit::new(
            raw.input_log_size,
            raw.num_public_inputs,
            raw.num_hints,
            raw.layers,
            raw.num_public_outputs,
            raw.lookups,
        )
        .map_err(|e| DecodeError::Malformed(format!("invalid circuit: {e}")))
    }
}

/// Feeds encoded bytes to Blake3 through a 64 KiB buffer, so hashing a
/// multi-million-gate circuit neither materialises its encoding nor pays
/// per-call overhead on 4-byte writes.
pub(super) struct HashingOutput {
    hasher: blake3::Hasher,
    buf: Vec<u8>,
}

impl HashingOutput {
    pub(super) fn new(domain: &[u8]) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(domain);
        HashingOutput {
            hasher,
            buf: Vec::with_capacity(1 << 16),
        }
    }

    pub(super) fn finalize(mut self) -> [u8; 32] {
        self.hasher.update(&self.buf);
        *self.hasher.finalize().as_bytes()
    }
}

impl Output for HashingOutput {
    fn write(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= 1 << 16 {
            self.hasher.update(&self.buf);
            self.buf.clear();
        }
    }
}
