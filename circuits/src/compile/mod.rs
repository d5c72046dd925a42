//! The ONNX→circuit compiler: from a static [`Graph`] to a GKR circuit and
//! the solver that fills its hints.
//!
//! Linear ops (Dense, Conv, pooling sums, affine constants) are plain
//! weighted sums: weights are circuit constants, so they cost add gates and
//! no hints. Every product of two scaled values is brought back to scale
//! lazily: an op leaves *accumulators*, and the consumer decides how to
//! rescale them, so `Conv → Relu` costs one fused rescale-and-ReLU gadget
//! instead of a rescale followed by a ReLU. The non-linear gadgets are in
//! [`gadgets`]; every one of them matches [`crate::model::quant`] exactly.

pub mod gadgets;

use crate::circuit::builder::{CircuitBuilder, Solver, Wire};
use crate::field::{f_from_i64, PrimeCharacteristicRing, F};
use crate::model::geometry::{broadcast_map, ConvGeom, PoolGeom};
use crate::model::ir::{Graph, Op};
use crate::model::quant::{avg_reciprocal, channel_index, q1, q2, quant_all, AVG_BITS};
use crate::model::ModelError;
use crate::Circuit;
use gadgets::Gadgets;

/// A compiled graph: the circuit, its solver, and the shapes at its ends.
pub struct Compiled {
    pub circuit: Circuit,
    pub solver: Solver,
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
}

/// A tensor during compilation: final wires, or accumulators at scale
/// `2^(2S)` still waiting for a rescale.
#[derive(Clone)]
enum Val {
    Wires(Vec<Wire>),
    Acc(Vec<Wire>),
}

struct Ctx<'a> {
    g: Gadgets<'a>,
    vals: Vec<Option<Val>>,
}

impl Ctx<'_> {
    /// The tensor's values, rescaling pending accumulators (once).
    fn wires(&mut self, t: usize) -> Vec<Wire> {
        match self.vals[t].take().expect("tensor computed before use") {
            Val::Wires(w) => {
                self.vals[t] = Some(Val::Wires(w.clone()));
                w
            }
            Val::Acc(acc) => {
                let w: Vec<Wire> = acc.iter().map(|&a| self.g.rescale(a, 0)).collect();
                self.vals[t] = Some(Val::Wires(w.clone()));
                w
            }
        }
    }
}

/// Compiles `graph` at scale `2^s`.
pub fn compile(graph: &Graph, s: u8) -> Result<Compiled, ModelError> {
    compile_with_progress(graph, s, &mut |_, _| {})
}

