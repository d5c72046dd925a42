//! Non-linear gadgets: rescale, ReLU, max and clip from hints and lookups.
//!
//! Every gadget rests on one decomposition. For a source wire `v` (read as a
//! signed integer), an addend `a` and a shift `s`, the prover supplies
//! `r = (v + a) mod 2^s` and three limbs of `u = floor((v + a) / 2^s) + 2^32`:
//! `u = l0 + 2^16 l1 + 2^32 b` with `l0, l1` in a 16-bit range table, `b` a
//! bit and `r` in an `s`-bit table. The circuit asserts
//! `v + a = r + 2^s (u - 2^32)`. Since `r + 2^s u < 2^(s+33)` is far below the
//! field size, the limbs are unique: the gadget cannot be cheated, only
//! failed. The quotient is then the linear wire `u - 2^32`, and its ReLU is
//! `b * (l0 + 2^16 l1)` (b is the sign bit: u >= 2^32 exactly when the
//! quotient is non-negative) — two product gates, no bit decomposition.

use crate::circuit::builder::{CircuitBuilder, HintRule, Wire};
use crate::field::{f_from_i64, PrimeCharacteristicRing, F};

/// Limb width of the shared range table.
pub const LIMB_BITS: u32 = 16;
const TOP: i64 = 1 << 32;

/// A decomposed quotient: `u = l0 + 2^16 l1 + 2^32 b`.
struct Limbs {
    l0: Wire,
    l1: Wire,
    b: Wire,
}

pub struct Gadgets<'a> {
    pub b: &'a mut CircuitBuilder,
    /// The model's scale bits `S`.
    pub s: u32,
}

impl Gadgets<'_> {
    /// Decomposes `floor((v + add) / 2^shift)` and constrains it.
    fn decompose(&mut self, v: Wire, add: i64, shift: u32) -> Limbs {
        let bits = |lo, bits| HintRule::Bits {
            src: v,
            add,
            shift,
            offset: TOP,
            lo,
            bits,
            width: 33,
        };
        let l0 = self.b.computed_hint(bits(0, LIMB_BITS));
        let l1 = self.b.computed_hint(bits(LIMB_BITS, LIMB_BITS));
        let b = self.b.computed_hint(bits(2 * LIMB_BITS, 1));
        self.b.range_check(&[l0, l1], LIMB_BITS);
        self.b.range_check(&[b], 1);
        let p = f_from_i64(1i64 << shift);
        let mut terms = vec![
            (v, F::ONE),
            (l0, -p),
            (l1, -p * F::from_u32(1 << LIMB_BITS)),
            (b, -p * f_from_i64(TOP)),
        ];
        // The remainder, in limbs of at most 16 bits so every range table
        // stays small: r = sum 2^lo r_lo.
        let mut lo = 0;
        while lo < shift {
            let bits = (shift - lo).min(LIMB_BITS);
            let r = self.b.computed_hint(HintRule::Rem {
                src: v,
                add,
                shift,
                lo,
                bits,
            });
            self.b.range_check(&[r], bits);
            terms.push((r, -f_from_i64(1i64 << lo)));
            lo += bits;
        }
        // v + add - r - 2^shift (u - 2^32) = 0
        let c = f_from_i64(add) + p * f_from_i64(TOP);
        let check = self.b.linear(&terms, c);
        self.b.assert_zero(check);
        Limbs { l0, l1, b }
    }

    fn value(&mut self, l: &Limbs) -> Wire {
        self.b.linear(
            &[
                (l.l0, F::ONE),
                (l.l1, F::from_u32(1 << LIMB_BITS)),
                (l.b, f_from_i64(TOP)),
            ],
            -f_from_i64(TOP),
        )
    }

    fn relu_of(&mut self, l: &Limbs) -> Wire {
        self.b.expr(
            &[],
            &[
                (l.b, l.l0, F::ONE),
                (l.b, l.l1, F::from_u32(1 << LIMB_BITS)),
            ],
            F::ZERO,
        )
    }

    /// `floor((acc + add + 2^(S-1)) / 2^S)`.
    pub fn rescale(&mut self, acc: Wire, add: i64) -> Wire {
        self.rescale_by(acc, add, self.s)
    }

    /// `floor((acc + add + 2^(shift-1)) / 2^shift)`.
    pub fn rescale_by(&mut self, acc: Wire, add: i64, shift: u32) -> Wire {
        let l = self.decompose(acc, add + (1 << (shift - 1)), shift);
        self.value(&l)
    }

    /// `max(0, floor((acc + add + 2^(S-1)) / 2^S))`.
    pub fn rescale_relu(&mut self, acc: Wire, add: i64) -> Wire {
        let l = self.decompose(acc, add + (1 << (self.s - 1)), self.s);
        self.relu_of(&l)
    }

    /// `max(0, v)` for `|v| < 2^32`.
    pub fn relu(&mut self, v: Wire) -> Wire {
        let l = self.decompose(v, 0, 0);
        self.relu_of(&l)
    }

    /// `max(0, v + add)`.
    pub fn relu_shifted(&mut self, v: Wire, add: i64) -> Wire {
        let l = self.decompose(v, add, 0);
        self.relu_of(&l)
    }

    /// `max(a, b) = b + relu(a - b)`.
    pub fn max2(&mut self, a: Wire, b: Wire) -> Wire {
        let d = self.b.sub(a, b);
        let r = self.relu(d);
        self.b.add(b, r)
    }

    /// Maximum of a non-empty list, as a balanced tree (depth log n).
    pub fn max(&mut self, ws: &[Wire]) -> Wire {
        let mut level = ws.to_vec();
        while level.len() > 1 {
            let mut next = Vec::with_capacity(level.len().div_ceil(2));
            for pair in level.chunks(2) {
                next.push(match *pair {
                    [a, b] => self.max2(a, b),
                    [a] => a,
                    _ => unreachable!("chunks of two"),
                });
            }
            level = next;
        }
        level[0]
    }

    /// `min(max(v, lo), hi) = lo + relu(v - lo) - relu(v - hi)`, `lo <= hi`.
    pub fn clip(&mut self, v: Wire, lo: i64, hi: i64) -> Wire {
        let a = self.relu_shifted(v, -lo);
        let b = self.relu_shifted(v, -hi);
        self.b
            .linear(&[(a, F::ONE), (b, F::NEG_ONE)], f_from_i64(lo))
    }

    /// `clip(rescale(acc), 0, 2^S)` as `relu(t) - relu(t - 2^S)`.
    pub fn rescale_unit_clip(&mut self, acc: Wire) -> Wire {
        let a = self.rescale_relu(acc, 0);
        let b = self.rescale_relu(acc, -(1i64 << (2 * self.s)));
        self.b.sub(a, b)
    }
}
