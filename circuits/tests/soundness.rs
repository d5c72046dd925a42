//! Soundness: altered proofs, false statements and wrong witnesses are
//! rejected, and proofs are bound to their statement context.

mod common;

use circuits::circuit::random::{layered, random_hints, Wiring};
use circuits::field::{Field, PrimeCharacteristicRing, EF, F};
use circuits::gkr::{prove, prove_unchecked, verify, Statement};
use circuits::proof::Proof;
use circuits::ProveError;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Every single-element alteration of `proof`: each field element, each
/// multiplicity index and count, one at a time.
fn single_element_mutations(proof: &Proof) -> Vec<(String, Proof)> {
    let mut out = Vec::new();
    let bump_f = |x: &mut F| *x += F::ONE;
    let bump_ef = |x: &mut EF| *x += EF::ONE;
    for i in 0..proof.hints.len() {
        let mut p = proof.clone();
        bump_f(&mut p.hints[i]);
        out.push((format!("hint {i}"), p));
    }
    for (l, layer) in proof.layers.iter().enumerate() {
        for r in 0..layer.phase1.len() {
            for k in 0..2 {
                let mut p = proof.clone();
                bump_ef(&mut p.layers[l].phase1[r][k]);
                out.push((format!("layer {l} phase1 round {r} coord {k}"), p));
            }
        }
        let mut p = proof.clone();
        bump_ef(&mut p.layers[l].vx);
        out.push((format!("layer {l} vx"), p));
        if let Some(p2) = &layer.phase2 {
            for r in 0..p2.rounds.len() {
                for k in 0..2 {
                    let mut p = proof.clone();
                    bump_ef(&mut p.layers[l].phase2.as_mut().unwrap().rounds[r][k]);
                    out.push((format!("layer {l} phase2 round {r} coord {k}"), p));
                }
            }
            let mut p = proof.clone();
            bump_ef(&mut p.layers[l].phase2.as_mut().unwrap().vy);
            out.push((format!("layer {l} vy"), p));
        }
    }
    for (k, lk) in proof.lookups.iter().enumerate() {
        for m in 0..lk.multiplicities.len() {
            let mut p = proof.clone();
            bump_f(&mut p.lookups[k].multiplicities[m].1);
            out.push((format!("lookup {k} multiplicity {m} count"), p));
            let mut p = proof.clone();
            p.lookups[k].multiplicities[m].0 ^= 1;
            out.push((format!("lookup {k} multiplicity {m} index"), p));
        }
        for i in 0..4 {
            let mut p = proof.clone();
            bump_ef(&mut p.lookups[k].top[i]);
            out.push((format!("lookup {k} top {i}"), p));
        }
        for (l, layer) in lk.layers.iter().enumerate() {
            for r in 0..layer.rounds.len() {
                for c in 0..3 {
                    let mut p = proof.clone();
                    bump_ef(&mut p.lookups[k].layers[l].rounds[r][c]);
                    out.push((format!("lookup {k} level {l} round {r} coord {c}"), p));
                }
            }
            for c in 0..4 {
                let mut p = proof.clone();
                bump_ef(&mut p.lookups[k].layers[l].children[c]);
                out.push((format!("lookup {k} level {l} child {c}"), p));
            }
        }
    }
    out
}

fn fixture_proof() -> (common::Fixture, Vec<F>, Vec<F>, Proof) {
    let fx = common::fixture();
    let (public, hints) = common::fixture_witness([3, -4, 10, 2], 5);
    let (proof, outputs) = prove(&fx.circuit, &public, &hints, b"nonce-1").unwrap();
    (fx, public, outputs, proof)
}

#[test]
fn every_single_element_change_is_rejected() {
    let (fx, public, outputs, proof) = fixture_proof();
    let st = Statement {
        public_inputs: &public,
        public_outputs: &outputs,
        context: b"nonce-1",
    };
    verify(&fx.circuit, &st, &proof).unwrap();
    let muts = single_element_mutations(&proof);
    // Every kind of element is covered, including several tree levels.
    for kind in [
        "hint", "phase1", "vx", "phase2", "vy", "count", "index", "top", "level 1", "child",
    ] {
        assert!(
            muts.iter().any(|(n, _)| n.contains(kind)),
            "no {kind} mutation"
        );
    }
    for (name, bad) in &muts {
        assert!(
            verify(&fx.circuit, &st, bad).is_err(),
            "altered {name} still verifies"
        );
    }

    // The same on a random layered circuit with constants and both wirings.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for wiring in [Wiring::Local, Wiring::Random] {
        let c = layered(&mut rng, 3, 4, wiring, true);
        let hints = random_hints(&mut rng, c.num_hints());
        let (proof, outputs) = prove(&c, &[], &hints, b"").unwrap();
        let st = Statement {
            public_inputs: &[],
            public_outputs: &outputs,
            context: b"",
        };
        for (name, bad) in single_element_mutations(&proof) {
            assert!(
                verify(&c, &st, &bad).is_err(),
                "{wiring:?}: altered {name} verifies"
            );
        }
    }
}

#[test]
fn every_byte_flip_is_rejected() {
    let (fx, public, outputs, proof) = fixture_proof();
    let st = Statement {
        public_inputs: &public,
        public_outputs: &outputs,
        context: b"nonce-1",
    };
    let bytes = proof.to_bytes();
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= bit;
            if let Ok(p) = Proof::from_bytes(&b) {
                assert_ne!(p, proof, "byte {i} flip decodes to the same proof");
                assert!(
                    verify(&fx.circuit, &st, &p).is_err(),
                    "byte {i} ^ {bit:#x} verifies"
                );
            }
        }
    }
}

