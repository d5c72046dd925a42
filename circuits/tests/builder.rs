//! The builder lays out arbitrary expression DAGs correctly (relays, dead
//! code, mixed depths), and structural errors are reported, not panics.

use circuits::circuit::builder::{CircuitBuilder, Wire};
use circuits::circuit::{AddGate, Circuit, Layer, Lookup, MulGate, Table};
use circuits::field::{PrimeCharacteristicRing, F};
use circuits::gkr::{prove, verify, Statement};
use circuits::CircuitError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Builds a random DAG, tracking each wire's value directly, and returns the
/// circuit, its inputs and the expected public outputs.
fn random_dag(rng: &mut ChaCha8Rng, ops: usize) -> (Circuit, Vec<F>, Vec<F>, Vec<F>) {
    let mut b = CircuitBuilder::new();
    let mut wires: Vec<(Wire, F)> = Vec::new();
    let mut public = Vec::new();
    let mut hints = Vec::new();
    for _ in 0..rng.random_range(1..6) {
        let v = F::from_u64(rng.random_range(0..1000));
        wires.push((b.public_input(), v));
        public.push(v);
    }
    for _ in 0..rng.random_range(1..6) {
        let v = F::from_u64(rng.random_range(0..1000));
        wires.push((b.hint(), v));
        hints.push(v);
    }
    let mut outputs = Vec::new();
    for _ in 0..ops {
        // Prefer recent wires so the DAG gets deep, but reach back too.
        let pick = |rng: &mut ChaCha8Rng, wires: &Vec<(Wire, F)>| {
            let n = wires.len();
            if rng.random_bool(0.7) {
                wires[n - 1 - rng.random_range(0..n.min(4))]
            } else {
                wires[rng.random_range(0..n)]
            }
        };
        let (a, va) = pick(rng, &wires);
        let (c, vc) = pick(rng, &wires);
        let k = F::from_i64(rng.random_range(-5..=5));
        let (w, v) = match rng.random_range(0..6) {
            0 => (b.add(a, c), va + vc),
            1 => (b.sub(a, c), va - vc),
            2 => (b.mul(a, c), va * vc),
            3 => (b.scale(a, k), va * k),
            4 => (b.add_const(a, k), va + k),
            _ => {
                let (d, vd) = pick(rng, &wires);
                let w = b.expr(&[(a, k), (d, F::TWO)], &[(a, c, F::NEG_ONE)], F::ONE);
                (w, va * k + vd * F::TWO - va * vc + F::ONE)
            }
        };
        wires.push((w, v));
        match rng.random_range(0..10) {
            0 => {
                b.output(w);
                outputs.push(v);
            }
            1 => {
                // An assertion that holds: w - v == 0.
                let z = b.add_const(w, -v);
                b.assert_zero(z);
            }
            _ => {}
        }
    }
    let (last, vlast) = *wires.last().unwrap();
    b.output(last);
    outputs.push(vlast);
    (b.build().unwrap(), public, hints, outputs)
}

#[test]
fn random_dags_match_direct_evaluation_and_prove() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    for ops in [1, 2, 5, 20, 60, 200] {
        for _ in 0..5 {
            let (c, public, hints, expected) = random_dag(&mut rng, ops);
            let (proof, outputs) = prove(&c, &public, &hints, b"dag").unwrap();
            assert_eq!(outputs, expected, "ops {ops}");
            let st = Statement {
                public_inputs: &public,
                public_outputs: &outputs,
                context: b"dag",
            };
            verify(&c, &st, &proof).unwrap();
        }
    }
}

#[test]
fn relays_carry_shallow_values_to_deep_uses() {
    let mut b = CircuitBuilder::new();
    let x = b.public_input();
    let mut acc = x;
    for _ in 0..6 {
        acc = b.mul(acc, acc);
    }
    // x is used again at depth 7: it must be relayed through six layers.
    let y = b.add(acc, x);
    b.output(y);
    let c = b.build().unwrap();
    assert_eq!(c.layers().len(), 8); // 7 expression layers + output layer
    let relays: usize = c.layers().iter().map(|l| l.add.len()).sum();
    assert!(relays >= 6, "{relays} add gates");
    let (_, outputs) = prove(&c, &[F::TWO], &[], b"").unwrap();
    // x = 2 squared six times is 2^64; plus x.
    assert_eq!(outputs, vec![F::TWO.exp_u64(64) + F::TWO]);
}

