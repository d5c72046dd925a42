//! Honest proofs verify: random layered circuits of many shapes, builder
//! circuits with every feature, and random range-check instances.

mod common;

use circuits::circuit::random::{layered, random_hints, Wiring};
use circuits::field::{PrimeCharacteristicRing, F};
use circuits::gkr::{prove, verify, Statement};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[test]
fn random_layered_circuits_prove_and_verify() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for depth in [1, 2, 5, 9] {
        for log_width in [1, 2, 5, 10, 13] {
            for wiring in [Wiring::Local, Wiring::Random] {
                let c = layered(&mut rng, depth, log_width, wiring, true);
                let hints = random_hints(&mut rng, c.num_hints());
                let (proof, outputs) = prove(&c, &[], &hints, b"ctx").unwrap();
                // The outputs are the circuit's real evaluation.
                let values = c.evaluate(&[], &hints).unwrap();
                assert_eq!(
                    &outputs[..],
                    &values.last().unwrap()[..c.num_public_outputs()]
                );
                let st = Statement {
                    public_inputs: &[],
                    public_outputs: &outputs,
                    context: b"ctx",
                };
                verify(&c, &st, &proof).unwrap_or_else(|e| {
                    panic!("depth {depth} width 2^{log_width} {wiring:?}: {e}")
                });
            }
        }
    }
}

#[test]
fn builder_fixture_proves_and_verifies() {
    let fx = common::fixture();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..20 {
        let x: [i64; 4] = std::array::from_fn(|_| rng.random_range(-1000..1000));
        let a = [2, 5, 7][rng.random_range(0..3)];
        let (public, hints) = common::fixture_witness(x, a);
        let (proof, outputs) = prove(&fx.circuit, &public, &hints, b"n").unwrap();
        let expected: Vec<F> = x
            .iter()
            .map(|&xi| F::from_i64(xi * a + 3))
            .chain([F::from_i64((x[0] + x[1]) * (x[2] - x[3]) * a)])
            .collect();
        assert_eq!(outputs, expected);
        let st = Statement {
            public_inputs: &public,
            public_outputs: &outputs,
            context: b"n",
        };
        verify(&fx.circuit, &st, &proof).unwrap();
    }
}

#[test]
fn random_range_checks_prove_and_verify() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for (n, bits) in [(1, 1), (3, 2), (100, 8), (1000, 4), (5000, 16), (70000, 12)] {
        let c = common::range_circuit(n, bits);
        let hints = common::random_in_range(&mut rng, n, bits);
        // Include both ends of the range.
        let mut hints = hints;
        hints[0] = F::from_u64((1 << bits) - 1);
        if n > 1 {
            hints[1] = F::ZERO;
        }
        let (proof, outputs) = prove(&c, &[], &hints, b"").unwrap();
        assert_eq!(outputs, vec![hints.iter().copied().sum::<F>()]);
        let st = Statement {
            public_inputs: &[],
            public_outputs: &outputs,
            context: b"",
        };
        verify(&c, &st, &proof).unwrap_or_else(|e| panic!("n={n} bits={bits}: {e}"));
    }
}
