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

/// Waves smaller than this are evaluated on the calling thread: handing a
/// few wires to rayon costs more in wake-ups than it saves.
const PAR_MIN: usize = 4096;

impl Solver {
    /// Number of public inputs expected.
    pub fn num_public(&self) -> usize {
        self.num_public
    }

    /// Evaluates every wire. Wires are grouped into waves by dependency
    /// depth (a wire's wave is one more than the deepest wire it reads), and
    /// each wave is evaluated in parallel: a model's gadgets interleave
    /// expressions and hints element by element, so creation order alone
    /// offers only runs of one or two independent wires.
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
        for (i, node) in self.nodes.iter().enumerate() {
            if let Node::Public(k) = *node {
                values[i] = public[k as usize];
            }
        }
        let (order, waves) = self.waves();
        let eval = |i: u32, values: &[F]| -> Result<F, ProveError> {
            match self.nodes[i as usize] {
                Node::Hint(k) => {
                    let rule = self.rules[k as usize].ok_or_else(|| {
                        ProveError::Witness(format!("hint {k} has no rule; supply it directly"))
                    })?;
                    let v = f_to_i64(values[rule.src().index()]);
                    let h = rule
                        .apply(v)
                        .map_err(|e| ProveError::Witness(format!("hint {k}: {e}")))?;
                    Ok(f_from_i64(h))
                }
                Node::Expr { .. } => Ok(self.eval_expr(i as usize, values)),
                Node::Public(_) => unreachable!("public inputs are in no wave"),
            }
        };
        let mut out = Vec::new();
        for wave in waves.windows(2) {
            let wave = &order[wave[0] as usize..wave[1] as usize];
            if wave.len() >= PAR_MIN {
                out.clear();
                wave.par_iter()
                    .map(|&i| eval(i, &values))
                    .collect_into_vec(&mut out);
                for (&i, v) in wave.iter().zip(out.drain(..)) {
                    values[i as usize] = v?;
                }
            } else {
                for &i in wave {
                    values[i as usize] = eval(i, &values)?;
                }
            }
        }
        for (i, node) in self.nodes.iter().enumerate() {
            if let Node::Hint(k) = *node {
                hints[k as usize] = values[i];
            }
        }
        let outputs = self.outputs.iter().map(|w| values[w.index()]).collect();
        Ok(Solution { hints, outputs })
    }

    /// Non-public wires ordered by wave, and the start of each wave in that
    /// order (plus the end). Wires only read earlier wires, so one pass in
    /// creation order finds every wire's wave.
    fn waves(&self) -> (Vec<u32>, Vec<u32>) {
        let n = self.nodes.len();
        let mut wave = vec![0u32; n];
        let mut count: Vec<u32> = Vec::new();
        for i in 0..n {
            let w = match self.nodes[i] {
                Node::Public(_) => continue,
                Node::Hint(k) => self.rules[k as usize]
                    .map(|r| wave[r.src().index()] + 1)
                    .unwrap_or(1),
                Node::Expr {
                    terms_start,
                    terms_len,
                    ..
                } => {
                    1 + self.terms[terms_start as usize..(terms_start + terms_len) as usize]
                        .iter()
                        .map(|t| match *t {
                            Term::Lin(a, _) => wave[a.index()],
                            Term::Mul(a, b, _) => wave[a.index()].max(wave[b.index()]),
                        })
                        .max()
                        .unwrap_or(0)
                }
            };
            wave[i] = w;
            if count.len() <= w as usize {
                count.resize(w as usize + 1, 0);
            }
            count[w as usize] += 1;
        }
        // Counting sort by wave (wave 0 holds only public inputs).
        let mut starts = Vec::with_capacity(count.len() + 1);
        let mut acc = 0u32;
        for &c in count.iter().skip(1) {
            starts.push(acc);
            acc += c;
        }
        starts.push(acc);
        let mut next = starts.clone();
        let mut order = vec![0u32; acc as usize];
        for (i, (node, &w)) in self.nodes.iter().zip(&wave).enumerate() {
            if !matches!(node, Node::Public(_)) {
                let w = w as usize - 1;
                order[next[w] as usize] = i as u32;
                next[w] += 1;
            }
        }
        (order, starts)
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
