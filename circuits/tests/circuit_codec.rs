//! Circuit encoding: round trips keep the digest; hostile bytes are errors.

mod common;

use circuits::circuit::codec::CIRCUIT_VERSION;
use circuits::circuit::random::{layered, Wiring};
use circuits::field::{PrimeCharacteristicRing, F, MODULUS};
use circuits::gkr::{prove_with_progress, verify, Statement};
use circuits::{Circuit, DecodeError};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[test]
fn round_trip_keeps_digest_and_proofs() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut circuits = vec![common::fixture().circuit];
    circuits.push(layered(&mut rng, 3, 6, Wiring::Random, true));
    for c in circuits {
        let bytes = c.to_bytes();
        assert_eq!(bytes[0], CIRCUIT_VERSION);
        let back = Circuit::from_bytes(&bytes).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.digest(), c.digest());
        assert_eq!(back.to_bytes(), bytes);
    }
    // A decoded circuit proves, and the proof verifies against the original.
    let fx = common::fixture();
    let decoded = Circuit::from_bytes(&fx.circuit.to_bytes()).unwrap();
    let (public, hints) = common::fixture_witness([5, 6, 7, 8], 2);
    let mut steps = Vec::new();
    let (proof, outputs) = prove_with_progress(&decoded, &public, &hints, b"c", &mut |d, t| {
        steps.push((d, t))
    })
    .unwrap();
    let total = fx.circuit.layers().len() + fx.circuit.lookups().len();
    assert_eq!(steps, (1..=total).map(|d| (d, total)).collect::<Vec<_>>());
    let st = Statement {
        public_inputs: &public,
        public_outputs: &outputs,
        context: b"c",
    };
    verify(&fx.circuit, &st, &proof).unwrap();
}

#[test]
fn digest_changes_with_any_field() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let c = layered(&mut rng, 2, 3, Wiring::Local, true);
    let mut layers = c.layers().to_vec();
    layers[1].mul[0].coef += F::ONE;
    let c2 = Circuit::new(
        c.input_log_size(),
        0,
        c.num_hints() as u32,
        layers,
        c.num_public_outputs() as u32,
        vec![],
    )
    .unwrap();
    assert_ne!(c.digest(), c2.digest());
    let c3 = Circuit::new(
        c.input_log_size(),
        0,
        c.num_hints() as u32,
        c.layers().to_vec(),
        c.num_public_outputs() as u32 - 1,
        vec![],
    )
    .unwrap();
    assert_ne!(c.digest(), c3.digest());
}

#[test]
fn hostile_circuit_bytes_are_errors() {
    let bytes = common::fixture().circuit.to_bytes();
    for len in 0..bytes.len() {
        assert!(Circuit::from_bytes(&bytes[..len]).is_err(), "prefix {len}");
    }
    let mut extended = bytes.clone();
    extended.push(0);
    assert_eq!(
        Circuit::from_bytes(&extended),
        Err(DecodeError::TrailingBytes(1))
    );
    let mut v = bytes.clone();
    v[0] = CIRCUIT_VERSION + 1;
    assert_eq!(
        Circuit::from_bytes(&v),
        Err(DecodeError::Version(CIRCUIT_VERSION + 1))
    );
    assert!(matches!(
        Circuit::from_bytes_with_limit(&bytes, bytes.len() - 1),
        Err(DecodeError::TooLarge { .. })
    ));
}

#[test]
fn invalid_and_non_canonical_circuits_are_rejected() {
    // One layer of 2 outputs reading an input layer of 2: [hint, hint].
    let encode = |gates: &[(u32, u32, u64)]| {
        let mut b = vec![CIRCUIT_VERSION];
        for v in [1u32, 0, 2, 2] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.push(4); // one layer (compact 1)
        b.extend_from_slice(&1u32.to_le_bytes());
        b.push(0); // no mul gates
        b.push((gates.len() as u8) << 2);
        for &(out, x, coef) in gates {
            b.extend_from_slice(&out.to_le_bytes());
            b.extend_from_slice(&x.to_le_bytes());
            b.extend_from_slice(&coef.to_le_bytes());
        }
        b.push(0); // no const gates
        b.push(0); // no lookups
        b
    };
    let ok = Circuit::from_bytes(&encode(&[(0, 0, 1), (1, 1, 1)])).unwrap();
    assert_eq!(ok.num_gates(), 2);
    let err = |b: Vec<u8>| Circuit::from_bytes(&b).unwrap_err().to_string();
    assert!(err(encode(&[(1, 1, 1), (0, 0, 1)])).contains("canonical order"));
    assert!(err(encode(&[(0, 0, MODULUS), (1, 1, 1)])).contains("non-canonical"));
    assert!(err(encode(&[(0, 2, 1), (1, 1, 1)])).contains("invalid circuit"));
    assert!(err(encode(&[(0, 0, 1), (2, 1, 1)])).contains("invalid circuit"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_and_mutated_bytes_never_panic(
        junk in proptest::collection::vec(any::<u8>(), 0..256),
        pos in any::<prop::sample::Index>(),
        val in any::<u8>(),
    ) {
        let _ = Circuit::from_bytes(&junk);
        let mut b = common::fixture().circuit.to_bytes();
        let i = pos.index(b.len());
        b[i] = val;
        if let Ok(c) = Circuit::from_bytes(&b) {
            prop_assert_eq!(c.to_bytes(), b);
        }
    }
}
