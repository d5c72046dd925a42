//! Shared fixtures for the circuits integration tests.
#![allow(dead_code)]

use circuits::circuit::builder::CircuitBuilder;
use circuits::circuit::Circuit;
use circuits::field::{PrimeCharacteristicRing, F};
use rand::Rng;

/// A builder circuit that exercises every feature: public inputs, hints,
/// mul/add/const gates across several depths (so relays are needed), public
/// outputs, assertions, a range check and a set lookup.
///
/// Statement: for public `x` (4 values) and hints `a`, `q`, `r`:
/// outputs `y_i = x_i * a + 3`, `z = (x_0 + x_1) * (x_2 - x_3) * a`,
/// asserts `z_scaled = 16 q + r` with `r` in [0, 16) and `a` in {2, 5, 7}.
pub struct Fixture {
    pub circuit: Circuit,
}

pub fn fixture() -> Fixture {
    let mut b = CircuitBuilder::new();
    let x: Vec<_> = (0..4).map(|_| b.public_input()).collect();
    let a = b.hint();
    let q = b.hint();
    let r = b.hint();
    for &xi in &x {
        let y = b.expr(&[], &[(xi, a, F::ONE)], F::from_u8(3));
        b.output(y);
    }
    let s = b.add(x[0], x[1]);
    let d = b.sub(x[2], x[3]);
    let sd = b.mul(s, d);
    let z = b.mul(sd, a);
    b.output(z);
    // z = 16 q + r, checked at depth 3 with q and r relayed from the input.
    let rhs = b.linear(&[(q, F::from_u8(16)), (r, F::ONE)], F::ZERO);
    b.assert_equal(z, rhs);
    b.range_check(&[r], 4);
    b.lookup(&[a], vec![F::from_u8(2), F::from_u8(5), F::from_u8(7)]);
    Fixture {
        circuit: b.build().expect("fixture builds"),
    }
}

/// Honest witness for [`fixture`] with public inputs `x`.
pub fn fixture_witness(x: [i64; 4], a: i64) -> (Vec<F>, Vec<F>) {
    let z = (x[0] + x[1]) * (x[2] - x[3]) * a;
    let q = z.div_euclid(16);
    let r = z.rem_euclid(16);
    let public = x.iter().map(|&v| F::from_i64(v)).collect();
    let hints = vec![F::from_i64(a), F::from_i64(q), F::from_i64(r)];
    (public, hints)
}

/// A random range-check circuit: `n` hints in `[0, 2^bits)`, output their sum.
pub fn range_circuit(n: usize, bits: u32) -> Circuit {
    let mut b = CircuitBuilder::new();
    let hs = b.hints(n);
    let terms: Vec<_> = hs.iter().map(|&h| (h, F::ONE)).collect();
    let s = b.linear(&terms, F::ZERO);
    b.output(s);
    b.range_check(&hs, bits);
    b.build().expect("range circuit builds")
}

pub fn random_in_range(rng: &mut impl Rng, n: usize, bits: u32) -> Vec<F> {
    (0..n)
        .map(|_| F::from_u64(rng.random_range(0..1u64 << bits)))
        .collect()
}
