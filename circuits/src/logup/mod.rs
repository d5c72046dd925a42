//! LogUp lookup argument, proved by GKR over a fractional-sum tree.
//!
//! To show that every checked hint `w_i` lies in table `T`, the prover
//! supplies multiplicities `m_j` and shows
//! `sum_i 1/(beta - w_i) - sum_j m_j/(beta - t_j) = 0`
//! for a random extension-field `beta`. The sum is a binary tree of fractions
//! `(p, q)` with `p/q = p_0/q_0 + p_1/q_1`; the prover sends the root's two
//! children and a GKR reduces the root check to one evaluation of the leaves,
//! which the verifier computes itself from the hints, the multiplicities and
//! the table's closed-form multilinear extension.
//!
//! Leaves: index `i + s * 2^(L-1)`; side `s = 0` holds the checked hints
//! (`p = 1`, `q = beta - w_i`, padded with copies of the table's first entry),
//! side `s = 1` the table (`p = -m_j`, `q = beta - t_j`, padded with `p = 0`,
//! `t = 0`). A tree node at level `j` has children `x` and `x + 2^j` at level
//! `j + 1`, so the new variable of each level is its top bit.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::circuit::{Lookup, Table};
use crate::error::{ProveError, VerifyError};
use crate::field::{PrimeCharacteristicRing, PrimeField64, EF, F};
use crate::mle::{dot_base, eq_eval, eq_table, log2_ceil, PAR_THRESHOLD};
use crate::proof::{FracLayerProof, LookupProof};
use crate::sumcheck::{fold_in_place, verify_rounds, CHALLENGE_LABEL, ROUND_LABEL};
use crate::transcript::Transcript;

/// Entries per side of the leaf layer: a power of two covering both the
/// checked hints and the table.
fn leaf_half(lk: &Lookup) -> usize {
    1 << log2_ceil(lk.hints.len().max(lk.table.len()), 0)
}

/// The checked hint values, padded to `leaf_half` with the table's first
/// entry (so padding is itself a table member and needs no special case).
fn padded_witness(lk: &Lookup, hints: &[F]) -> Vec<F> {
    let half = leaf_half(lk);
    let mut w: Vec<F> = lk.hints.iter().map(|&h| hints[h as usize]).collect();
    w.resize(half, lk.table.value(0));
    w
}

/// Counts how often each table entry occurs among the checked hints
/// (padding included). With `checked`, a hint outside the table is an error;
/// without, it is silently left out (for soundness tests only).
pub(crate) fn multiplicities(
    index: usize,
    lk: &Lookup,
    hints: &[F],
    checked: bool,
) -> Result<Vec<(u32, F)>, ProveError> {
    let mut counts = vec![0u64; lk.table.len()];
    let set_index: Option<HashMap<u64, usize>> = match &lk.table {
        Table::Set(v) => Some(
            v.iter()
                .enumerate()
                .map(|(j, x)| (x.as_canonical_u64(), j))
                .collect(),
        ),
        Table::Range { .. } => None,
    };
    let locate = |v: F| -> Option<usize> {
        let v = v.as_canonical_u64();
        match &lk.table {
            Table::Range { bits } => (v < 1u64 << bits).then_some(v as usize),
            Table::Set(_) => set_index.as_ref().and_then(|map| map.get(&v).copied()),
        }
    };
    for &h in &lk.hints {
        let v = hints[h as usize];
        match locate(v) {
            Some(j) => counts[j] += 1,
            None if checked => {
                return Err(ProveError::LookupValue {
                    lookup: index,
                    hint: h,
                    value: v.as_canonical_u64(),
                })
            }
            None => {}
        }
    }
    counts[0] += (leaf_half(lk) - lk.hints.len()) as u64;
    Ok(counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(j, &c)| (j as u32, F::from_u64(c)))
        .collect())
}

/// Multiplicities are prover messages: they are absorbed before `beta`.
pub(crate) fn absorb_multiplicities(t: &mut Transcript, m: &[(u32, F)]) {
    let mut buf = Vec::with_capacity(m.len() * 12);
    for (j, c) in m {
        buf.extend_from_slice(&j.to_le_bytes());
        buf.extend_from_slice(&c.as_canonical_u64().to_le_bytes());
    }
    t.absorb_bytes(b"logup-multiplicities", &buf);
}

