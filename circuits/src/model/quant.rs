//! The exact quantized evaluator: the reference the circuit matches bit for
//! bit.
//!
//! Why our own: tract's integer kernels wrap silently on overflow and some
//! panic. Here every value is an `i64` at scale `2^S`, products accumulate in
//! `i128`, and leaving the representable range is an error that names the
//! node, the same range the circuit's gadgets enforce:
//!
//! * every tensor value satisfies `|v| < 2^31` ([`ACT_BITS`]);
//! * every accumulator (sum of products plus bias) satisfies `|a| < 2^62`
//!   ([`ACC_BITS`]), far below the Goldilocks modulus, so field arithmetic
//!   never wraps for an honest witness.
//!
//! Rounding: constants round half away from zero (`f64::round`); a rescale
//! rounds half up: `rescale(a) = floor((a + 2^(S-1)) / 2^S)`.

use rayon::prelude::*;

use crate::model::geometry::{broadcast_map, ConvGeom, PoolGeom};
use crate::model::ir::{Graph, Node, Op};
use crate::model::{ModelError, QTensor};

/// Tensor values stay below `2^ACT_BITS` in magnitude.
pub const ACT_BITS: u32 = 31;
/// Accumulators stay below `2^ACC_BITS` in magnitude.
pub const ACC_BITS: u32 = 62;

/// `round(x * 2^bits)`, refusing values that do not fit `|v| < 2^limit`.
pub fn quantize(x: f32, bits: u32, limit: u32, node: &str) -> Result<i64, ModelError> {
    let v = (x as f64 * (1u64 << bits) as f64).round();
    if !v.is_finite() || v.abs() >= (1u64 << limit) as f64 {
        return Err(ModelError::Invalid {
            node: node.into(),
            reason: format!("constant {x} does not fit at scale 2^{bits}"),
        });
    }
    Ok(v as i64)
}

/// A weight or multiplicative constant at `2^S`.
pub fn q1(x: f32, s: u32, node: &str) -> Result<i64, ModelError> {
    quantize(x, s, ACT_BITS, node)
}

/// A bias or additive term of a product, at `2^(2S)`.
pub fn q2(x: f32, s: u32, node: &str) -> Result<i64, ModelError> {
    quantize(x, 2 * s, ACC_BITS - 2, node)
}

/// Averages multiply by `round(2^AVG_BITS / count)` and rescale by
/// `2^AVG_BITS`: a reciprocal at `2^S` would be off by up to 12% for a
/// 48x48 global pool.
pub const AVG_BITS: u32 = 20;

/// Quantizes every value of a constant with `q` ([`q1`] or [`q2`]).
pub(crate) fn quant_all(
    data: &[f32],
    s: u32,
    nm: &str,
    q: fn(f32, u32, &str) -> Result<i64, ModelError>,
) -> Result<Vec<i64>, ModelError> {
    data.iter().map(|&v| q(v, s, nm)).collect()
}

/// `floor((acc + 2^(s-1)) / 2^s)`, with both range checks.
pub fn rescale(acc: i128, s: u32, node: &str) -> Result<i64, ModelError> {
    check(acc, ACC_BITS, node)?;
    let q = (acc + (1i128 << (s - 1))).div_euclid(1i128 << s);
    check(q, ACT_BITS, node)?;
    Ok(q as i64)
}

fn check(v: i128, bits: u32, node: &str) -> Result<(), ModelError> {
    if v.unsigned_abs() >= 1u128 << bits {
        return Err(ModelError::Overflow {
            node: node.into(),
            value: v,
            bits,
        });
    }
    Ok(())
}

fn act(v: i128, node: &str) -> Result<i64, ModelError> {
    check(v, ACT_BITS, node)?;
    Ok(v as i64)
}

