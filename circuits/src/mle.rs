//! Dense multilinear extensions and eq-tables.
//!
//! Convention used everywhere in the crate: a point `r = (r_0, .., r_{n-1})`
//! binds bit `i` of a hypercube index to `r_i`, and sumchecks bind the *top*
//! variable first, so folding always pairs `i` with `i + half` (two contiguous
//! halves, which keeps memory access sequential).

use rayon::prelude::*;

use crate::field::{PrimeCharacteristicRing, EF, F};

/// Below this many elements the rayon split costs more than it saves.
pub(crate) const PAR_THRESHOLD: usize = 1 << 12;

/// `eq(r, i)` for every `i` in `{0,1}^n`, scaled by `scale`.
pub fn eq_table_scaled(r: &[EF], scale: EF) -> Vec<EF> {
    let mut table = Vec::new();
    eq_table_scaled_into(r, scale, &mut table);
    table
}

/// [`eq_table_scaled`] into a caller-owned buffer, so that provers can reuse
/// one allocation across layers instead of faulting in fresh pages.
pub fn eq_table_scaled_into(r: &[EF], scale: EF, table: &mut Vec<EF>) {
    let n = r.len();
    table.clear();
    table.resize(1 << n, EF::ZERO);
    table[0] = scale;
    for (k, &rk) in r.iter().enumerate() {
        let len = 1 << k;
        let (lo, hi) = table[..2 * len].split_at_mut(len);
        if len >= PAR_THRESHOLD {
            lo.par_iter_mut().zip(hi.par_iter_mut()).for_each(|(l, h)| {
                *h = *l * rk;
                *l -= *h;
            });
        } else {
            for (l, h) in lo.iter_mut().zip(hi.iter_mut()) {
                *h = *l * rk;
                *l -= *h;
            }
        }
    }
}

/// `eq(r, i)` for every `i` in `{0,1}^n`.
pub fn eq_table(r: &[EF]) -> Vec<EF> {
    eq_table_scaled(r, EF::ONE)
}

/// `eq(a, b) = prod_i (a_i b_i + (1 - a_i)(1 - b_i))`.
pub fn eq_eval(a: &[EF], b: &[EF]) -> EF {
    debug_assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(&x, &y)| x * y + (EF::ONE - x) * (EF::ONE - y))
        .product()
}

/// `sum_i a_i * b_i` for base-field `a` (shorter `a` means zero padding).
pub fn dot_base(a: &[F], b: &[EF]) -> EF {
    let n = a.len().min(b.len());
    if n >= PAR_THRESHOLD {
        a[..n]
            .par_iter()
            .zip(b[..n].par_iter())
            .map(|(&x, &y)| y * x)
            .sum()
    } else {
        a[..n].iter().zip(&b[..n]).map(|(&x, &y)| y * x).sum()
    }
}

/// Evaluates the multilinear extension of `values` (zero-padded to `2^n`,
/// `n = r.len()`) at `r`.
pub fn evaluate_base(values: &[F], r: &[EF]) -> EF {
    assert!(values.len() <= 1 << r.len(), "values exceed the hypercube");
    dot_base(values, &eq_table(r))
}

/// The smallest `n >= min_log` with `2^n >= len`.
pub fn log2_ceil(len: usize, min_log: u32) -> u32 {
    let mut n = min_log;
    while (1usize << n) < len {
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn rand_ef(rng: &mut ChaCha8Rng) -> EF {
        EF::from(F::new(rng.random::<u64>() >> 1)) * EF::from(F::new(3))
            + EF::from_basis_coefficients_slice(&[
                F::new(rng.random::<u32>() as u64),
                F::new(rng.random::<u32>() as u64),
            ])
            .unwrap()
    }

    use crate::field::BasedVectorSpace;

    #[test]
    fn eq_table_matches_pointwise_eq() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let r: Vec<EF> = (0..5).map(|_| rand_ef(&mut rng)).collect();
        let t = eq_table(&r);
        for (i, &ti) in t.iter().enumerate() {
            let bits: Vec<EF> = (0..5)
                .map(|b| if (i >> b) & 1 == 1 { EF::ONE } else { EF::ZERO })
                .collect();
            assert_eq!(ti, eq_eval(&r, &bits));
        }
        assert_eq!(t.iter().copied().sum::<EF>(), EF::ONE);
    }

    #[test]
    fn mle_agrees_on_hypercube_and_is_multilinear() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let vals: Vec<F> = (0..8).map(|_| F::new(rng.random::<u32>() as u64)).collect();
        for (i, &v) in vals.iter().enumerate() {
            let p: Vec<EF> = (0..3)
                .map(|b| if (i >> b) & 1 == 1 { EF::ONE } else { EF::ZERO })
                .collect();
            assert_eq!(evaluate_base(&vals, &p), EF::from(v));
        }
        // Linear in the top variable: f(r0, r1, t) = f(.,.,0) + t (f(.,.,1) - f(.,.,0)).
        let r0 = rand_ef(&mut rng);
        let r1 = rand_ef(&mut rng);
        let t = rand_ef(&mut rng);
        let f0 = evaluate_base(&vals, &[r0, r1, EF::ZERO]);
        let f1 = evaluate_base(&vals, &[r0, r1, EF::ONE]);
        assert_eq!(evaluate_base(&vals, &[r0, r1, t]), f0 + t * (f1 - f0));
    }
}