/// Proves one lookup. Hints and multiplicities are already in the transcript.
pub(crate) fn prove(
    lk: &Lookup,
    hints: &[F],
    mult: Vec<(u32, F)>,
    t: &mut Transcript,
) -> LookupProof {
    let beta = t.challenge_ef(b"logup-beta");
    let half = leaf_half(lk);
    let log_leaves = half.trailing_zeros() as usize + 1;

    let mut p = EF::zero_vec(2 * half);
    let mut q = EF::zero_vec(2 * half);
    let w = padded_witness(lk, hints);
    p[..half].fill(EF::ONE);
    for (qi, wi) in q[..half].iter_mut().zip(&w) {
        *qi = beta - *wi;
    }
    for (j, qj) in q[half..].iter_mut().enumerate() {
        let tj = if j < lk.table.len() {
            lk.table.value(j)
        } else {
            F::ZERO
        };
        *qj = beta - tj;
    }
    for (j, m) in &mult {
        p[half + *j as usize] = -EF::from(*m);
    }

    // levels[j] holds (p, q) of the 2^j nodes at depth j; levels[L] = leaves.
    let mut levels: Vec<(Vec<EF>, Vec<EF>)> = vec![(Vec::new(), Vec::new()); log_leaves + 1];
    levels[log_leaves] = (p, q);
    for j in (1..log_leaves).rev() {
        let (cp, cq) = &levels[j + 1];
        let h = 1 << j;
        let combine = |x: usize| (cp[x] * cq[x + h] + cp[x + h] * cq[x], cq[x] * cq[x + h]);
        let (np, nq): (Vec<EF>, Vec<EF>) = if h >= PAR_THRESHOLD {
            (0..h).into_par_iter().map(combine).unzip()
        } else {
            (0..h).map(combine).unzip()
        };
        levels[j] = (np, nq);
    }

    let (p1, q1) = &levels[1];
    let top = [p1[0], p1[1], q1[0], q1[1]];
    t.absorb_efs(b"logup-top", &top);
    let mut point = vec![t.challenge_ef(b"logup-tau")];

    let mut layers = Vec::with_capacity(log_leaves - 1);
    for level in levels.iter().skip(2) {
        let lambda = t.challenge_ef(b"logup-lambda");
        let (cp, cq) = level;
        let h = cp.len() / 2;
        let tables = [
            eq_table(&point),
            cp[..h].to_vec(),
            cp[h..].to_vec(),
            cq[..h].to_vec(),
            cq[h..].to_vec(),
        ];
        let (rounds, r, children) = prove_level(tables, lambda, t);
        t.absorb_efs(b"logup-children", &children);
        let tau = t.challenge_ef(b"logup-tau");
        point = r;
        point.push(tau);
        layers.push(FracLayerProof { rounds, children });
    }
    LookupProof {
        multiplicities: mult,
        top,
        layers,
    }
}

/// The level polynomial `eq(r, x) (lambda (p0 q1 + p1 q0) + q0 q1)`.
#[inline]
fn level_poly(e: EF, p0: EF, p1: EF, q0: EF, q1: EF, lambda: EF) -> EF {
    e * (lambda * (p0 * q1 + p1 * q0) + q0 * q1)
}