/// Evaluates the graph on a quantized input; returns every tensor's values
/// (indexed by tensor id; tensors the graph never computes stay empty).
pub fn eval(graph: &Graph, s: u8, input: &QTensor) -> Result<Vec<Vec<i64>>, ModelError> {
    let s = s as u32;
    if !(1..=24).contains(&s) {
        return Err(ModelError::Other(format!("scale bits {s} outside 1..=24")));
    }
    let in_info = &graph.tensors[graph.input];
    if input.shape != in_info.shape {
        return Err(ModelError::Shape {
            tensor: in_info.name.clone(),
            expected: in_info.shape.clone(),
            got: input.shape.clone(),
        });
    }
    if input.scale_bits as u32 != s {
        return Err(ModelError::Other(format!(
            "input is at scale 2^{}, the model at 2^{s}",
            input.scale_bits
        )));
    }
    let mut values: Vec<Vec<i64>> = vec![Vec::new(); graph.tensors.len()];
    let name = &in_info.name;
    values[graph.input] = input
        .values
        .iter()
        .map(|&v| act(v as i128, name))
        .collect::<Result<_, _>>()?;
    for node in &graph.nodes {
        let out = eval_node(graph, node, s, &values)?;
        let want = graph.tensors[node.output].len();
        if out.len() != want {
            return Err(ModelError::Invalid {
                node: node.name.clone(),
                reason: format!("produced {} values, shape says {want}", out.len()),
            });
        }
        values[node.output] = out;
    }
    Ok(values)
}

fn eval_node(
    graph: &Graph,
    node: &Node,
    s: u32,
    values: &[Vec<i64>],
) -> Result<Vec<i64>, ModelError> {
    let nm = node.name.as_str();
    let x = &values[node.inputs[0]];
    let in_shape = graph.shape(node.inputs[0]);
    let out_shape = graph.shape(node.output);
    match &node.op {
        Op::Dense { weight, bias } => {
            let (o_n, i_n) = (weight.shape[0], weight.shape[1]);
            let w: Vec<i64> = quant_all(&weight.data, s, nm, q1)?;
            let b: Vec<i64> = match bias {
                Some(b) => quant_all(&b.data, s, nm, q2)?,
                None => vec![0; o_n],
            };
            if i_n == 0 || !x.len().is_multiple_of(i_n) {
                return Err(ModelError::Invalid {
                    node: nm.into(),
                    reason: format!("weight {:?} does not fit input {in_shape:?}", weight.shape),
                });
            }
            let rows = x.len() / i_n;
            (0..rows * o_n)
                .into_par_iter()
                .map(|k| {
                    let (r, o) = (k / o_n, k % o_n);
                    let acc = b[o] as i128
                        + (0..i_n)
                            .map(|i| w[o * i_n + i] as i128 * x[r * i_n + i] as i128)
                            .sum::<i128>();
                    rescale(acc, s, nm)
                })
                .collect()
        }
        Op::Conv(c) => {
            let g = ConvGeom::new(in_shape, out_shape, c, nm)?;
            let w: Vec<i64> = quant_all(&c.weight.data, s, nm, q1)?;
            let b: Vec<i64> = match &c.bias {
                Some(b) => quant_all(&b.data, s, nm, q2)?,
                None => vec![0; out_shape[1]],
            };
            (0..g.out_len())
                .into_par_iter()
                .map_init(Vec::new, |buf, o| {
                    g.taps(o, buf);
                    let acc = b[g.out_channel(o)] as i128
                        + buf
                            .iter()
                            .map(|&(xi, wi)| w[wi] as i128 * x[xi] as i128)
                            .sum::<i128>();
                    rescale(acc, s, nm)
                })
                .collect()
        }
        Op::ChannelAffine { scale, shift } => {
            let ch = channel_index(in_shape, nm)?;
            let sc: Vec<i64> = quant_all(&scale.data, s, nm, q1)?;
            let sh: Vec<i64> = quant_all(&shift.data, s, nm, q2)?;
            x.iter()
                .enumerate()
                .map(|(k, &v)| {
                    let c = ch(k);
                    rescale(sc[c] as i128 * v as i128 + sh[c] as i128, s, nm)
                })
                .collect()
        }
        Op::Relu => Ok(x.iter().map(|&v| v.max(0)).collect()),
        Op::Clip { lo, hi } => {
            let (lo, hi) = (q1(*lo, s, nm)?, q1(*hi, s, nm)?);
            Ok(x.iter().map(|&v| v.clamp(lo, hi.max(lo))).collect())
        }
        Op::HardSigmoid { alpha, beta } => {
            let (a, b) = (q1(*alpha, s, nm)?, q2(*beta, s, nm)?);
            x.iter()
                .map(|&v| Ok(rescale(a as i128 * v as i128 + b as i128, s, nm)?.clamp(0, 1 << s)))
                .collect()
        }
        Op::HardSwish => {
            let (a, b) = (q1(1.0 / 6.0, s, nm)?, q2(0.5, s, nm)?);
            x.iter()
                .map(|&v| {
                    let hs = rescale(a as i128 * v as i128 + b as i128, s, nm)?.clamp(0, 1 << s);
                    rescale(hs as i128 * v as i128, s, nm)
                })
                .collect()
        }
        Op::MaxPool(p) => {
            let g = PoolGeom::new(in_shape, out_shape, p, nm)?;
            let mut buf = Vec::new();
            (0..g.out_len())
                .map(|o| {
                    g.cells(o, &mut buf);
                    buf.iter()
                        .map(|&i| x[i])
                        .max()
                        .ok_or_else(|| ModelError::Invalid {
                            node: nm.into(),
                            reason: "a pooling window covers only padding".into(),
                        })
                })
                .collect()
        }
        Op::AveragePool(p) => avg_pool(&PoolGeom::new(in_shape, out_shape, p, nm)?, x, nm),
        Op::GlobalAveragePool => avg_pool(&PoolGeom::global(in_shape, nm)?, x, nm),
        Op::Add | Op::Sub | Op::Mul => {
            let y = &values[node.inputs[1]];
            let ma = broadcast_map(out_shape, in_shape, nm)?;
            let mb = broadcast_map(out_shape, graph.shape(node.inputs[1]), nm)?;
            ma.iter()
                .zip(&mb)
                .map(|(&i, &j)| {
                    let (a, b) = (x[i] as i128, y[j] as i128);
                    match node.op {
                        Op::Add => act(a + b, nm),
                        Op::Sub => act(a - b, nm),
                        _ => rescale(a * b, s, nm),
                    }
                })
                .collect()
        }
        Op::AddConst { c } => {
            let m = broadcast_map(out_shape, &c.shape, nm)?;
            let cq: Vec<i64> = quant_all(&c.data, s, nm, q1)?;
            x.iter()
                .zip(&m)
                .map(|(&v, &j)| act(v as i128 + cq[j] as i128, nm))
                .collect()
        }
        Op::MulConst { c } => {
            let m = broadcast_map(out_shape, &c.shape, nm)?;
            let cq: Vec<i64> = quant_all(&c.data, s, nm, q1)?;
            x.iter()
                .zip(&m)
                .map(|(&v, &j)| rescale(cq[j] as i128 * v as i128, s, nm))
                .collect()
        }
        Op::Reshape => Ok(x.clone()),
        Op::Softmax { .. } => Err(ModelError::Unsupported {
            node: nm.into(),
            op: "Softmax".into(),
        }),
    }
}

