//! Challenge and response bodies.
//!
//! Both travel as SCALE over HTTP and both sides read them from strangers, so
//! decoding is written by hand rather than derived: every length is checked
//! against a limit and against the bytes actually present *before* anything
//! is allocated for it, trailing bytes are refused, and no input can make a
//! decoder panic.

use circuits::model::QTensor;
use circuits::zkml::{SliceProof, MAX_SLICE_PROOF_BYTES};
use parity_scale_codec::{Compact, Decode, Encode};

/// The protocol version this crate speaks; a challenge with another version
/// is refused rather than misread.
pub const PROTOCOL_VERSION: u16 = 1;
/// The route a miner serves challenges on.
pub const CHALLENGE_PATH: &str = "/Challenge";
/// Content type of SCALE bodies.
pub const CONTENT_TYPE: &str = "application/octet-stream";
/// Largest challenge body accepted (32 MiB: an input tensor of 4 Mi values).
pub const MAX_CHALLENGE_BYTES: usize = 32 << 20;
/// Most slices one challenge may ask for; the registry allows 256 cut points,
/// so 257 slices.
pub const MAX_CHALLENGE_SLICES: usize = 257;
/// Largest response body accepted (64 MiB for all slice proofs together).
pub const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// Why a body was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MessageError {
    #[error("{what} is {len} bytes, above the limit of {limit}")]
    TooLarge {
        what: &'static str,
        len: usize,
        limit: usize,
    },
    #[error("protocol version {got} is not supported (this build speaks {PROTOCOL_VERSION})")]
    Version { got: u16 },
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
    #[error("slice proof {index}: {reason}")]
    Proof { index: usize, reason: String },
}

fn malformed(what: &'static str, reason: impl ToString) -> MessageError {
    MessageError::Malformed {
        what,
        reason: reason.to_string(),
    }
}

/// A validator's request: prove slices `slices` of model `model_id` on
/// `input`, binding `nonce` into every proof transcript, before `deadline_ms`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub protocol_version: u16,
    /// Registry id (blake3 of the ONNX bytes).
    pub model_id: [u8; 32],
    /// Slice indices to prove. Non-empty and consecutive ascending: `input`
    /// feeds the first, and each slice's output feeds the next.
    pub slices: Vec<u32>,
    /// The first requested slice's input.
    pub input: QTensor,
    /// Fresh per challenge; passed as the proof nonce.
    pub nonce: [u8; 32],
    /// Unix time in milliseconds after which the validator stops waiting.
    pub deadline_ms: u64,
}

impl Encode for Challenge {
    fn encode_to<O: parity_scale_codec::Output + ?Sized>(&self, dest: &mut O) {
        self.protocol_version.encode_to(dest);
        self.model_id.encode_to(dest);
        self.slices.encode_to(dest);
        self.input.encode_to(dest);
        self.nonce.encode_to(dest);
        self.deadline_ms.encode_to(dest);
    }
}

