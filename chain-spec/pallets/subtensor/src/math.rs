//! Fixed-point building blocks of Yuma consensus (I32F32, as subtensor). Kept
//! free of storage so each step can be unit-tested on hand-computed numbers.

use alloc::vec::Vec;
use substrate_fixed::types::{I32F32, I64F64};

pub fn zero() -> I32F32 {
    I32F32::from_num(0)
}

pub fn one() -> I32F32 {
    I32F32::from_num(1)
}

/// `x / 65535`: the chain's u16 encoding of a proportion.
pub fn u16_to_fixed(x: u16) -> I32F32 {
    I32F32::from_num(x) / I32F32::from_num(u16::MAX)
}

/// Inverse of [`u16_to_fixed`], clamped to [0, 1] and rounded to nearest.
pub fn fixed_to_u16(x: I32F32) -> u16 {
    let clamped = x.max(zero()).min(one());
    (clamped * I32F32::from_num(u16::MAX))
        .round()
        .saturating_to_num::<u16>()
}

/// Normalizes raw u64 amounts (stake in rao can exceed I32F32's integer range,
/// so the sum is taken in I64F64).
pub fn normalize_u64(values: &[u64]) -> Vec<I32F32> {
    let total: I64F64 = values.iter().fold(I64F64::from_num(0), |acc, &v| {
        acc.saturating_add(I64F64::from_num(v))
    });
    if total == I64F64::from_num(0) {
        return values.iter().map(|_| zero()).collect();
    }
    values
        .iter()
        .map(|&v| I32F32::saturating_from_num(I64F64::from_num(v) / total))
        .collect()
}

/// Scales `v` in place to sum to 1; an all-zero vector stays zero.
pub fn normalize(v: &mut [I32F32]) {
    let total = v.iter().fold(zero(), |acc, x| acc.saturating_add(*x));
    if total > zero() {
        v.iter_mut().for_each(|x| *x /= total);
    }
}

/// Normalizes every row of `m` to sum to 1.
pub fn normalize_rows(m: &mut [Vec<I32F32>]) {
    m.iter_mut().for_each(|row| normalize(row));
}

/// Normalizes every column of `m` (n rows of equal length) to sum to 1.
pub fn normalize_cols(m: &mut [Vec<I32F32>]) {
    let cols = m.first().map_or(0, |r| r.len());
    for j in 0..cols {
        let total = m.iter().fold(zero(), |acc, r| acc.saturating_add(r[j]));
        if total > zero() {
            m.iter_mut().for_each(|r| r[j] /= total);
        }
    }
}

/// `Σ_i v_i · m_ij` for each column j.
pub fn weighted_col_sums(v: &[I32F32], m: &[Vec<I32F32>]) -> Vec<I32F32> {
    let cols = m.first().map_or(0, |r| r.len());
    (0..cols)
        .map(|j| {
            v.iter().zip(m).fold(zero(), |acc, (s, r)| {
                acc.saturating_add(s.saturating_mul(r[j]))
            })
        })
        .collect()
}

/// Row sums of `m`.
pub fn row_sums(m: &[Vec<I32F32>]) -> Vec<I32F32> {
    m.iter()
        .map(|r| r.iter().fold(zero(), |acc, x| acc.saturating_add(*x)))
        .collect()
}

/// Marks the `k` largest non-zero entries; ties keep the lower index first.
pub fn is_topk_nonzero(v: &[I32F32], k: usize) -> Vec<bool> {
    let mut order: Vec<usize> = (0..v.len()).filter(|&i| v[i] > zero()).collect();
    order.sort_by(|&a, &b| v[b].cmp(&v[a]).then(a.cmp(&b)));
    let mut out = alloc::vec![false; v.len()];
    order.into_iter().take(k).for_each(|i| out[i] = true);
    out
}

