//! The GKR protocol over layered circuits.
//!
//! Per layer, the claim `sum_k w_k V_i(r_k)` (one point for the output layer,
//! two afterwards, combined with a random weight) is reduced to claims on
//! `V_{i-1}` by Libra's linear-time two-phase sumcheck. Layers without mul
//! gates skip phase 2 and hand down a single claim. At the bottom the
//! verifier evaluates the input layer itself: public inputs come from the
//! statement and hints travel in the proof ("raw" mode).

mod prover;
mod verifier;

pub use prover::{prove, prove_unchecked, prove_with_progress};
pub use verifier::verify;

use crate::field::F;
use crate::transcript::Transcript;

/// Domain separator of the whole proof system.
pub(crate) const DOMAIN: &[u8] = b"zkml-gkr-logup/v1";

/// What a proof is about. The verifier gets it from its own records (its
/// challenge, the registry), never from the proof.
#[derive(Clone, Copy, Debug)]
pub struct Statement<'a> {
    pub public_inputs: &'a [F],
    pub public_outputs: &'a [F],
    /// Caller-chosen binding such as a challenge nonce, model and slice ids.
    pub context: &'a [u8],
}

/// The statement is absorbed before any prover message, so every challenge
/// depends on the circuit, its public values and the context.
pub(crate) fn absorb_statement(t: &mut Transcript, digest: &[u8; 32], st: &Statement<'_>) {
    t.absorb_bytes(b"circuit-digest", digest);
    t.absorb_fs(b"public-inputs", st.public_inputs);
    t.absorb_fs(b"public-outputs", st.public_outputs);
    t.absorb_bytes(b"context", st.context);
}