impl Challenge {
    /// The SCALE body.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode()
    }

    /// Decodes an untrusted body: size limit, version, slice-list rules, no
    /// trailing bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MessageError> {
        const WHAT: &str = "challenge";
        if bytes.len() > MAX_CHALLENGE_BYTES {
            return Err(MessageError::TooLarge {
                what: WHAT,
                len: bytes.len(),
                limit: MAX_CHALLENGE_BYTES,
            });
        }
        let mut rest = bytes;
        let protocol_version = u16::decode(&mut rest).map_err(|e| malformed(WHAT, e))?;
        if protocol_version != PROTOCOL_VERSION {
            return Err(MessageError::Version {
                got: protocol_version,
            });
        }
        let model_id = <[u8; 32]>::decode(&mut rest).map_err(|e| malformed(WHAT, e))?;
        let n = Compact::<u32>::decode(&mut rest)
            .map_err(|e| malformed(WHAT, e))?
            .0 as usize;
        if n == 0 {
            return Err(malformed(WHAT, "no slices requested"));
        }
        if n > MAX_CHALLENGE_SLICES {
            return Err(malformed(
                WHAT,
                format!("{n} slices requested, the limit is {MAX_CHALLENGE_SLICES}"),
            ));
        }
        let mut slices = Vec::with_capacity(n);
        for _ in 0..n {
            slices.push(u32::decode(&mut rest).map_err(|e| malformed(WHAT, e))?);
        }
        if slices.windows(2).any(|w| w[0].checked_add(1) != Some(w[1])) {
            return Err(malformed(
                WHAT,
                "slice indices must be consecutive and ascending",
            ));
        }
        let input = QTensor::decode(&mut rest).map_err(|e| malformed(WHAT, e))?;
        let nonce = <[u8; 32]>::decode(&mut rest).map_err(|e| malformed(WHAT, e))?;
        let deadline_ms = u64::decode(&mut rest).map_err(|e| malformed(WHAT, e))?;
        if !rest.is_empty() {
            return Err(MessageError::TrailingBytes(rest.len()));
        }
        Ok(Self {
            protocol_version,
            model_id,
            slices,
            input,
            nonce,
            deadline_ms,
        })
    }
}

/// A miner's answer: one proof per requested slice, in order, plus what the
/// miner says proving cost it. The validator trusts only the proofs; the
/// self-reported numbers are plausibility-checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeResponse {
    /// Each carries its slice's output; the last one's is the answer.
    pub proofs: Vec<SliceProof>,
    /// Wall-clock proving time in milliseconds.
    pub prove_time_ms: u64,
    /// Peak resident memory while proving, in bytes.
    pub peak_memory_bytes: u64,
}

impl Encode for ChallengeResponse {
    fn encode_to<O: parity_scale_codec::Output + ?Sized>(&self, dest: &mut O) {
        Compact(self.proofs.len() as u32).encode_to(dest);
        for p in &self.proofs {
            p.to_bytes().encode_to(dest);
        }
        self.prove_time_ms.encode_to(dest);
        self.peak_memory_bytes.encode_to(dest);
    }
}