/// Degree-3 sumcheck of one tree level over tables `[eq, p0, p1, q0, q1]`.
fn prove_level(
    mut tables: [Vec<EF>; 5],
    lambda: EF,
    t: &mut Transcript,
) -> (Vec<[EF; 3]>, Vec<EF>, [EF; 4]) {
    let mut rounds = Vec::new();
    let mut challenges = Vec::new();
    while tables[0].len() > 1 {
        let half = tables[0].len() / 2;
        let term = |i: usize| {
            let lo: [EF; 5] = std::array::from_fn(|k| tables[k][i]);
            let d: [EF; 5] = std::array::from_fn(|k| tables[k][i + half] - lo[k]);
            let at = |s: EF| {
                let v: [EF; 5] = std::array::from_fn(|k| lo[k] + s * d[k]);
                level_poly(v[0], v[1], v[2], v[3], v[4], lambda)
            };
            [
                level_poly(lo[0], lo[1], lo[2], lo[3], lo[4], lambda),
                at(EF::TWO),
                at(EF::from(F::from_u8(3))),
            ]
        };
        let add = |a: [EF; 3], b: [EF; 3]| [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
        let msg = if half >= PAR_THRESHOLD {
            (0..half)
                .into_par_iter()
                .with_min_len(1 << 10)
                .map(term)
                .reduce(|| [EF::ZERO; 3], add)
        } else {
            (0..half).map(term).fold([EF::ZERO; 3], add)
        };
        t.absorb_efs(ROUND_LABEL, &msg);
        let r = t.challenge_ef(CHALLENGE_LABEL);
        rounds.push(msg);
        challenges.push(r);
        for tb in tables.iter_mut() {
            fold_in_place(tb, r);
        }
    }
    challenges.reverse();
    let children = [tables[1][0], tables[2][0], tables[3][0], tables[4][0]];
    (rounds, challenges, children)
}

/// Verifies one lookup against the raw hints.
pub(crate) fn verify(
    index: usize,
    lk: &Lookup,
    hints: &[F],
    lp: &LookupProof,
    t: &mut Transcript,
) -> Result<(), VerifyError> {
    let fail = |reason: &str| {
        Err(VerifyError::Lookup {
            lookup: index,
            reason: reason.to_string(),
        })
    };
    let table_len = lk.table.len();
    let mut prev: Option<u32> = None;
    for (j, _) in &lp.multiplicities {
        if *j as usize >= table_len || prev.is_some_and(|p| p >= *j) {
            return fail("multiplicity indices must be increasing and inside the table");
        }
        prev = Some(*j);
    }
    let half = leaf_half(lk);
    let log_leaves = half.trailing_zeros() as usize + 1;
    if lp.layers.len() != log_leaves - 1 {
        return fail("wrong number of tree levels");
    }

    let beta = t.challenge_ef(b"logup-beta");
    let [p0, p1, q0, q1] = lp.top;
    if p0 * q1 + p1 * q0 != EF::ZERO {
        return fail("the fractional sum is not zero");
    }
    if q0 * q1 == EF::ZERO {
        return fail("zero denominator at the root");
    }
    t.absorb_efs(b"logup-top", &lp.top);
    let tau = t.challenge_ef(b"logup-tau");
    let mut point = vec![tau];
    let mut p_claim = p0 + tau * (p1 - p0);
    let mut q_claim = q0 + tau * (q1 - q0);

    for (j, layer) in lp.layers.iter().enumerate() {
        let lambda = t.challenge_ef(b"logup-lambda");
        if layer.rounds.len() != j + 1 {
            return fail("wrong number of sumcheck rounds");
        }
        let (r, last) = verify_rounds(&layer.rounds, lambda * p_claim + q_claim, t);
        let [c0, c1, c2, c3] = layer.children;
        if last != level_poly(eq_eval(&point, &r), c0, c1, c2, c3, lambda) {
            return fail("tree level check failed");
        }
        t.absorb_efs(b"logup-children", &layer.children);
        let tau = t.challenge_ef(b"logup-tau");
        point = r;
        point.push(tau);
        p_claim = c0 + tau * (c1 - c0);
        q_claim = c2 + tau * (c3 - c2);
    }

    // Leaf check: evaluate both sides' multilinear extensions ourselves.
    let (side, r) = point.split_last().expect("at least one variable");
    let eq = eq_table(r);
    let w = dot_base(&padded_witness(lk, hints), &eq);
    let m: EF = lp
        .multiplicities
        .iter()
        .map(|(j, c)| eq[*j as usize] * *c)
        .sum();
    let table = lk.table.mle(r, &eq);
    let s = *side;
    let expect_p = (EF::ONE - s) - s * m;
    let expect_q = beta - (EF::ONE - s) * w - s * table;
    if p_claim != expect_p || q_claim != expect_q {
        return fail("leaves do not match the hints, multiplicities and table");
    }
    Ok(())
}
