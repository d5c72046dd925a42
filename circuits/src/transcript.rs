//! Fiat-Shamir transcript over Blake3.
//!
//! Every prover message is absorbed with a label and a length prefix before
//! the next challenge is squeezed, so two different message sequences can
//! never hash to the same state. Challenges are sampled by rejection from the
//! XOF output, which makes them exactly uniform in the field (no modular bias).

use crate::field::{ef_coeffs, f_from_canonical, BasedVectorSpace, PrimeField64, EF, F};

/// A running Fiat-Shamir transcript. Prover and verifier drive identical
/// copies; any divergence in absorbed data changes every later challenge.
#[derive(Clone)]
pub struct Transcript {
    hasher: blake3::Hasher,
    squeezes: u64,
}

impl Transcript {
    /// A transcript bound to a protocol domain separator.
    pub fn new(domain: &[u8]) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"zkml-transcript/v1");
        hasher.update(&(domain.len() as u64).to_le_bytes());
        hasher.update(domain);
        Transcript {
            hasher,
            squeezes: 0,
        }
    }

    /// Absorbs a labelled byte string.
    pub fn absorb_bytes(&mut self, label: &[u8], data: &[u8]) {
        self.hasher.update(&(label.len() as u64).to_le_bytes());
        self.hasher.update(label);
        self.hasher.update(&(data.len() as u64).to_le_bytes());
        if data.len() >= 1 << 17 {
            self.hasher.update_rayon(data);
        } else {
            self.hasher.update(data);
        }
    }

    /// Absorbs a labelled vector of base-field elements (canonical LE u64s).
    pub fn absorb_fs(&mut self, label: &[u8], xs: &[F]) {
        let mut buf = Vec::with_capacity(xs.len() * 8);
        for x in xs {
            buf.extend_from_slice(&x.as_canonical_u64().to_le_bytes());
        }
        self.absorb_bytes(label, &buf);
    }

    /// Absorbs a labelled vector of extension elements.
    pub fn absorb_efs(&mut self, label: &[u8], xs: &[EF]) {
        let mut buf = Vec::with_capacity(xs.len() * 16);
        for x in xs {
            for c in ef_coeffs(x) {
                buf.extend_from_slice(&c.to_le_bytes());
            }
        }
        self.absorb_bytes(label, &buf);
    }

    /// Squeezes a uniformly random extension element.
    pub fn challenge_ef(&mut self, label: &[u8]) -> EF {
        let mut h = self.hasher.clone();
        h.update(b"challenge");
        h.update(&(label.len() as u64).to_le_bytes());
        h.update(label);
        h.update(&self.squeezes.to_le_bytes());
        let mut xof = h.finalize_xof();
        let mut coords = [F::new(0); 2];
        let mut filled = 0;
        let mut word = [0u8; 8];
        while filled < 2 {
            xof.fill(&mut word);
            if let Some(x) = f_from_canonical(u64::from_le_bytes(word)) {
                coords[filled] = x;
                filled += 1;
            }
        }
        // Fold the squeeze into the state so later challenges depend on it.
        self.hasher.update(b"squeezed");
        self.hasher.update(&self.squeezes.to_le_bytes());
        self.squeezes += 1;
        EF::from_basis_coefficients_slice(&coords).expect("two coordinates")
    }

    /// Squeezes `n` extension elements.
    pub fn challenge_efs(&mut self, label: &[u8], n: usize) -> Vec<EF> {
        (0..n).map(|_| self.challenge_ef(label)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::PrimeCharacteristicRing;

    #[test]
    fn deterministic_and_message_sensitive() {
        let mut a = Transcript::new(b"t");
        let mut b = Transcript::new(b"t");
        a.absorb_fs(b"x", &[F::ONE, F::TWO]);
        b.absorb_fs(b"x", &[F::ONE, F::TWO]);
        assert_eq!(a.challenge_ef(b"c"), b.challenge_ef(b"c"));
        let mut c = Transcript::new(b"t");
        c.absorb_fs(b"x", &[F::ONE, F::ONE]);
        assert_ne!(a.clone().challenge_ef(b"c"), c.challenge_ef(b"c"));
        // Successive squeezes differ.
        assert_ne!(a.challenge_ef(b"c"), a.challenge_ef(b"c"));
    }

    #[test]
    fn length_prefix_separates_messages() {
        let mut a = Transcript::new(b"t");
        a.absorb_bytes(b"m", b"ab");
        a.absorb_bytes(b"m", b"c");
        let mut b = Transcript::new(b"t");
        b.absorb_bytes(b"m", b"a");
        b.absorb_bytes(b"m", b"bc");
        assert_ne!(a.challenge_ef(b"c"), b.challenge_ef(b"c"));
    }
}
