//! Plain f32 evaluation of the IR.
//!
//! Why: the quantized evaluator and the circuit are checked against real
//! numbers somewhere. This evaluator follows the f32 semantics documented on
//! each [`Op`] literally, so that comparing it with tract validates the
//! loader (lowering, folding, shapes), and comparing it with the quantized
//! evaluator measures quantization error alone.

use rayon::prelude::*;

use crate::model::ir::{Conv2d, Graph, Node, Op, Pool2d};
use crate::model::onnx::consts::{broadcast_index, broadcast_shape};
use crate::model::ModelError;

/// Evaluate `graph` on `input` (row-major, the input tensor's shape) and
/// return every tensor's value, indexed by `TensorId`. Tensors that no node
/// computes (none, after loading) stay empty.
pub fn eval(graph: &Graph, input: &[f32]) -> Result<Vec<Vec<f32>>, ModelError> {
    let n_in = graph.tensors[graph.input].len();
    if input.len() != n_in {
        return Err(ModelError::Shape {
            tensor: graph.tensors[graph.input].name.clone(),
            expected: graph.tensors[graph.input].shape.clone(),
            got: vec![input.len()],
        });
    }
    let mut vals: Vec<Vec<f32>> = vec![Vec::new(); graph.tensors.len()];
    vals[graph.input] = input.to_vec();
    for node in &graph.nodes {
        let out = eval_node(graph, node, &vals)?;
        vals[node.output] = out;
    }
    Ok(vals)
}

fn bad(node: &Node, reason: impl Into<String>) -> ModelError {
    ModelError::Invalid {
        node: node.name.clone(),
        reason: reason.into(),
    }
}

fn eval_node(g: &Graph, node: &Node, vals: &[Vec<f32>]) -> Result<Vec<f32>, ModelError> {
    let x = &vals[node.inputs[0]];
    let xs = g.shape(node.inputs[0]);
    let os = g.shape(node.output);
    let out = match &node.op {
        Op::Dense { weight, bias } => {
            let (o, i) = (weight.shape[0], weight.shape[1]);
            let rows = x.len() / i.max(1);
            let mut y = vec![0f32; rows * o];
            y.par_chunks_mut(o.max(1)).enumerate().for_each(|(r, yr)| {
                let xr = &x[r * i..(r + 1) * i];
                for (k, yk) in yr.iter_mut().enumerate() {
                    let w = &weight.data[k * i..(k + 1) * i];
                    let mut acc = 0f32;
                    for (a, b) in xr.iter().zip(w) {
                        acc += a * b;
                    }
                    *yk = acc + bias.as_ref().map_or(0.0, |b| b.data[k]);
                }
            });
            y
        }
        Op::Conv(c) => conv(c, x, xs, os),
        Op::ChannelAffine { scale, shift } => {
            let ch = xs[1];
            let inner: usize = xs[2..].iter().product();
            x.iter()
                .enumerate()
                .map(|(k, &v)| {
                    let c = (k / inner) % ch;
                    v * scale.data[c] + shift.data[c]
                })
                .collect()
        }
        Op::Relu => x.iter().map(|&v| v.max(0.0)).collect(),
        Op::Clip { lo, hi } => x.iter().map(|&v| v.max(*lo).min(*hi)).collect(),
        Op::HardSigmoid { alpha, beta } => x
            .iter()
            .map(|&v| (alpha * v + beta).clamp(0.0, 1.0))
            .collect(),
        Op::HardSwish => x
            .iter()
            .map(|&v| v * (v * (1.0 / 6.0) + 0.5).clamp(0.0, 1.0))
            .collect(),
        Op::MaxPool(p) => pool(p, x, xs, os, true),
        Op::AveragePool(p) => pool(p, x, xs, os, false),
        Op::GlobalAveragePool => {
            let hw: usize = xs[2..].iter().product();
            x.chunks(hw.max(1))
                .map(|c| c.iter().sum::<f32>() / hw as f32)
                .collect()
        }
        Op::Add | Op::Sub | Op::Mul => {
            let y = &vals[node.inputs[1]];
            let ys = g.shape(node.inputs[1]);
            let s = broadcast_shape(xs, ys).ok_or_else(|| bad(node, "shapes do not broadcast"))?;
            let ia = broadcast_index(xs, &s);
            let ib = broadcast_index(ys, &s);
            let f = match node.op {
                Op::Add => |a: f32, b: f32| a + b,
                Op::Sub => |a: f32, b: f32| a - b,
                _ => |a: f32, b: f32| a * b,
            };
            ia.iter().zip(&ib).map(|(&i, &j)| f(x[i], y[j])).collect()
        }
        Op::AddConst { c } | Op::MulConst { c } => {
            let idx = broadcast_index(&c.shape, xs);
            let add = matches!(node.op, Op::AddConst { .. });
            x.iter()
                .zip(idx)
                .map(|(&v, j)| if add { v + c.data[j] } else { v * c.data[j] })
                .collect()
        }
        Op::Reshape => x.clone(),
        Op::Softmax { axis } => {
            let d = xs[*axis];
            let inner: usize = xs[axis + 1..].iter().product();
            let outer: usize = xs[..*axis].iter().product();
            let mut y = x.clone();
            for o in 0..outer {
                for i in 0..inner {
                    let at = |k: usize| (o * d + k) * inner + i;
                    let m = (0..d).map(|k| x[at(k)]).fold(f32::NEG_INFINITY, f32::max);
                    let mut sum = 0f32;
                    for k in 0..d {
                        let e = (x[at(k)] - m).exp();
                        y[at(k)] = e;
                        sum += e;
                    }
                    for k in 0..d {
                        y[at(k)] /= sum;
                    }
                }
            }
            y
        }
    };
    if out.len() != g.tensors[node.output].len() {
        return Err(bad(node, "output length disagrees with its shape"));
    }
    Ok(out)
}