/// `round(2^AVG_BITS / count)`.
pub fn avg_reciprocal(count: usize, nm: &str) -> Result<i64, ModelError> {
    if count == 0 {
        return Err(ModelError::Invalid {
            node: nm.into(),
            reason: "a pooling window covers only padding".into(),
        });
    }
    let c = count as i64;
    Ok(((1i64 << AVG_BITS) + c / 2) / c)
}

fn avg_pool(g: &PoolGeom, x: &[i64], nm: &str) -> Result<Vec<i64>, ModelError> {
    let mut buf = Vec::new();
    (0..g.out_len())
        .map(|o| {
            let count = g.cells(o, &mut buf);
            let r = avg_reciprocal(count, nm)?;
            let sum: i128 = buf.iter().map(|&i| x[i] as i128).sum();
            rescale(r as i128 * sum, AVG_BITS, nm)
        })
        .collect()
}

/// Maps a flat index of an `[N, C, ...]` tensor to its channel.
pub(crate) fn channel_index(
    shape: &[usize],
    nm: &str,
) -> Result<impl Fn(usize) -> usize + use<>, ModelError> {
    if shape.len() < 2 {
        return Err(ModelError::Invalid {
            node: nm.into(),
            reason: format!("per-channel op on rank-{} tensor", shape.len()),
        });
    }
    let inner: usize = shape[2..].iter().product();
    let c = shape[1];
    Ok(move |k: usize| (k / inner) % c)
}
