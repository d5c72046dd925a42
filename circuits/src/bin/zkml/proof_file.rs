//! The proof file `zkml prove` writes and `zkml verify` reads.
//!
//! A slice proof alone does not say which model, challenge input or nonce it
//! answers; the file carries them so that `verify` needs nothing but the
//! registry. Layout (SCALE):
//!
//! ```text
//! b"ZKMLPROOF" | version u8 = 1 | model id [u8; 32] | nonce Vec<u8>
//!            | input QTensor | slice proofs Vec<Vec<u8>> (SliceProof::to_bytes)
//! ```
//!
//! Decoding takes untrusted bytes: the file, the nonce and the slice count
//! have limits, each slice proof goes through its own size-limited decoder,
//! and trailing bytes are refused.

use anyhow::{bail, Context, Result};
use circuits::model::QTensor;
use circuits::registry::{ModelId, MAX_SLICES};
use circuits::zkml::{SliceProof, MAX_SLICE_PROOF_BYTES};
use parity_scale_codec::{Compact, Decode, Encode};

const MAGIC: &[u8] = b"ZKMLPROOF";
const VERSION: u8 = 1;
/// Largest proof file accepted.
pub const MAX_PROOF_FILE_BYTES: u64 = 1 << 30;
/// Longest nonce accepted.
pub const MAX_NONCE_BYTES: usize = 1024;

/// Everything `verify` needs besides the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofFile {
    pub model: ModelId,
    pub nonce: Vec<u8>,
    pub input: QTensor,
    pub proofs: Vec<SliceProof>,
}

impl ProofFile {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.push(VERSION);
        self.model.0.encode_to(&mut out);
        self.nonce.encode_to(&mut out);
        self.input.encode_to(&mut out);
        let slices: Vec<Vec<u8>> = self.proofs.iter().map(SliceProof::to_bytes).collect();
        slices.encode_to(&mut out);
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() as u64 > MAX_PROOF_FILE_BYTES {
            bail!(
                "proof file is {} bytes, the limit is {MAX_PROOF_FILE_BYTES}",
                bytes.len()
            );
        }
        let Some(mut rest) = bytes.strip_prefix(MAGIC) else {
            bail!("not a zkml proof file (bad magic)");
        };
        let version = u8::decode(&mut rest).context("proof file is truncated")?;
        if version != VERSION {
            bail!("proof file version {version} is not supported (this build reads {VERSION})");
        }
        let model = ModelId(<[u8; 32]>::decode(&mut rest).context("truncated model id")?);
        let nonce_len = Compact::<u32>::decode(&mut rest)
            .context("truncated nonce")?
            .0 as usize;
        if nonce_len > MAX_NONCE_BYTES || nonce_len > rest.len() {
            bail!("nonce length {nonce_len} is over the limit or past the end of the file");
        }
        let (nonce, tail) = rest.split_at(nonce_len);
        rest = tail;
        let input = QTensor::decode(&mut rest).context("malformed input tensor")?;
        let count = Compact::<u32>::decode(&mut rest)
            .context("truncated slice proof count")?
            .0 as usize;
        if count == 0 || count > MAX_SLICES + 1 {
            bail!("{count} slice proofs: expected 1 to {}", MAX_SLICES + 1);
        }
        let mut proofs = Vec::with_capacity(count);
        for k in 0..count {
            let len = Compact::<u32>::decode(&mut rest)
                .with_context(|| format!("slice proof {k}: truncated length"))?
                .0 as usize;
            if len > MAX_SLICE_PROOF_BYTES || len > rest.len() {
                bail!(
                    "slice proof {k}: length {len} is over the limit or past the end of the file"
                );
            }
            let (p, tail) = rest.split_at(len);
            rest = tail;
            proofs.push(
                SliceProof::from_bytes(p)
                    .with_context(|| format!("slice proof {k} is malformed"))?,
            );
        }
        if !rest.is_empty() {
            bail!("proof file has {} trailing bytes", rest.len());
        }
        Ok(Self {
            model,
            nonce: nonce.to_vec(),
            input,
            proofs,
        })
    }
}
