//! A wire-level circuit builder: the API the ONNX compiler targets.
//!
//! Callers create inputs, hints and expressions (sums of linear terms,
//! products and a constant) without thinking about layers. `build` places
//! each expression one layer above its deepest operand, relays shallower
//! operands up with identity add gates (reusing a relay once made), and adds
//! a final output layer `[outputs | assertions]`.

pub use crate::circuit::solver::{HintRule, Solver};
use crate::circuit::{AddGate, Circuit, ConstGate, Layer, Lookup, MulGate, Table};
use crate::error::CircuitError;
use crate::field::{PrimeCharacteristicRing, F};
use crate::mle::log2_ceil;

/// A value in the circuit under construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Wire(u32);

impl Wire {
    /// Position in creation order.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Term {
    Lin(Wire, F),
    Mul(Wire, Wire, F),
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Node {
    Public(u32),
    Hint(u32),
    Expr {
        terms_start: u32,
        terms_len: u32,
        constant: F,
    },
}

/// Builds a [`Circuit`] from wire-level operations.
#[derive(Default)]
pub struct CircuitBuilder {
    nodes: Vec<Node>,
    depth: Vec<u32>,
    terms: Vec<Term>,
    num_public: u32,
    num_hints: u32,
    outputs: Vec<Wire>,
    asserts: Vec<Wire>,
    lookups: Vec<(Vec<Wire>, Table)>,
    /// How to compute each hint from earlier wires; `None` for hints the
    /// caller supplies itself.
    rules: Vec<Option<HintRule>>,
}

impl CircuitBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, node: Node, depth: u32) -> Wire {
        let w = Wire(self.nodes.len() as u32);
        self.nodes.push(node);
        self.depth.push(depth);
        w
    }

    /// A public input (known to the verifier), in declaration order.
    pub fn public_input(&mut self) -> Wire {
        self.num_public += 1;
        self.push(Node::Public(self.num_public - 1), 0)
    }

    /// A private value supplied by the prover, in declaration order.
    pub fn hint(&mut self) -> Wire {
        self.num_hints += 1;
        self.rules.push(None);
        self.push(Node::Hint(self.num_hints - 1), 0)
    }

    /// A hint the [`Solver`] computes from earlier wires, so the prover
    /// supplies only public inputs. The rule says how to compute it, never
    /// what it must satisfy: constrain it separately.
    pub fn computed_hint(&mut self, rule: HintRule) -> Wire {
        let w = self.hint();
        *self.rules.last_mut().expect("just pushed") = Some(rule);
        w
    }

    /// `n` hints.
    pub fn hints(&mut self, n: usize) -> Vec<Wire> {
        (0..n).map(|_| self.hint()).collect()
    }

    /// The general expression
    /// `sum lin_c * lin_w + sum mul_c * mul_a * mul_b + constant`.
    pub fn expr(&mut self, lin: &[(Wire, F)], mul: &[(Wire, Wire, F)], constant: F) -> Wire {
        let start = self.terms.len() as u32;
        let mut depth = 0;
        for &(w, c) in lin {
            depth = depth.max(self.depth[w.index()]);
            self.terms.push(Term::Lin(w, c));
        }
        for &(a, b, c) in mul {
            depth = depth.max(self.depth[a.index()]).max(self.depth[b.index()]);
            self.terms.push(Term::Mul(a, b, c));
        }
        let len = self.terms.len() as u32 - start;
        self.push(
            Node::Expr {
                terms_start: start,
                terms_len: len,
                constant,
            },
            depth + 1,
        )
    }

    /// `sum c_i w_i + constant`.
    pub fn linear(&mut self, terms: &[(Wire, F)], constant: F) -> Wire {
        self.expr(terms, &[], constant)
    }

    pub fn add(&mut self, a: Wire, b: Wire) -> Wire {
        self.linear(&[(a, F::ONE), (b, F::ONE)], F::ZERO)
    }

    pub fn sub(&mut self, a: Wire, b: Wire) -> Wire {
        self.linear(&[(a, F::ONE), (b, F::NEG_ONE)], F::ZERO)
    }

    pub fn scale(&mut self, a: Wire, c: F) -> Wire {
        self.linear(&[(a, c)], F::ZERO)
    }

    pub fn add_const(&mut self, a: Wire, c: F) -> Wire {
        self.linear(&[(a, F::ONE)], c)
    }

    pub fn mul(&mut self, a: Wire, b: Wire) -> Wire {
        self.expr(&[], &[(a, b, F::ONE)], F::ZERO)
    }

    /// Makes `w` a public output (in call order).
    pub fn output(&mut self, w: Wire) {
        self.outputs.push(w);
    }

    /// Requires `w == 0`.
    pub fn assert_zero(&mut self, w: Wire) {
        self.asserts.push(w);
    }

    /// Requires `a == b`.
    pub fn assert_equal(&mut self, a: Wire, b: Wire) {
        let d = self.sub(a, b);
        self.assert_zero(d);
    }

    /// Requires each wire, which must be a hint, to lie in `[0, 2^bits)`.
    pub fn range_check(&mut self, wires: &[Wire], bits: u32) {
        // One lookup argument per table: each argument pays for its table.
        let table = Table::Range { bits };
        match self.lookups.iter_mut().find(|(_, t)| *t == table) {
            Some((ws, _)) => ws.extend_from_slice(wires),
            None => self.lookups.push((wires.to_vec(), table)),
        }
    }

    /// Requires each wire, which must be a hint, to be an entry of `table`.
    pub fn lookup(&mut self, wires: &[Wire], table: Vec<F>) {
        self.lookups.push((wires.to_vec(), Table::Set(table)));
    }

    /// Number of wires created so far.
    pub fn num_wires(&self) -> usize {
        self.nodes.len()
    }

    /// Lays the circuit out in layers and validates it.
    pub fn build(self) -> Result<Circuit, CircuitError> {
        self.layout()
    }

    /// Builds the circuit and the solver that computes its hints and
    /// outputs from public inputs alone.
    pub fn build_with_solver(self) -> Result<(Circuit, Solver), CircuitError> {
        let circuit = self.layout()?;
        let solver = Solver {
            nodes: self.nodes,
            terms: self.terms,
            rules: self.rules,
            num_public: self.num_public as usize,
            outputs: self.outputs,
        };
        Ok((circuit, solver))
    }

    fn layout(&self) -> Result<Circuit, CircuitError> {
        let err = |m: String| CircuitError::Builder(m);
        if self.outputs.is_empty() && self.asserts.is_empty() {
            return Err(err("the circuit has no outputs or assertions".into()));
        }
        let sinks = self.outputs.iter().chain(&self.asserts);
        let top = sinks.map(|w| self.depth[w.index()]).max().unwrap_or(0);
        let num_layers = top as usize + 1;

        // Which expressions feed the outputs at all (dead ones are dropped).
        let mut live = vec![false; self.nodes.len()];
        let mut stack: Vec<Wire> = self.outputs.iter().chain(&self.asserts).copied().collect();
        while let Some(w) = stack.pop() {
            if std::mem::replace(&mut live[w.index()], true) {
                continue;
            }
            if let Node::Expr {
                terms_start,
                terms_len,
                ..
            } = self.nodes[w.index()]
            {
                for t in &self.terms[terms_start as usize..(terms_start + terms_len) as usize] {
                    match *t {
                        Term::Lin(a, _) => stack.push(a),
                        Term::Mul(a, b, _) => {
                            stack.push(a);
                            stack.push(b);
                        }
                    }
                }
            }
        }

        // Primary positions: inputs at layer 0, live expressions at their depth.
        let mut pos = vec![u32::MAX; self.nodes.len()];
        let mut layer_len = vec![0u32; num_layers + 1];
        layer_len[0] = self.num_public + self.num_hints;
        for (i, node) in self.nodes.iter().enumerate() {
            match *node {
                Node::Public(k) => pos[i] = k,
                Node::Hint(k) => pos[i] = self.num_public + k,
                Node::Expr { .. } if live[i] => {
                    let d = self.depth[i] as usize;
                    pos[i] = layer_len[d];
                    layer_len[d] += 1;
                }
                Node::Expr { .. } => {}
            }
        }

        let mut layers: Vec<Layer> = (0..num_layers).map(|_| Layer::default()).collect();
        // relays[w][k] = position of w's relay at layer depth(w) + 1 + k.
        let mut relays: Vec<Vec<u32>> = vec![Vec::new(); self.nodes.len()];
        let mut at =
            |w: Wire, layer: usize, layers: &mut Vec<Layer>, layer_len: &mut Vec<u32>| -> u32 {
                let d = self.depth[w.index()] as usize;
                debug_assert!(layer >= d);
                if layer == d {
                    return pos[w.index()];
                }
                let chain = &mut relays[w.index()];
                while chain.len() < layer - d {
                    let l = d + 1 + chain.len();
                    let below = chain.last().copied().unwrap_or(pos[w.index()]);
                    let p = layer_len[l];
                    layer_len[l] += 1;
                    layers[l - 1].add.push(AddGate {
                        out: p,
                        x: below,
                        coef: F::ONE,
                    });
                    chain.push(p);
                }
                chain[layer - d - 1]
            };

        for (i, node) in self.nodes.iter().enumerate() {
            let Node::Expr {
                terms_start,
                terms_len,
                constant,
            } = *node
            else {
                continue;
            };
            if !live[i] {
                continue;
            }
            let d = self.depth[i] as usize;
            let out = pos[i];
            for t in &self.terms[terms_start as usize..(terms_start + terms_len) as usize] {
                match *t {
                    Term::Lin(a, c) => {
                        let x = at(a, d - 1, &mut layers, &mut layer_len);
                        layers[d - 1].add.push(AddGate { out, x, coef: c });
                    }
                    Term::Mul(a, b, c) => {
                        let x = at(a, d - 1, &mut layers, &mut layer_len);
                        let y = at(b, d - 1, &mut layers, &mut layer_len);
                        layers[d - 1].mul.push(MulGate { out, x, y, coef: c });
                    }
                }
            }
            if constant != F::ZERO {
                layers[d - 1].consts.push(ConstGate {
                    out,
                    coef: constant,
                });
            }
        }

        // Output layer: relay every sink from the top layer.
        let last = num_layers - 1;
        let sinks: Vec<Wire> = self.outputs.iter().chain(&self.asserts).copied().collect();
        for (k, &w) in sinks.iter().enumerate() {
            let x = at(w, last, &mut layers, &mut layer_len);
            layers[last].add.push(AddGate {
                out: k as u32,
                x,
                coef: F::ONE,
            });
        }
        layer_len[num_layers] = sinks.len() as u32;

        for (l, layer) in layers.iter_mut().enumerate() {
            layer.log_size = log2_ceil(layer_len[l + 1] as usize, 1);
        }

        let mut lookups = Vec::with_capacity(self.lookups.len());
        for (n, (wires, table)) in self.lookups.iter().enumerate() {
            let hints = wires
                .iter()
                .map(|w| match self.nodes[w.index()] {
                    Node::Hint(k) => Ok(k),
                    _ => Err(err(format!(
                        "lookup {n}: wire {} is not a hint; only hints can be range-checked",
                        w.index()
                    ))),
                })
                .collect::<Result<Vec<u32>, _>>()?;
            lookups.push(Lookup {
                hints,
                table: table.clone(),
            });
        }

        Circuit::new(
            log2_ceil(layer_len[0] as usize, 1),
            self.num_public,
            self.num_hints,
            layers,
            self.outputs.len() as u32,
            lookups,
        )
    }
}
