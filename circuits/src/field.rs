//! Field choice: witness values live in Goldilocks (p = 2^64 - 2^32 + 1), and
//! every verifier challenge is drawn from its quadratic extension (~2^128
//! elements), so that each random check has ~128-bit soundness even though the
//! base field has only 64 bits.

pub use p3_field::{
    BasedVectorSpace, ExtensionField, Field, PrimeCharacteristicRing, PrimeField64,
};

/// The base field: witness values, gate coefficients, public inputs/outputs.
pub type F = p3_goldilocks::Goldilocks;
/// The challenge field: Goldilocks[X] / (X^2 - 7).
pub type EF = p3_field::extension::BinomialExtensionField<F, 2>;

/// The Goldilocks modulus.
pub const MODULUS: u64 = 0xFFFF_FFFF_0000_0001;

/// A base-field element from its canonical representative, or `None` when
/// `v >= p` (non-canonical encodings are rejected everywhere we decode).
#[inline]
pub fn f_from_canonical(v: u64) -> Option<F> {
    (v < MODULUS).then(|| F::new(v))
}

/// Embeds a signed integer (fixed-point values are signed).
#[inline]
pub fn f_from_i64(v: i64) -> F {
    if v >= 0 {
        F::new(v as u64)
    } else {
        -F::new(v.unsigned_abs())
    }
}

/// The signed integer represented by `x`, taking representatives in
/// (-p/2, p/2]. Used to read quantized values back out of the field.
#[inline]
pub fn f_to_i64(x: F) -> i64 {
    let v = x.as_canonical_u64();
    if v > MODULUS / 2 {
        -((MODULUS - v) as i64)
    } else {
        v as i64
    }
}

/// The two canonical base coordinates of an extension element.
#[inline]
pub fn ef_coeffs(x: &EF) -> [u64; 2] {
    let c: &[F] = x.as_basis_coefficients_slice();
    [c[0].as_canonical_u64(), c[1].as_canonical_u64()]
}

/// An extension element from canonical coordinates, or `None` if either is
/// non-canonical.
#[inline]
pub fn ef_from_coeffs(c: [u64; 2]) -> Option<EF> {
    let a = f_from_canonical(c[0])?;
    let b = f_from_canonical(c[1])?;
    EF::from_basis_coefficients_slice(&[a, b])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_round_trip() {
        for v in [0i64, 1, -1, 12345, -98765, i32::MAX as i64, i32::MIN as i64] {
            assert_eq!(f_to_i64(f_from_i64(v)), v);
        }
        assert_eq!(f_from_i64(-3) + F::new(3), F::ZERO);
    }

    #[test]
    fn canonical_checks() {
        assert!(f_from_canonical(MODULUS).is_none());
        assert!(f_from_canonical(u64::MAX).is_none());
        assert_eq!(f_from_canonical(MODULUS - 1), Some(-F::ONE));
        let x = ef_from_coeffs([5, 9]).unwrap();
        assert_eq!(ef_coeffs(&x), [5, 9]);
        assert!(ef_from_coeffs([MODULUS, 0]).is_none());
    }
}
