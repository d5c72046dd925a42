//! Random circuits for tests and benchmarks.
//!
//! `layered` builds a circuit directly (no builder) with an exact gate count
//! per layer, half mul and half add, with either local wiring (inputs near
//! the output index, like convolutions) or uniformly random wiring.

use rand::Rng;

use crate::circuit::{AddGate, Circuit, ConstGate, Layer, MulGate};
use crate::field::{PrimeCharacteristicRing, F};

/// How gate inputs are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wiring {
    /// Inputs within a small window of the output index.
    Local,
    /// Inputs uniform over the previous layer.
    Random,
}

impl std::str::FromStr for Wiring {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "local" => Ok(Wiring::Local),
            "random" => Ok(Wiring::Random),
            _ => Err(format!("unknown wiring {s:?} (local|random)")),
        }
    }
}

/// A random field coefficient that is small most of the time (like
/// quantized weights) and occasionally a full field element.
fn coef(rng: &mut impl Rng) -> F {
    if rng.random_bool(0.1) {
        F::from_u64(rng.random::<u64>() >> 1)
    } else {
        F::from_i64(rng.random_range(-8..=8))
    }
}

/// `depth` layers of `2^log_width` gates each (alternating mul and add
/// outputs), over an input layer of `2^log_width` hints. All outputs are
/// public. With `with_consts`, some outputs also get a constant gate.
pub fn layered(
    rng: &mut impl Rng,
    depth: usize,
    log_width: u32,
    wiring: Wiring,
    with_consts: bool,
) -> Circuit {
    let width = 1u32 << log_width;
    let pick = |rng: &mut dyn rand::RngCore, o: u32| -> u32 {
        match wiring {
            Wiring::Local => {
                let off = rng.random_range(0..16u32);
                (o & !15) + off % width.min(16)
            }
            Wiring::Random => rng.random_range(0..width),
        }
    };
    let layers = (0..depth)
        .map(|_| {
            let mut layer = Layer {
                log_size: log_width,
                ..Layer::default()
            };
            for o in 0..width {
                if o % 2 == 0 {
                    let x = pick(rng, o);
                    let y = pick(rng, o);
                    layer.mul.push(MulGate {
                        out: o,
                        x,
                        y,
                        coef: coef(rng),
                    });
                } else {
                    let x = pick(rng, o);
                    layer.add.push(AddGate {
                        out: o,
                        x,
                        coef: coef(rng),
                    });
                }
                if with_consts && rng.random_bool(0.05) {
                    layer.consts.push(ConstGate {
                        out: o,
                        coef: coef(rng),
                    });
                }
            }
            layer
        })
        .collect();
    Circuit::new(log_width, 0, width, layers, width, Vec::new()).expect("valid by construction")
}

/// Random hint values for a circuit.
pub fn random_hints(rng: &mut impl Rng, n: usize) -> Vec<F> {
    (0..n)
        .map(|_| F::from_u64(rng.random::<u64>() >> 1))
        .collect()
}