#[test]
fn dead_expressions_are_dropped() {
    let mut b = CircuitBuilder::new();
    let x = b.public_input();
    let used = b.add_const(x, F::ONE);
    let mut dead = x;
    for _ in 0..10 {
        dead = b.mul(dead, dead);
    }
    b.output(used);
    let c = b.build().unwrap();
    assert_eq!(c.layers().len(), 2);
    assert_eq!(c.num_gates(), 3); // add + const, then the output relay
}

#[test]
fn builder_errors() {
    let b = CircuitBuilder::new();
    assert!(matches!(b.build(), Err(CircuitError::Builder(_))));

    let mut b = CircuitBuilder::new();
    let x = b.public_input();
    let y = b.add(x, x);
    b.output(y);
    b.range_check(&[y], 8);
    let err = b.build().unwrap_err();
    assert!(err.to_string().contains("not a hint"), "{err}");

    let mut b = CircuitBuilder::new();
    let h = b.hint();
    b.output(h);
    b.range_check(&[h], 0);
    assert!(matches!(b.build(), Err(CircuitError::Lookup { .. })));

    let mut b = CircuitBuilder::new();
    let h = b.hint();
    b.output(h);
    b.lookup(&[h], vec![F::ONE, F::TWO, F::ONE]);
    let err = b.build().unwrap_err();
    assert!(err.to_string().contains("distinct"), "{err}");
}

#[test]
fn invalid_circuits_are_rejected() {
    let layer = |log_size, x| Layer {
        log_size,
        mul: vec![MulGate {
            out: 0,
            x,
            y: 0,
            coef: F::ONE,
        }],
        add: vec![AddGate {
            out: 1,
            x: 0,
            coef: F::ONE,
        }],
        consts: vec![],
    };
    assert!(Circuit::new(1, 1, 1, vec![layer(1, 1)], 1, vec![]).is_ok());
    // Input index past the input layer.
    assert!(matches!(
        Circuit::new(1, 1, 1, vec![layer(1, 2)], 1, vec![]),
        Err(CircuitError::GateIndex { kind: "mul", .. })
    ));
    // Output index past the layer.
    let mut l = layer(1, 0);
    l.add[0].out = 2;
    assert!(matches!(
        Circuit::new(1, 1, 1, vec![l], 1, vec![]),
        Err(CircuitError::GateIndex { kind: "add", .. })
    ));
    assert!(matches!(
        Circuit::new(1, 2, 1, vec![layer(1, 0)], 1, vec![]),
        Err(CircuitError::InputOverflow { .. })
    ));
    assert!(matches!(
        Circuit::new(1, 1, 1, vec![], 1, vec![]),
        Err(CircuitError::NoLayers)
    ));
    assert!(matches!(
        Circuit::new(1, 1, 1, vec![layer(0, 0)], 1, vec![]),
        Err(CircuitError::LayerSize { .. })
    ));
    assert!(matches!(
        Circuit::new(40, 1, 1, vec![layer(1, 0)], 1, vec![]),
        Err(CircuitError::InputSize { .. })
    ));
    assert!(matches!(
        Circuit::new(1, 1, 1, vec![layer(1, 0)], 3, vec![]),
        Err(CircuitError::OutputOverflow { .. })
    ));
    let bad_lookup = Lookup {
        hints: vec![1],
        table: Table::Range { bits: 4 },
    };
    assert!(matches!(
        Circuit::new(1, 1, 1, vec![layer(1, 0)], 1, vec![bad_lookup]),
        Err(CircuitError::Lookup { .. })
    ));
}

#[test]
fn digest_is_canonical_in_gate_order() {
    let l1 = Layer {
        log_size: 1,
        mul: vec![],
        add: vec![
            AddGate {
                out: 1,
                x: 0,
                coef: F::ONE,
            },
            AddGate {
                out: 0,
                x: 1,
                coef: F::TWO,
            },
        ],
        consts: vec![],
    };
    let mut l2 = l1.clone();
    l2.add.reverse();
    let c1 = Circuit::new(1, 2, 0, vec![l1], 2, vec![]).unwrap();
    let c2 = Circuit::new(1, 2, 0, vec![l2], 2, vec![]).unwrap();
    assert_eq!(c1.digest(), c2.digest());
    assert_eq!(c1, c2);
}