impl ChallengeResponse {
    /// The SCALE body.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode()
    }

    /// The model output claimed by the last slice proof.
    pub fn output(&self) -> Option<&QTensor> {
        self.proofs.last().map(|p| &p.output)
    }

    /// Decodes an untrusted body with the size limits above and no trailing
    /// bytes; each proof is decoded with [`SliceProof::from_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MessageError> {
        const WHAT: &str = "response";
        if bytes.len() > MAX_RESPONSE_BYTES {
            return Err(MessageError::TooLarge {
                what: WHAT,
                len: bytes.len(),
                limit: MAX_RESPONSE_BYTES,
            });
        }
        let mut rest = bytes;
        let n = Compact::<u32>::decode(&mut rest)
            .map_err(|e| malformed(WHAT, e))?
            .0 as usize;
        if n > MAX_CHALLENGE_SLICES {
            return Err(malformed(
                WHAT,
                format!("{n} proofs, the limit is {MAX_CHALLENGE_SLICES}"),
            ));
        }
        let per_proof_limit = MAX_SLICE_PROOF_BYTES.min(MAX_RESPONSE_BYTES);
        let mut proofs = Vec::with_capacity(n);
        for index in 0..n {
            let len = Compact::<u32>::decode(&mut rest)
                .map_err(|e| malformed(WHAT, e))?
                .0 as usize;
            if len > per_proof_limit {
                return Err(MessageError::TooLarge {
                    what: "slice proof",
                    len,
                    limit: per_proof_limit,
                });
            }
            if len > rest.len() {
                return Err(malformed(
                    WHAT,
                    format!(
                        "slice proof {index} claims {len} bytes, {} left",
                        rest.len()
                    ),
                ));
            }
            let (proof_bytes, tail) = rest.split_at(len);
            rest = tail;
            let proof = SliceProof::from_bytes(proof_bytes).map_err(|e| MessageError::Proof {
                index,
                reason: e.to_string(),
            })?;
            proofs.push(proof);
        }
        let prove_time_ms = u64::decode(&mut rest).map_err(|e| malformed(WHAT, e))?;
        let peak_memory_bytes = u64::decode(&mut rest).map_err(|e| malformed(WHAT, e))?;
        if !rest.is_empty() {
            return Err(MessageError::TrailingBytes(rest.len()));
        }
        Ok(Self {
            proofs,
            prove_time_ms,
            peak_memory_bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge() -> Challenge {
        Challenge {
            protocol_version: PROTOCOL_VERSION,
            model_id: [7; 32],
            slices: vec![2, 3, 4],
            input: QTensor::new(vec![1, 4], 12, vec![1, -2, 3, -4]).unwrap(),
            nonce: [9; 32],
            deadline_ms: 1_700_000_000_123,
        }
    }

    #[test]
    fn challenge_round_trips() {
        let c = challenge();
        assert_eq!(Challenge::from_bytes(&c.to_bytes()).unwrap(), c);
    }

    #[test]
    fn challenge_rules_are_enforced() {
        let mut c = challenge();
        c.protocol_version = 2;
        assert_eq!(
            Challenge::from_bytes(&c.to_bytes()),
            Err(MessageError::Version { got: 2 })
        );
        let mut c = challenge();
        c.slices = vec![];
        assert!(matches!(
            Challenge::from_bytes(&c.to_bytes()),
            Err(MessageError::Malformed { .. })
        ));
        c.slices = vec![1, 3];
        assert!(Challenge::from_bytes(&c.to_bytes()).is_err());
        c.slices = vec![u32::MAX, 0];
        assert!(Challenge::from_bytes(&c.to_bytes()).is_err());
        c.slices = (0..MAX_CHALLENGE_SLICES as u32 + 1).collect();
        assert!(Challenge::from_bytes(&c.to_bytes()).is_err());
        let mut bytes = challenge().to_bytes();
        bytes.push(0);
        assert_eq!(
            Challenge::from_bytes(&bytes),
            Err(MessageError::TrailingBytes(1))
        );
        let huge = vec![0u8; MAX_CHALLENGE_BYTES + 1];
        assert!(matches!(
            Challenge::from_bytes(&huge),
            Err(MessageError::TooLarge { .. })
        ));
    }

    #[test]
    fn every_truncation_of_a_challenge_is_an_error() {
        let bytes = challenge().to_bytes();
        for len in 0..bytes.len() {
            assert!(Challenge::from_bytes(&bytes[..len]).is_err(), "len {len}");
        }
    }

    #[test]
    fn empty_response_round_trips_and_hostile_lengths_fail() {
        let r = ChallengeResponse {
            proofs: vec![],
            prove_time_ms: 12,
            peak_memory_bytes: 34,
        };
        assert_eq!(ChallengeResponse::from_bytes(&r.to_bytes()).unwrap(), r);
        assert_eq!(r.output(), None);
        // One proof claiming 1 GiB.
        let mut bytes = Compact(1u32).encode();
        Compact(1u32 << 30).encode_to(&mut bytes);
        assert!(matches!(
            ChallengeResponse::from_bytes(&bytes),
            Err(MessageError::TooLarge { .. })
        ));
        // One proof claiming more bytes than are present.
        let mut bytes = Compact(1u32).encode();
        Compact(100u32).encode_to(&mut bytes);
        bytes.extend_from_slice(&[0; 10]);
        assert!(matches!(
            ChallengeResponse::from_bytes(&bytes),
            Err(MessageError::Malformed { .. })
        ));
        // One proof whose bytes are garbage.
        let mut bytes = Compact(1u32).encode();
        vec![1u8, 2, 3].encode_to(&mut bytes);
        0u64.encode_to(&mut bytes);
        0u64.encode_to(&mut bytes);
        assert!(matches!(
            ChallengeResponse::from_bytes(&bytes),
            Err(MessageError::Proof { index: 0, .. })
        ));
    }
}
