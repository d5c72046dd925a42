//! Witness solving: computing every hint from the public inputs.
//!
//! The compiler declares each hint with a [`HintRule`] over earlier wires
//! (a remainder, a limb of a shifted quotient), so a miner needs nothing but
//! the model input to produce a full witness. Rules only *compute*; the
//! circuit separately *constrains* each hint, so a wrong rule makes proving
//! fail, never a false proof verify.

use rayon::prelude::*;

use crate::circuit::builder::{Node, Term, Wire};
use crate::error::ProveError;
use crate::field::{f_from_i64, f_to_i64, PrimeCharacteristicRing, F};

/// How to compute one hint from an earlier wire `src`, read as a signed
/// integer `v` (representative in (-p/2, p/2]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HintRule {
    /// Bits `lo .. lo + bits` of `(v + add) mod 2^shift`.
    Rem {
        src: Wire,
        add: i64,
        shift: u32,
        lo: u32,
        bits: u32,
    },
    /// Bits `lo .. lo + bits` of `u = floor((v + add) / 2^shift) + offset`,
    /// which must lie in `[0, 2^width)`.
    Bits {
        src: Wire,
        add: i64,
        shift: u32,
        offset: i64,
        lo: u32,
        bits: u32,
        width: u32,
    },
}

impl HintRule {
    fn src(&self) -> Wire {
        match *self {
            HintRule::Rem { src, .. } | HintRule::Bits { src, .. } => src,
        }
    }

    fn apply(&self, v: i64) -> Result<i64, String> {
        match *self {
            HintRule::Rem {
                add,
                shift,
                lo,
                bits,
                ..
            } => {
                let x = v as i128 + add as i128;
                let r = x.rem_euclid(1i128 << shift);
                Ok(((r >> lo) & ((1i128 << bits) - 1)) as i64)
            }
            HintRule::Bits {
                add,
                shift,
                offset,
                lo,
                bits,
                width,
                ..
            } => {
                let x = v as i128 + add as i128;
                let u = x.div_euclid(1i128 << shift) + offset as i128;
                if u < 0 || u >= 1i128 << width {
                    return Err(format!(
                        "value {} is outside the {width}-bit range the circuit allows",
                        u - offset as i128
                    ));
                }
                Ok(((u >> lo) & ((1i128 << bits) - 1)) as i64)
            }
        }
    }
}

/// Computes hints and public outputs of a built circuit from public inputs.
pub struct Solver {
    pub(crate) nodes: Vec<Node>,
    pub(crate) terms: Vec<Term>,
    pub(crate) rules: Vec<Option<HintRule>>,
    pub(crate) num_public: usize,
    pub(crate) outputs: Vec<Wire>,
}

/// What the solver produced.
pub struct Solution {
    pub hints: Vec<F>,
    pub outputs: Vec<F>,
}

/// Wires evaluated per parallel batch when a run of expressions is
/// independent (the common case: a whole Dense layer in a row).
const BATCH: usize = 1 << 10;

impl Solver {
    /// Number of public inputs expected.
    pub fn num_public(&self) -> usize {
        self.num_public
    }

    /// Evaluates every wire in creation order. Runs of expressions that do
    /// not read each other are evaluated in parallel.
    pub fn solve(&self, public: &[F]) -> Result<Solution, ProveError> {
        if public.len() != self.num_public {
            return Err(ProveError::PublicInputCount {
                expected: self.num_public,
                got: public.len(),
            });
        }
        let n = self.nodes.len();
        let mut values = vec![F::ZERO; n];
        let mut hints = vec![F::ZERO; self.rules.len()];
        let mut i = 0;
        while i < n {
            match self.nodes[i] {
                Node::Public(k) => {
                    values[i] = public[k as usize];
                    i += 1;
                }
                Node::Hint(k) => {
                    let rule = self.rules[k as usize].ok_or_else(|| {
                        ProveError::Witness(format!("hint {k} has no rule; supply it directly"))
                    })?;
                    let v = f_to_i64(values[rule.src().index()]);
                    let h = rule
                        .apply(v)
                        .map_err(|e| ProveError::Witness(format!("hint {k}: {e}")))?;
                    values[i] = f_from_i64(h);
                    hints[k as usize] = values[i];
                    i += 1;
                }
                Node::Expr { .. } => {
                    // A maximal run of expressions that only read wires
                    // before the run can be computed in parallel.
                    let start = i;
                    let mut end = i;
                    while end < n && end - start < BATCH {
                        match self.nodes[end] {
                            Node::Expr {
                                terms_start,
                                terms_len,
                                ..
                            } if self.reads_before(terms_start, terms_len, start) => end += 1,
                            _ => break,
                        }
                    }
                    // Wires only read earlier wires, so the run's first
                    // expression always qualifies and `end > start`.
                    let (done, rest) = values.split_at_mut(start);
                    let done: &[F] = done;
                    rest[..end - start]
                        .par_iter_mut()
                        .enumerate()
                        .for_each(|(j, out)| {
                            *out = self.eval_expr(start + j, done);
                        });
                    i = end;
                }
            }
        }
        let outputs = self.outputs.iter().map(|w| values[w.index()]).collect();
        Ok(Solution { hints, outputs })
    }

    fn reads_before(&self, start: u32, len: u32, limit: usize) -> bool {
        self.terms[start as usize..(start + len) as usize]
            .iter()
            .all(|t| match *t {
                Term::Lin(a, _) => a.index() < limit,
                Term::Mul(a, b, _) => a.index() < limit && b.index() < limit,
            })
    }

    fn eval_expr(&self, i: usize, values: &[F]) -> F {
        let Node::Expr {
            terms_start,
            terms_len,
            constant,
        } = self.nodes[i]
        else {
            unreachable!("only expressions are evaluated here")
        };
        let mut acc = constant;
        for t in &self.terms[terms_start as usize..(terms_start + terms_len) as usize] {
            acc += match *t {
                Term::Lin(a, c) => c * values[a.index()],
                Term::Mul(a, b, c) => c * values[a.index()] * values[b.index()],
            };
        }
        acc
    }
}