#[test]
fn wrong_public_values_and_context_are_rejected() {
    let (fx, public, outputs, proof) = fixture_proof();
    let ok = Statement {
        public_inputs: &public,
        public_outputs: &outputs,
        context: b"nonce-1",
    };
    verify(&fx.circuit, &ok, &proof).unwrap();

    for i in 0..outputs.len() {
        let mut o = outputs.clone();
        o[i] += F::ONE;
        let st = Statement {
            public_outputs: &o,
            ..ok
        };
        assert!(verify(&fx.circuit, &st, &proof).is_err(), "output {i}");
    }
    for i in 0..public.len() {
        let mut p = public.clone();
        p[i] -= F::ONE;
        let st = Statement {
            public_inputs: &p,
            ..ok
        };
        assert!(verify(&fx.circuit, &st, &proof).is_err(), "input {i}");
    }
    let other = Statement {
        context: b"nonce-2",
        ..ok
    };
    assert!(verify(&fx.circuit, &other, &proof).is_err());
    let empty = Statement { context: b"", ..ok };
    assert!(verify(&fx.circuit, &empty, &proof).is_err());
}

#[test]
fn proof_for_another_circuit_is_rejected() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let c1 = layered(&mut rng, 2, 3, Wiring::Random, false);
    // Same shape, one coefficient changed.
    let mut layers = c1.layers().to_vec();
    layers[0].add[0].coef += F::ONE;
    let c2 = circuits::Circuit::new(
        c1.input_log_size(),
        0,
        c1.num_hints() as u32,
        layers,
        c1.num_public_outputs() as u32,
        vec![],
    )
    .unwrap();
    assert_ne!(c1.digest(), c2.digest());
    let hints = random_hints(&mut rng, c1.num_hints());
    let (proof, outputs) = prove(&c1, &[], &hints, b"").unwrap();
    let st = Statement {
        public_inputs: &[],
        public_outputs: &outputs,
        context: b"",
    };
    verify(&c1, &st, &proof).unwrap();
    assert!(verify(&c2, &st, &proof).is_err());
}

/// A proof made by the unchecked prover from a bad witness must not verify.
fn assert_cheat_rejected(circuit: &circuits::Circuit, public: &[F], hints: &[F], what: &str) {
    let (proof, outputs) = prove_unchecked(circuit, public, hints, b"n").unwrap();
    let st = Statement {
        public_inputs: public,
        public_outputs: &outputs,
        context: b"n",
    };
    assert!(verify(circuit, &st, &proof).is_err(), "{what} verifies");
}

#[test]
fn failed_assertion_is_refused_by_prover_and_rejected_by_verifier() {
    let fx = common::fixture();
    let (public, mut hints) = common::fixture_witness([3, -4, 10, 2], 5);
    hints[1] += F::ONE; // q off by one: z != 16 q + r
    let err = prove(&fx.circuit, &public, &hints, b"n").unwrap_err();
    assert!(
        matches!(err, ProveError::AssertionFailed { index: 0, .. }),
        "{err}"
    );

    assert_cheat_rejected(&fx.circuit, &public, &hints, "q off by one");
}

#[test]
fn out_of_range_values_are_refused_and_rejected() {
    let fx = common::fixture();
    let (public, honest) = common::fixture_witness([3, -4, 10, 2], 5);
    let z = honest[1] * F::from_u8(16) + honest[2];
    // Keep z = 16 q + r in the field, but with r outside [0, 16).
    for r in [F::from_u8(16), F::from_u8(200), F::NEG_ONE, -F::from_u8(15)] {
        let q = (z - r) * F::from_u8(16).inverse();
        let hints = vec![honest[0], q, r];
        let err = prove(&fx.circuit, &public, &hints, b"n").unwrap_err();
        assert!(
            matches!(err, ProveError::LookupValue { lookup: 0, .. }),
            "{err}"
        );
        assert_cheat_rejected(&fx.circuit, &public, &hints, &format!("r = {r}"));
    }
    // A set-lookup violation: a = 3 is not in {2, 5, 7}.
    let (public, hints) = common::fixture_witness([3, -4, 10, 2], 3);
    let err = prove(&fx.circuit, &public, &hints, b"n").unwrap_err();
    assert!(
        matches!(err, ProveError::LookupValue { lookup: 1, .. }),
        "{err}"
    );
    assert_cheat_rejected(&fx.circuit, &public, &hints, "a = 3");
}

#[test]
fn large_range_check_with_one_bad_value_is_rejected() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let n = 4000;
    let c = common::range_circuit(n, 16);
    let mut hints = common::random_in_range(&mut rng, n, 16);
    hints[1234] = F::from_u64(1 << 16);
    assert!(prove(&c, &[], &hints, b"").is_err());
    assert_cheat_rejected(&c, &[], &hints, "2^16 in a 16-bit range check");
}

#[test]
fn wrong_witness_in_random_circuit_cannot_claim_honest_outputs() {
    // A prover that evaluates on other hints but claims the honest outputs.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let c = layered(&mut rng, 4, 6, Wiring::Random, true);
    let hints = random_hints(&mut rng, c.num_hints());
    let (_, honest_outputs) = prove(&c, &[], &hints, b"").unwrap();
    let mut other = hints.clone();
    other[7] += F::ONE;
    let (proof, _) = prove(&c, &[], &other, b"").unwrap();
    let st = Statement {
        public_inputs: &[],
        public_outputs: &honest_outputs,
        context: b"",
    };
    assert!(verify(&c, &st, &proof).is_err());
}
