//! Proof encoding: round trips, and hostile bytes give errors, never panics.

mod common;

use circuits::field::{PrimeCharacteristicRing, F, MODULUS};
use circuits::gkr::prove;
use circuits::proof::{Proof, PROOF_VERSION};
use circuits::DecodeError;
use parity_scale_codec::{Compact, Encode};
use proptest::prelude::*;

fn sample_proof() -> Proof {
    let fx = common::fixture();
    let (public, hints) = common::fixture_witness([1, 2, 3, -4], 7);
    prove(&fx.circuit, &public, &hints, b"ctx").unwrap().0
}

#[test]
fn round_trip() {
    let proof = sample_proof();
    let bytes = proof.to_bytes();
    assert_eq!(bytes[0], PROOF_VERSION);
    assert_eq!(bytes.len(), proof.size_bytes());
    assert_eq!(Proof::from_bytes(&bytes).unwrap(), proof);
}

#[test]
fn truncations_and_extensions_are_errors() {
    let bytes = sample_proof().to_bytes();
    for len in 0..bytes.len() {
        assert!(
            Proof::from_bytes(&bytes[..len]).is_err(),
            "prefix of {len} bytes decodes"
        );
    }
    for extra in [&[0u8][..], &[1, 2, 3], &[0xff; 64]] {
        let mut b = bytes.clone();
        b.extend_from_slice(extra);
        assert_eq!(
            Proof::from_bytes(&b),
            Err(DecodeError::TrailingBytes(extra.len()))
        );
    }
}

#[test]
fn version_and_size_limits() {
    let mut bytes = sample_proof().to_bytes();
    let len = bytes.len();
    assert!(matches!(
        Proof::from_bytes_with_limit(&bytes, len - 1),
        Err(DecodeError::TooLarge { .. })
    ));
    bytes[0] = PROOF_VERSION + 1;
    assert_eq!(
        Proof::from_bytes(&bytes),
        Err(DecodeError::Version(PROOF_VERSION + 1))
    );
    assert!(Proof::from_bytes(&[]).is_err());
}

/// A proof holding one hint: `mode` 0 is a fixed 8-byte word, 1 a varint.
fn one_hint_proof(mode: u8, hint: &[u8]) -> Vec<u8> {
    let mut bytes = vec![PROOF_VERSION];
    Compact(1u32).encode_to(&mut bytes);
    bytes.push(mode);
    bytes.extend_from_slice(hint);
    Compact(0u32).encode_to(&mut bytes);
    Compact(0u32).encode_to(&mut bytes);
    bytes
}

/// Unsigned LEB128, written out here rather than borrowed from the crate.
fn leb128(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn malformed(bytes: &[u8], needle: &str) -> bool {
    matches!(Proof::from_bytes(bytes), Err(DecodeError::Malformed(m)) if m.contains(needle))
}

#[test]
fn non_canonical_field_elements_are_rejected() {
    // Small hints are zig-zag varints of the signed representative in
    // [-(p-1)/2, (p-1)/2]: -1 is 1, 3 is 6.
    let hints = |b: &[u8]| Proof::from_bytes(b).unwrap().hints;
    assert_eq!(hints(&one_hint_proof(1, &[1])), vec![-F::ONE]);
    assert_eq!(hints(&one_hint_proof(1, &[6])), vec![F::from_u64(3)]);
    // Zig-zag values p and p+1 would be +-(p+1)/2, aliases of other elements.
    for z in [MODULUS, MODULUS + 1, u64::MAX] {
        assert!(malformed(&one_hint_proof(1, &leb128(z)), "out of range"));
    }
    // An overlong varint is not a second spelling of 0.
    assert!(malformed(&one_hint_proof(1, &[0x80, 0x00]), "overlong"));
    // A large hint takes 10 bytes as a varint, so it must be a fixed word.
    assert!(malformed(
        &one_hint_proof(1, &leb128(MODULUS - 1)),
        "shortest encoding"
    ));
    let half = (MODULUS - 1) / 2;
    assert_eq!(
        hints(&one_hint_proof(0, &half.to_le_bytes())),
        vec![F::from_u64(half)]
    );
    // ... and a small one may not be a fixed word.
    assert!(malformed(
        &one_hint_proof(0, &1u64.to_le_bytes()),
        "shortest encoding"
    ));
    // A fixed word equal to p is a valid u64 but not a field element.
    assert!(malformed(
        &one_hint_proof(0, &MODULUS.to_le_bytes()),
        "non-canonical"
    ));
    assert!(malformed(&one_hint_proof(2, &[1]), "invalid field vector"));
}

#[test]
fn absurd_lengths_are_errors_without_allocation() {
    // Claims 2^30 - 1 hints with nothing behind them.
    let mut bytes = vec![PROOF_VERSION];
    Compact((1u32 << 30) - 1).encode_to(&mut bytes);
    assert!(matches!(
        Proof::from_bytes(&bytes),
        Err(DecodeError::Malformed(_))
    ));
    // A layer count far beyond the input.
    let mut bytes = vec![PROOF_VERSION];
    Compact(0u32).encode_to(&mut bytes);
    Compact(u32::MAX >> 2).encode_to(&mut bytes);
    bytes.extend_from_slice(&[0; 40]);
    assert!(Proof::from_bytes(&bytes).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Proof::from_bytes(&bytes);
        let mut versioned = vec![PROOF_VERSION];
        versioned.extend_from_slice(&bytes);
        let _ = Proof::from_bytes(&versioned);
    }

    #[test]
    fn mutated_proofs_never_panic_and_stay_canonical(
        pos in any::<prop::sample::Index>(),
        val in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = sample_proof().to_bytes();
        let mut b = bytes.clone();
        let i = pos.index(b.len());
        b[i] = val;
        b.truncate(cut.index(b.len() + 1).max(i + 1));
        if let Ok(p) = Proof::from_bytes(&b) {
            // Decoding is canonical: re-encoding gives back the same bytes.
            prop_assert_eq!(p.to_bytes(), b);
        }
    }
}
