//! Proof objects and their wire encoding.
//!
//! Encoding: one version byte, then SCALE (compact lengths, field elements as
//! canonical little-endian u64s), except that hints and lookup multiplicities,
//! which are small integers and most of a proof's bytes, are zig-zag varints
//! (multiplicity indices as gaps). Hints fall back to fixed words when
//! varints would be longer (random test circuits); a mode byte says which. Decoding is hostile-input safe: a total size
//! limit, per-vector length checks against the bytes actually left (so a
//! forged length cannot trigger a huge allocation), rejection of
//! non-canonical field elements, and rejection of trailing bytes.

use parity_scale_codec::{Decode, Encode, Error as CodecError, Input, Output};

use crate::codec::{
    dec_ef, dec_ef_array, dec_f_var, dec_f_vec, dec_uvar, dec_vec, enc_ef, enc_f_var, enc_f_vec,
    enc_len, enc_uvar, versioned_decode,
};
use crate::error::DecodeError;
use crate::field::{EF, F};

/// Current proof format (2: varint-or-fixed hints, varint multiplicities).
pub const PROOF_VERSION: u8 = 2;
/// Default upper bound on an encoded proof (raw hints make proofs large).
pub const MAX_PROOF_BYTES: usize = 512 << 20;

/// A GKR proof with raw (in-the-clear) hints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// The private part of the input layer, sent raw (Expander's "Raw" mode).
    pub hints: Vec<F>,
    /// One entry per circuit layer, output layer first.
    pub layers: Vec<LayerProof>,
    /// One entry per lookup in the circuit, in circuit order.
    pub lookups: Vec<LookupProof>,
}

/// The two-phase sumcheck for one layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerProof {
    /// Round messages `[s(0), s(2)]` of the sumcheck over `x`.
    pub phase1: Vec<[EF; 2]>,
    /// `V(r_x)`.
    pub vx: EF,
    /// Present exactly when the layer has mul gates.
    pub phase2: Option<Phase2Proof>,
}

/// The sumcheck over `y` of a layer with mul gates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase2Proof {
    pub rounds: Vec<[EF; 2]>,
    /// `V(r_y)`.
    pub vy: EF,
}

/// A LogUp argument: multiplicities plus a GKR over the fractional-sum tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupProof {
    /// Sparse `(table index, count)` with strictly increasing indices.
    pub multiplicities: Vec<(u32, F)>,
    /// The two children of the root: `[p_0, p_1, q_0, q_1]`.
    pub top: [EF; 4],
    /// One entry per tree level below the top, root side first.
    pub layers: Vec<FracLayerProof>,
}

/// One level of the fractional-sum GKR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FracLayerProof {
    /// Round messages `[s(0), s(2), s(3)]`.
    pub rounds: Vec<[EF; 3]>,
    /// `[p(r,0), p(r,1), q(r,0), q(r,1)]` of the level below.
    pub children: [EF; 4],
}

impl Proof {
    /// Version byte followed by the SCALE body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![PROOF_VERSION];
        self.encode_to(&mut out);
        out
    }

    /// Decodes with the default size limit.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_bytes_with_limit(bytes, MAX_PROOF_BYTES)
    }

    /// Decodes, refusing inputs longer than `limit` bytes.
    pub fn from_bytes_with_limit(bytes: &[u8], limit: usize) -> Result<Self, DecodeError> {
        versioned_decode(bytes, limit, PROOF_VERSION)
    }

    /// Size of the encoding in bytes.
    pub fn size_bytes(&self) -> usize {
        1 + self.encoded_size()
    }
}

// ---- structured codecs ---------------------------------------------------

impl Encode for Proof {
    fn size_hint(&self) -> usize {
        3 * self.hints.len() + 1024 * self.layers.len()
    }

    fn encode_to<O: Output + ?Sized>(&self, dest: &mut O) {
        enc_f_vec(&self.hints, dest);
        enc_len(self.layers.len(), dest);
        self.layers.iter().for_each(|l| l.encode_to(dest));
        enc_len(self.lookups.len(), dest);
        self.lookups.iter().for_each(|l| l.encode_to(dest));
    }
}

impl Decode for Proof {
    fn decode<I: Input>(input: &mut I) -> Result<Self, CodecError> {
        Ok(Proof {
            hints: dec_f_vec(input)?,
            layers: dec_vec(input, 17, LayerProof::decode)?,
            lookups: dec_vec(input, 66, LookupProof::decode)?,
        })
    }
}

impl Encode for LayerProof {
    fn encode_to<O: Output + ?Sized>(&self, dest: &mut O) {
        enc_len(self.phase1.len(), dest);
        self.phase1.iter().flatten().for_each(|x| enc_ef(x, dest));
        enc_ef(&self.vx, dest);
        match &self.phase2 {
            None => dest.push_byte(0),
            Some(p2) => {
                dest.push_byte(1);
                enc_len(p2.rounds.len(), dest);
                p2.rounds.iter().flatten().for_each(|x| enc_ef(x, dest));
                enc_ef(&p2.vy, dest);
            }
        }
    }
}

impl Decode for LayerProof {
    fn decode<I: Input>(input: &mut I) -> Result<Self, CodecError> {
        let phase1 = dec_vec(input, 32, dec_ef_array::<I, 2>)?;
        let vx = dec_ef(input)?;
        let phase2 = match input.read_byte()? {
            0 => None,
            1 => Some(Phase2Proof {
                rounds: dec_vec(input, 32, dec_ef_array::<I, 2>)?,
                vy: dec_ef(input)?,
            }),
            _ => return Err("invalid phase-2 tag".into()),
        };
        Ok(LayerProof { phase1, vx, phase2 })
    }
}

impl Encode for LookupProof {
    fn encode_to<O: Output + ?Sized>(&self, dest: &mut O) {
        enc_len(self.multiplicities.len(), dest);
        // Indices are strictly increasing (the verifier insists), so each is
        // sent as the gap after the previous one.
        let mut next = 0u64;
        for (idx, m) in &self.multiplicities {
            enc_uvar(u64::from(*idx).wrapping_sub(next), dest);
            next = u64::from(*idx) + 1;
            enc_f_var(m, dest);
        }
        self.top.iter().for_each(|x| enc_ef(x, dest));
        enc_len(self.layers.len(), dest);
        for l in &self.layers {
            enc_len(l.rounds.len(), dest);
            l.rounds.iter().flatten().for_each(|x| enc_ef(x, dest));
            l.children.iter().for_each(|x| enc_ef(x, dest));
        }
    }
}

impl Decode for LookupProof {
    fn decode<I: Input>(input: &mut I) -> Result<Self, CodecError> {
        let mut next = 0u64;
        let multiplicities = dec_vec(input, 2, |i| {
            let idx = next
                .checked_add(dec_uvar(i)?)
                .and_then(|j| u32::try_from(j).ok())
                .ok_or("multiplicity index out of range")?;
            next = u64::from(idx) + 1;
            Ok((idx, dec_f_var(i)?))
        })?;
        let top = dec_ef_array::<I, 4>(input)?;
        let layers = dec_vec(input, 65, |i| {
            Ok(FracLayerProof {
                rounds: dec_vec(i, 48, dec_ef_array::<I, 3>)?,
                children: dec_ef_array::<I, 4>(i)?,
            })
        })?;
        Ok(LookupProof {
            multiplicities,
            top,
            layers,
        })
    }
}