/// As [`compile`], reporting `(nodes done, nodes total)` after each node.
pub fn compile_with_progress(
    graph: &Graph,
    s: u8,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Compiled, ModelError> {
    let s32 = s as u32;
    if !(1..=24).contains(&s32) {
        return Err(ModelError::Other(format!("scale bits {s} outside 1..=24")));
    }
    let mut builder = CircuitBuilder::new();
    let mut consumers = vec![0usize; graph.tensors.len()];
    for n in &graph.nodes {
        for &i in &n.inputs {
            consumers[i] += 1;
        }
    }
    consumers[graph.output] += 1;
    let mut ctx = Ctx {
        g: Gadgets {
            b: &mut builder,
            s: s32,
        },
        vals: vec![None; graph.tensors.len()],
    };
    let input: Vec<Wire> = (0..graph.tensors[graph.input].len())
        .map(|_| ctx.g.b.public_input())
        .collect();
    ctx.vals[graph.input] = Some(Val::Wires(input));

    for (k, node) in graph.nodes.iter().enumerate() {
        let nm = node.name.as_str();
        let in_shape = graph.shape(node.inputs[0]).to_vec();
        let out_shape = graph.shape(node.output).to_vec();
        let out_len: usize = out_shape.iter().product();
        let val = match &node.op {
            Op::Relu => match ctx.vals[node.inputs[0]].clone() {
                // A pending rescale fuses with the ReLU when nobody else
                // needs the un-rectified values.
                Some(Val::Acc(acc)) if consumers[node.inputs[0]] == 1 => {
                    Val::Wires(acc.iter().map(|&a| ctx.g.rescale_relu(a, 0)).collect())
                }
                _ => {
                    let x = ctx.wires(node.inputs[0]);
                    Val::Wires(x.iter().map(|&v| ctx.g.relu(v)).collect())
                }
            },
            Op::Dense { weight, bias } => {
                let x = ctx.wires(node.inputs[0]);
                let (o_n, i_n) = (weight.shape[0], weight.shape[1]);
                if i_n == 0 || !x.len().is_multiple_of(i_n) || out_len != x.len() / i_n * o_n {
                    return Err(ModelError::Invalid {
                        node: nm.into(),
                        reason: format!(
                            "weight {:?} does not fit input {in_shape:?}",
                            weight.shape
                        ),
                    });
                }
                let w = quant_all(&weight.data, s32, nm, q1)?;
                let b = match bias {
                    Some(b) => quant_all(&b.data, s32, nm, q2)?,
                    None => vec![0; o_n],
                };
                let mut acc = Vec::with_capacity(out_len);
                let mut terms = Vec::with_capacity(i_n);
                for r in 0..x.len() / i_n {
                    for o in 0..o_n {
                        terms.clear();
                        for i in 0..i_n {
                            if w[o * i_n + i] != 0 {
                                terms.push((x[r * i_n + i], f_from_i64(w[o * i_n + i])));
                            }
                        }
                        acc.push(ctx.g.b.linear(&terms, f_from_i64(b[o])));
                    }
                }
                Val::Acc(acc)
            }
            Op::Conv(c) => {
                let x = ctx.wires(node.inputs[0]);
                let geom = ConvGeom::new(&in_shape, &out_shape, c, nm)?;
                let w = quant_all(&c.weight.data, s32, nm, q1)?;
                let b = match &c.bias {
                    Some(b) => quant_all(&b.data, s32, nm, q2)?,
                    None => vec![0; out_shape[1]],
                };
                let mut acc = Vec::with_capacity(out_len);
                let mut taps = Vec::new();
                let mut terms = Vec::new();
                for o in 0..geom.out_len() {
                    geom.taps(o, &mut taps);
                    terms.clear();
                    terms.extend(
                        taps.iter()
                            .filter(|&&(_, wi)| w[wi] != 0)
                            .map(|&(xi, wi)| (x[xi], f_from_i64(w[wi]))),
                    );
                    acc.push(ctx.g.b.linear(&terms, f_from_i64(b[geom.out_channel(o)])));
                }
                Val::Acc(acc)
            }
            Op::ChannelAffine { scale, shift } => {
                let x = ctx.wires(node.inputs[0]);
                let ch = channel_index(&in_shape, nm)?;
                let sc = quant_all(&scale.data, s32, nm, q1)?;
                let sh = quant_all(&shift.data, s32, nm, q2)?;
                Val::Acc(
                    x.iter()
                        .enumerate()
                        .map(|(k, &v)| {
                            let c = ch(k);
                            ctx.g.b.linear(&[(v, f_from_i64(sc[c]))], f_from_i64(sh[c]))
                        })
                        .collect(),
                )
            }
            Op::Clip { lo, hi } => {
                let (lo, hi) = (q1(*lo, s32, nm)?, q1(*hi, s32, nm)?);
                let x = ctx.wires(node.inputs[0]);
                Val::Wires(x.iter().map(|&v| ctx.g.clip(v, lo, hi.max(lo))).collect())
            }
            Op::HardSigmoid { alpha, beta } => {
                let (a, b) = (q1(*alpha, s32, nm)?, q2(*beta, s32, nm)?);
                let x = ctx.wires(node.inputs[0]);
                Val::Wires(
                    x.iter()
                        .map(|&v| {
                            let acc = ctx.g.b.linear(&[(v, f_from_i64(a))], f_from_i64(b));
                            ctx.g.rescale_unit_clip(acc)
                        })
                        .collect(),
                )
            }
            Op::HardSwish => {
                let (a, b) = (q1(1.0 / 6.0, s32, nm)?, q2(0.5, s32, nm)?);
                let x = ctx.wires(node.inputs[0]);
                Val::Acc(
                    x.iter()
                        .map(|&v| {
                            let acc = ctx.g.b.linear(&[(v, f_from_i64(a))], f_from_i64(b));
                            let hs = ctx.g.rescale_unit_clip(acc);
                            ctx.g.b.mul(v, hs)
                        })
                        .collect(),
                )
            }
            Op::MaxPool(p) => {
                let x = ctx.wires(node.inputs[0]);
                let geom = PoolGeom::new(&in_shape, &out_shape, p, nm)?;
                let mut cells = Vec::new();
                let mut out = Vec::with_capacity(out_len);
                for o in 0..geom.out_len() {
                    geom.cells(o, &mut cells);
                    if cells.is_empty() {
                        return Err(ModelError::Invalid {
                            node: nm.into(),
                            reason: "a pooling window covers only padding".into(),
                        });
                    }
                    let ws: Vec<Wire> = cells.iter().map(|&i| x[i]).collect();
                    out.push(ctx.g.max(&ws));
                }
                Val::Wires(out)
            }
            Op::AveragePool(p) => {
                let geom = PoolGeom::new(&in_shape, &out_shape, p, nm)?;
                avg_pool(&mut ctx, node.inputs[0], &geom, nm)?
            }
            Op::GlobalAveragePool => {
                let geom = PoolGeom::global(&in_shape, nm)?;
                avg_pool(&mut ctx, node.inputs[0], &geom, nm)?
            }
            Op::Add | Op::Sub | Op::Mul => {
                let x = ctx.wires(node.inputs[0]);
                let y = ctx.wires(node.inputs[1]);
                let ma = broadcast_map(&out_shape, &in_shape, nm)?;
                let mb = broadcast_map(&out_shape, graph.shape(node.inputs[1]), nm)?;
                let pairs = ma.iter().zip(&mb).map(|(&i, &j)| (x[i], y[j]));
                match node.op {
                    Op::Add => Val::Wires(pairs.map(|(a, b)| ctx.g.b.add(a, b)).collect()),
                    Op::Sub => Val::Wires(pairs.map(|(a, b)| ctx.g.b.sub(a, b)).collect()),
                    _ => Val::Acc(pairs.map(|(a, b)| ctx.g.b.mul(a, b)).collect()),
                }
            }
            Op::AddConst { c } => {
                let x = ctx.wires(node.inputs[0]);
                let m = broadcast_map(&out_shape, &c.shape, nm)?;
                let cq = quant_all(&c.data, s32, nm, q1)?;
                Val::Wires(
                    x.iter()
                        .zip(&m)
                        .map(|(&v, &j)| ctx.g.b.add_const(v, f_from_i64(cq[j])))
                        .collect(),
                )
            }
            Op::MulConst { c } => {
                let x = ctx.wires(node.inputs[0]);
                let m = broadcast_map(&out_shape, &c.shape, nm)?;
                let cq = quant_all(&c.data, s32, nm, q1)?;
                Val::Acc(
                    x.iter()
                        .zip(&m)
                        .map(|(&v, &j)| ctx.g.b.scale(v, f_from_i64(cq[j])))
                        .collect(),
                )
            }
            Op::Reshape => match ctx.vals[node.inputs[0]].clone() {
                Some(v) => v,
                None => unreachable!("inputs are computed first"),
            },
            Op::Softmax { .. } => {
                return Err(ModelError::Unsupported {
                    node: nm.into(),
                    op: "Softmax".into(),
                })
            }
        };
        let len = match &val {
            Val::Wires(w) | Val::Acc(w) => w.len(),
        };
        if len != out_len {
            return Err(ModelError::Invalid {
                node: nm.into(),
                reason: format!("produced {len} values, shape {out_shape:?} says {out_len}"),
            });
        }
        ctx.vals[node.output] = Some(val);
        progress(k + 1, graph.nodes.len());
    }
    let out = ctx.wires(graph.output);
    for &w in &out {
        ctx.g.b.output(w);
    }
    let (circuit, solver) = builder
        .build_with_solver()
        .map_err(|e| ModelError::Other(format!("circuit construction failed: {e}")))?;
    Ok(Compiled {
        circuit,
        solver,
        input_shape: graph.shape(graph.input).to_vec(),
        output_shape: graph.shape(graph.output).to_vec(),
    })
}

fn avg_pool(ctx: &mut Ctx<'_>, input: usize, geom: &PoolGeom, nm: &str) -> Result<Val, ModelError> {
    let x = ctx.wires(input);
    let mut cells = Vec::new();
    let mut acc = Vec::with_capacity(geom.out_len());
    for o in 0..geom.out_len() {
        let count = geom.cells(o, &mut cells);
        let r = f_from_i64(avg_reciprocal(count, nm)?);
        let terms: Vec<(Wire, F)> = cells.iter().map(|&i| (x[i], r)).collect();
        let sum = ctx.g.b.linear(&terms, F::ZERO);
        acc.push(ctx.g.rescale_by(sum, 0, AVG_BITS));
    }
    Ok(Val::Wires(acc))
}