fn conv(c: &Conv2d, x: &[f32], xs: &[usize], os: &[usize]) -> Vec<f32> {
    let (ic, ih, iw) = (xs[1], xs[2], xs[3]);
    let (oc, oh, ow) = (os[1], os[2], os[3]);
    let (icg, kh, kw) = (c.weight.shape[1], c.weight.shape[2], c.weight.shape[3]);
    let ocg = oc / c.groups;
    let mut y = vec![0f32; os.iter().product()];
    y.par_chunks_mut(oh * ow)
        .enumerate()
        .for_each(|(plane, yp)| {
            let (n, o) = (plane / oc, plane % oc);
            let g = o / ocg;
            yp.fill(c.bias.as_ref().map_or(0.0, |b| b.data[o]));
            for ci in 0..icg {
                let xin = &x[(n * ic + g * icg + ci) * ih * iw..][..ih * iw];
                for ky in 0..kh {
                    for kx in 0..kw {
                        let w = c.weight.data[((o * icg + ci) * kh + ky) * kw + kx];
                        for oy in 0..oh {
                            let iy = (oy * c.strides[0] + ky * c.dilations[0]) as isize
                                - c.pads[0] as isize;
                            if iy < 0 || iy >= ih as isize {
                                continue;
                            }
                            let row = &xin[iy as usize * iw..][..iw];
                            let yrow = &mut yp[oy * ow..][..ow];
                            for (ox, yv) in yrow.iter_mut().enumerate() {
                                let ix = (ox * c.strides[1] + kx * c.dilations[1]) as isize
                                    - c.pads[1] as isize;
                                if ix >= 0 && ix < iw as isize {
                                    *yv += w * row[ix as usize];
                                }
                            }
                        }
                    }
                }
            }
        });
    y
}

fn pool(p: &Pool2d, x: &[f32], xs: &[usize], os: &[usize], max: bool) -> Vec<f32> {
    let (ih, iw) = (xs[2], xs[3]);
    let (oh, ow) = (os[2], os[3]);
    let planes = xs[0] * xs[1];
    let mut y = vec![0f32; planes * oh * ow];
    y.par_chunks_mut(oh * ow).enumerate().for_each(|(pl, yp)| {
        let xin = &x[pl * ih * iw..][..ih * iw];
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = if max { f32::NEG_INFINITY } else { 0.0 };
                let mut count = 0usize;
                for ky in 0..p.kernel[0] {
                    let iy = (oy * p.strides[0] + ky) as isize - p.pads[0] as isize;
                    if iy < 0 || iy >= ih as isize {
                        continue;
                    }
                    for kx in 0..p.kernel[1] {
                        let ix = (ox * p.strides[1] + kx) as isize - p.pads[1] as isize;
                        if ix < 0 || ix >= iw as isize {
                            continue;
                        }
                        let v = xin[iy as usize * iw + ix as usize];
                        if max {
                            acc = acc.max(v);
                        } else {
                            acc += v;
                        }
                        count += 1;
                    }
                }
                yp[oy * ow + ox] = if max {
                    acc
                } else {
                    let div = if p.count_include_pad {
                        p.kernel[0] * p.kernel[1]
                    } else {
                        count
                    };
                    acc / div.max(1) as f32
                };
            }
        }
    });
    y
}
