//! Shared pieces of the sumcheck protocol.
//!
//! Round messages carry the round polynomial's evaluations at `0, 2, .., d`;
//! the value at `1` is never sent, because the verifier derives it from the
//! running claim (`s(0) + s(1) = claim`). That saves one element per round
//! and leaves nothing in the proof the verifier does not bind.

use rayon::prelude::*;

use crate::field::{Field, PrimeCharacteristicRing, EF, F};
use crate::mle::PAR_THRESHOLD;
use crate::transcript::Transcript;

/// Evaluates the degree-`evals.len()-1` polynomial through
/// `(0, evals[0]), (1, evals[1]), ..` at `x` (Lagrange form).
pub fn interpolate(evals: &[EF], x: EF) -> EF {
    let d = evals.len();
    let mut acc = EF::ZERO;
    for (i, &yi) in evals.iter().enumerate() {
        let mut num = EF::ONE;
        let mut den = F::ONE;
        for j in 0..d {
            if j != i {
                num *= x - EF::from(F::from_usize(j));
                den *= F::from_usize(i) - F::from_usize(j);
            }
        }
        acc += yi * num * den.inverse();
    }
    acc
}

/// Checks one round: given the running `claim` and a message holding
/// `s(0), s(2), .., s(d)`, returns `s(challenge)` as the next claim.
pub fn next_claim(claim: EF, msg: &[EF], challenge: EF) -> EF {
    let mut evals = Vec::with_capacity(msg.len() + 1);
    evals.push(msg[0]);
    evals.push(claim - msg[0]);
    evals.extend_from_slice(&msg[1..]);
    interpolate(&evals, challenge)
}

/// Replays sumcheck rounds; returns the point (variable order) and the final
/// claim, which the caller must check against its own evaluation.
pub(crate) fn verify_rounds<const D: usize>(
    rounds: &[[EF; D]],
    mut claim: EF,
    t: &mut Transcript,
) -> (Vec<EF>, EF) {
    let mut point = Vec::with_capacity(rounds.len());
    for msg in rounds {
        t.absorb_efs(ROUND_LABEL, msg);
        let r = t.challenge_ef(CHALLENGE_LABEL);
        claim = next_claim(claim, msg, r);
        point.push(r);
    }
    point.reverse();
    (point, claim)
}

// ---- prover side ----------------------------------------------------------

/// Transcript label of sumcheck round messages.
pub(crate) const ROUND_LABEL: &[u8] = b"sumcheck-round";
/// Transcript label of sumcheck challenges.
pub(crate) const CHALLENGE_LABEL: &[u8] = b"sumcheck-challenge";

/// Result of proving `sum_x a(x) * b(x)`.
pub(crate) struct ProductProof {
    pub rounds: Vec<[EF; 2]>,
    /// The random point, in variable order (`point[i]` binds bit `i`).
    pub point: Vec<EF>,
    /// `a(point)`.
    pub a_eval: EF,
}

/// Sums `f(i)` over `0..n` as a pair of extension elements, in parallel for
/// large `n`.
fn sum_pairs(n: usize, f: impl Fn(usize) -> (EF, EF) + Sync + Send) -> (EF, EF) {
    let add = |x: (EF, EF), y: (EF, EF)| (x.0 + y.0, x.1 + y.1);
    if n >= PAR_THRESHOLD {
        (0..n)
            .into_par_iter()
            .with_min_len(1 << 10)
            .map(f)
            .reduce(|| (EF::ZERO, EF::ZERO), add)
    } else {
        (0..n).map(f).fold((EF::ZERO, EF::ZERO), add)
    }
}

/// `v[i] <- v[i] + r (v[i + half] - v[i])`, then drops the top half.
pub(crate) fn fold_in_place(v: &mut Vec<EF>, r: EF) {
    let half = v.len() / 2;
    let (lo, hi) = v.split_at_mut(half);
    if half >= PAR_THRESHOLD {
        lo.par_iter_mut()
            .zip(hi.par_iter())
            .with_min_len(1 << 10)
            .for_each(|(l, &h)| *l += r * (h - *l));
    } else {
        lo.iter_mut()
            .zip(hi.iter())
            .for_each(|(l, &h)| *l += r * (h - *l));
    }
    v.truncate(half);
}

/// Proves `sum_x scale * a(x) b(x)` where `a` starts in the base field
/// (layer values) and `b` in the extension. The first round works on
/// base-field `a` directly, which halves its cost; `a` is lifted only when
/// folded. `scale` multiplies the round messages (two elements per round)
/// instead of every entry of `b`.
///
/// `b` is folded in place and left truncated; `a_ext` is scratch for the
/// lifted `a`. Both keep their capacity for the caller's next layer.
pub(crate) fn prove_product(
    a: &[F],
    b: &mut Vec<EF>,
    scale: EF,
    a_ext: &mut Vec<EF>,
    t: &mut Transcript,
) -> ProductProof {
    assert_eq!(a.len(), b.len());
    assert!(a.len().is_power_of_two() && a.len() >= 2);
    let n = a.len().trailing_zeros() as usize;
    let mut rounds = Vec::with_capacity(n);
    let mut challenges = Vec::with_capacity(n);

    let half = a.len() / 2;
    let (s0, s2) = sum_pairs(half, |i| {
        let (a0, a1, b0, b1) = (a[i], a[i + half], b[i], b[i + half]);
        (b0 * a0, (b1.double() - b0) * (a1.double() - a0))
    });
    let msg = [scale * s0, scale * s2];
    t.absorb_efs(ROUND_LABEL, &msg);
    let r = t.challenge_ef(CHALLENGE_LABEL);
    rounds.push(msg);
    challenges.push(r);
    a_ext.clear();
    if half >= PAR_THRESHOLD {
        (0..half)
            .into_par_iter()
            .with_min_len(1 << 10)
            .map(|i| r * (a[i + half] - a[i]) + a[i])
            .collect_into_vec(a_ext);
    } else {
        a_ext.extend((0..half).map(|i| r * (a[i + half] - a[i]) + a[i]));
    }
    fold_in_place(b, r);

    while a_ext.len() > 1 {
        let half = a_ext.len() / 2;
        let (s0, s2) = sum_pairs(half, |i| {
            let (a0, a1, b0, b1) = (a_ext[i], a_ext[i + half], b[i], b[i + half]);
            (a0 * b0, (a1.double() - a0) * (b1.double() - b0))
        });
        let msg = [scale * s0, scale * s2];
        t.absorb_efs(ROUND_LABEL, &msg);
        let r = t.challenge_ef(CHALLENGE_LABEL);
        rounds.push(msg);
        challenges.push(r);
        fold_in_place(a_ext, r);
        fold_in_place(b, r);
    }
    challenges.reverse();
    ProductProof {
        rounds,
        point: challenges,
        a_eval: a_ext[0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_recovers_cubic() {
        // s(t) = 3 + 2t + 5t^2 + 7t^3
        let s = |t: u64| {
            let t = EF::from(F::new(t));
            EF::from(F::new(3))
                + t * EF::from(F::new(2))
                + t * t * EF::from(F::new(5))
                + t * t * t * EF::from(F::new(7))
        };
        let evals: Vec<EF> = (0..4).map(s).collect();
        assert_eq!(interpolate(&evals, EF::from(F::new(11))), s(11));
        let claim = s(0) + s(1);
        assert_eq!(
            next_claim(claim, &[s(0), s(2), s(3)], EF::from(F::new(9))),
            s(9)
        );
    }
}
