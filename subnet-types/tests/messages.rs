//! Round trips and hostile input for the wire messages, with real GKR proofs
//! inside the response.

use circuits::circuit::builder::CircuitBuilder;
use circuits::field::{PrimeCharacteristicRing, F};
use circuits::model::QTensor;
use circuits::zkml::SliceProof;
use proptest::prelude::*;
use subnet_types::{Challenge, ChallengeResponse, MessageError, PROTOCOL_VERSION};

/// A real proof of a small circuit (a * b with range-checked inputs), so the
/// response carries proof bytes the circuits decoder actually accepts.
fn real_slice_proof(slice: u32, a: u8, b: u8) -> SliceProof {
    let mut builder = CircuitBuilder::new();
    let x = builder.hint();
    let y = builder.hint();
    let prod = builder.mul(x, y);
    builder.output(prod);
    builder.range_check(&[x, y], 8);
    let circuit = builder.build().unwrap();
    let (proof, _) = circuits::prove(&circuit, &[], &[F::from_u8(a), F::from_u8(b)], b"n").unwrap();
    SliceProof {
        slice,
        output: QTensor::new(vec![1], 0, vec![i64::from(a) * i64::from(b)]).unwrap(),
        proof,
    }
}

fn response() -> ChallengeResponse {
    ChallengeResponse {
        proofs: vec![real_slice_proof(0, 3, 4), real_slice_proof(1, 12, 5)],
        prove_time_ms: 1234,
        peak_memory_bytes: 56 << 20,
    }
}

fn challenge(values: Vec<i64>) -> Challenge {
    Challenge {
        protocol_version: PROTOCOL_VERSION,
        model_id: [3; 32],
        slices: vec![0, 1],
        input: QTensor::new(vec![values.len()], 12, values).unwrap(),
        nonce: [4; 32],
        deadline_ms: 42,
    }
}

#[test]
fn response_with_real_proofs_round_trips() {
    let r = response();
    let bytes = r.to_bytes();
    let back = ChallengeResponse::from_bytes(&bytes).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.output().unwrap().values, vec![60]);
}

#[test]
fn every_truncation_of_a_response_is_an_error() {
    let bytes = response().to_bytes();
    for len in 0..bytes.len() {
        assert!(
            ChallengeResponse::from_bytes(&bytes[..len]).is_err(),
            "len {len}"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(
        ChallengeResponse::from_bytes(&long),
        Err(MessageError::TrailingBytes(1))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = Challenge::from_bytes(&bytes);
        let _ = ChallengeResponse::from_bytes(&bytes);
    }

    #[test]
    fn mutated_responses_never_panic(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = response().to_bytes();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        // Either still a valid response (a byte in an unchecked field) or an
        // error; never a panic.
        let _ = ChallengeResponse::from_bytes(&bytes);
    }

    #[test]
    fn challenges_round_trip(values in proptest::collection::vec(any::<i64>(), 1..64),
                             cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let c = challenge(values);
        let bytes = c.to_bytes();
        prop_assert_eq!(Challenge::from_bytes(&bytes).unwrap(), c);
        let mut mutated = bytes.clone();
        let i = cut.index(mutated.len());
        mutated[i] = byte;
        let _ = Challenge::from_bytes(&mutated);
        prop_assert!(Challenge::from_bytes(&bytes[..i]).is_err());
    }
}
