//! The slice proof as it travels from miner to validator.

use parity_scale_codec::{Decode, Encode};

use crate::error::DecodeError;
use crate::model::QTensor;
use crate::Proof;

/// Upper bound on an encoded slice proof.
pub const MAX_SLICE_PROOF_BYTES: usize = 256 << 20;
const SLICE_PROOF_VERSION: u8 = 1;

/// A proof that slice `slice` maps its input tensor to `output`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SliceProof {
    pub slice: u32,
    pub output: QTensor,
    pub proof: Proof,
}

impl SliceProof {
    /// `[version][slice u32][output tensor][proof bytes]`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![SLICE_PROOF_VERSION];
        self.slice.encode_to(&mut out);
        self.output.encode_to(&mut out);
        self.proof.to_bytes().encode_to(&mut out);
        out
    }

    /// Decodes untrusted bytes with the size limit above.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_SLICE_PROOF_BYTES {
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                limit: MAX_SLICE_PROOF_BYTES,
            });
        }
        let (&v, mut rest) = bytes
            .split_first()
            .ok_or_else(|| DecodeError::Malformed("empty slice proof".into()))?;
        if v != SLICE_PROOF_VERSION {
            return Err(DecodeError::Version(v));
        }
        let malformed = |e: parity_scale_codec::Error| DecodeError::Malformed(e.to_string());
        let slice = u32::decode(&mut rest).map_err(malformed)?;
        let output = QTensor::decode(&mut rest).map_err(malformed)?;
        let proof_bytes = Vec::<u8>::decode(&mut rest).map_err(malformed)?;
        if !rest.is_empty() {
            return Err(DecodeError::TrailingBytes(rest.len()));
        }
        let proof = Proof::from_bytes(&proof_bytes)?;
        Ok(Self {
            slice,
            output,
            proof,
        })
    }
}