/// Stake-weighted kappa-quantile of each column: the largest weight value
/// `c` such that validators weighting the column at least `c` hold more than
/// `kappa` of the total stake. With kappa = 0.5 this is the weight a stake
/// majority agrees on.
pub fn weighted_quantile_cols(stake: &[I32F32], m: &[Vec<I32F32>], kappa: I32F32) -> Vec<I32F32> {
    let cols = m.first().map_or(0, |r| r.len());
    let total = stake.iter().fold(zero(), |acc, s| acc.saturating_add(*s));
    let threshold = total.saturating_mul(kappa);
    (0..cols)
        .map(|j| {
            let mut best = zero();
            for r in m {
                let c = r[j];
                if c <= best {
                    continue;
                }
                let support = stake
                    .iter()
                    .zip(m)
                    .filter(|(_, r2)| r2[j] >= c)
                    .fold(zero(), |acc, (s, _)| acc.saturating_add(*s));
                if support > threshold {
                    best = c;
                }
            }
            best
        })
        .collect()
}

/// Element-wise `min(m_ij, c_j)`.
pub fn clip_cols(m: &[Vec<I32F32>], c: &[I32F32]) -> Vec<Vec<I32F32>> {
    m.iter()
        .map(|r| r.iter().zip(c).map(|(w, cap)| (*w).min(*cap)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> I32F32 {
        I32F32::from_num(x)
    }

    fn close(a: I32F32, b: f64) -> bool {
        (a.to_num::<f64>() - b).abs() < 1e-6
    }

    #[test]
    fn u16_round_trip_and_clamping() {
        assert_eq!(fixed_to_u16(u16_to_fixed(12_345)), 12_345);
        assert_eq!(fixed_to_u16(f(1.5)), u16::MAX);
        assert_eq!(fixed_to_u16(f(-0.5)), 0);
        assert_eq!(fixed_to_u16(f(0.5)), 32_768);
    }

    #[test]
    fn normalize_u64_handles_rao_beyond_i32_range() {
        let v = normalize_u64(&[3_000_000_000_000, 1_000_000_000_000]);
        assert!(close(v[0], 0.75) && close(v[1], 0.25));
        assert_eq!(normalize_u64(&[0, 0]), vec![zero(), zero()]);
    }

    #[test]
    fn topk_skips_zero_and_prefers_lower_index_on_ties() {
        let v = [f(5.0), f(1.0), f(3.0), f(0.0)];
        assert_eq!(is_topk_nonzero(&v, 2), vec![true, false, true, false]);
        assert_eq!(is_topk_nonzero(&v, 10), vec![true, true, true, false]);
        let ties = [f(1.0), f(1.0), f(1.0)];
        assert_eq!(is_topk_nonzero(&ties, 2), vec![true, true, false]);
    }

    #[test]
    fn quantile_is_the_weight_a_stake_majority_supports() {
        // Column 0: 0.9 backed by 0.2 stake, 0.5 by 0.5 more (0.7 total) -> 0.5.
        let stake = [f(0.2), f(0.5), f(0.3)];
        let m = vec![vec![f(0.9)], vec![f(0.5)], vec![f(0.1)]];
        let c = weighted_quantile_cols(&stake, &m, f(0.5));
        assert!(close(c[0], 0.5));
        // A higher kappa demands wider support: 0.1 (backed by everyone).
        let c = weighted_quantile_cols(&stake, &m, f(0.8));
        assert!(close(c[0], 0.1));
    }

    #[test]
    fn normalize_cols_and_weighted_sums() {
        let mut m = vec![vec![f(1.0), f(0.0)], vec![f(3.0), f(2.0)]];
        normalize_cols(&mut m);
        assert!(close(m[0][0], 0.25) && close(m[1][0], 0.75) && close(m[1][1], 1.0));
        let s = weighted_col_sums(&[f(0.5), f(0.5)], &m);
        assert!(close(s[0], 0.5) && close(s[1], 0.5));
        assert!(close(row_sums(&m)[1], 1.75));
    }
}
