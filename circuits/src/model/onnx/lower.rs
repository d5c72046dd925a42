//! ONNX graph → static IR: constant folding, shape inference and op lowering.
//!
//! Why one pass: with the input shape pinned, every tensor is either a
//! constant (weights, shape arithmetic) or a graph tensor with a static shape.
//! Walking the nodes once in file order and keeping a [`Val`] per ONNX name
//! is enough to fold the constant chains, infer shapes and emit IR nodes,
//! while folds that look one node back (BatchNormalization into Conv, bias
//! Adds into Conv/Dense) can rewrite the node just emitted.

use std::collections::HashMap;

use tract_onnx::pb::{type_proto, ModelProto, NodeProto};

use super::attrs::Attrs;
use super::consts::{broadcast_shape, checked_len, CTensor, Data};
use crate::model::ir::{Const, Conv2d, Graph, Node, Op, Pool2d, TensorId, TensorInfo};
use crate::model::ModelError;

/// Most nodes a model may have.
const MAX_NODES: usize = 100_000;

/// Most constant elements folding may create in total, so that a small file
/// of ConstantOfShape nodes cannot exhaust memory.
const MAX_FOLDED: usize = 1 << 27;

/// What an ONNX name stands for while loading.
#[derive(Clone, Debug)]
enum Val {
    C(CTensor),
    T(TensorId),
}

struct Builder {
    tensors: Vec<TensorInfo>,
    nodes: Vec<Node>,
    vals: HashMap<String, Val>,
    /// How many ONNX nodes (plus the graph output) read each name; folds into
    /// a previous node are only legal when it has a single reader.
    readers: HashMap<String, usize>,
    opset: i64,
    /// Constant elements created by folding so far.
    folded: usize,
}

fn unsupported(node: &str, op: impl Into<String>) -> ModelError {
    ModelError::Unsupported {
        node: node.to_string(),
        op: op.into(),
    }
}

fn invalid(node: &str, reason: impl Into<String>) -> ModelError {
    ModelError::Invalid {
        node: node.to_string(),
        reason: reason.into(),
    }
}

/// Normalise a possibly negative axis against `rank`.
fn axis(a: &Attrs, v: i64, rank: usize) -> Result<usize, ModelError> {
    let r = rank as i64;
    let x = if v < 0 { v + r } else { v };
    if (0..r).contains(&x) {
        Ok(x as usize)
    } else {
        Err(a.invalid(format!("axis {v} out of range for rank {rank}")))
    }
}

fn to_const(c: &CTensor) -> Const {
    Const::new(c.shape.clone(), c.to_f32())
}

fn is_inf(x: f32) -> bool {
    !x.is_finite() || x.abs() >= f32::MAX
}

/// Output size and `[top, left, bottom, right]` pads of a window op.
fn window(
    a: &Attrs,
    input: [usize; 2],
    kernel: [usize; 2],
    strides: [usize; 2],
    dil: [usize; 2],
) -> Result<([usize; 4], [usize; 2]), ModelError> {
    if kernel.contains(&0) || strides.contains(&0) || dil.contains(&0) {
        return Err(a.invalid("kernel, strides and dilations must be positive"));
    }
    let eff = [(kernel[0] - 1) * dil[0] + 1, (kernel[1] - 1) * dil[1] + 1];
    let auto = a.string("auto_pad").unwrap_or_else(|| "NOTSET".into());
    let pads: [usize; 4] = match auto.as_str() {
        "NOTSET" | "" => {
            let p = a.usizes("pads", 4, 0)?;
            [p[0], p[1], p[2], p[3]]
        }
        "VALID" => [0; 4],
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut p = [0; 4];
            for i in 0..2 {
                let out = input[i].div_ceil(strides[i]);
                let total = ((out.max(1) - 1) * strides[i] + eff[i]).saturating_sub(input[i]);
                let small = total / 2;
                let (b, e) = if auto == "SAME_UPPER" {
                    (small, total - small)
                } else {
                    (total - small, small)
                };
                p[i] = b;
                p[i + 2] = e;
            }
            p
        }
        other => return Err(a.invalid(format!("unknown auto_pad {other}"))),
    };
    let mut out = [0; 2];
    for i in 0..2 {
        let padded = input[i] + pads[i] + pads[i + 2];
        if padded < eff[i] {
            return Err(a.invalid(format!(
                "window {} larger than padded input {}",
                eff[i], padded
            )));
        }
        out[i] = (padded - eff[i]) / strides[i] + 1;
    }
    Ok((pads, out))
}

fn pair(v: &[usize]) -> [usize; 2] {
    [v[0], v[1]]
}

impl Builder {
    fn get(&self, node: &str, name: &str) -> Result<Val, ModelError> {
        self.vals
            .get(name)
            .cloned()
            .ok_or_else(|| invalid(node, format!("input '{name}' is not defined before use")))
    }

    fn input(&self, n: &NodeProto, name: &str, i: usize) -> Result<Val, ModelError> {
        match n.input.get(i) {
            Some(s) if !s.is_empty() => self.get(name, s),
            _ => Err(invalid(name, format!("missing input {i}"))),
        }
    }

    fn opt_input(&self, n: &NodeProto, name: &str, i: usize) -> Result<Option<Val>, ModelError> {
        match n.input.get(i) {
            Some(s) if !s.is_empty() => self.get(name, s).map(Some),
            _ => Ok(None),
        }
    }

    fn const_input(
        &self,
        n: &NodeProto,
        name: &str,
        i: usize,
        what: &str,
    ) -> Result<CTensor, ModelError> {
        match self.input(n, name, i)? {
            Val::C(c) => Ok(c),
            Val::T(_) => Err(unsupported(
                name,
                format!("{} with a non-constant {what}", n.op_type),
            )),
        }
    }

    fn tensor_input(&self, n: &NodeProto, name: &str, i: usize) -> Result<TensorId, ModelError> {
        match self.input(n, name, i)? {
            Val::T(t) => Ok(t),
            Val::C(_) => Err(unsupported(
                name,
                format!("{} on a constant input", n.op_type),
            )),
        }
    }

    fn new_tensor(&mut self, name: &str, shape: Vec<usize>) -> Result<TensorId, ModelError> {
        if checked_len(&shape).is_none() {
            return Err(ModelError::Other(format!(
                "tensor '{name}': shape {shape:?} is too large"
            )));
        }
        // Empty graph tensors have no meaning for a proof and would only
        // reach corner cases of the evaluators.
        if shape.contains(&0) {
            return Err(ModelError::Other(format!(
                "tensor '{name}': shape {shape:?} is empty"
            )));
        }
        self.tensors.push(TensorInfo {
            name: name.to_string(),
            shape,
        });
        Ok(self.tensors.len() - 1)
    }

    /// Emit a node; its output tensor is named `out`.
    fn emit(
        &mut self,
        name: &str,
        op: Op,
        inputs: Vec<TensorId>,
        out: &str,
        shape: Vec<usize>,
    ) -> Result<TensorId, ModelError> {
        let t = self.new_tensor(out, shape)?;
        self.nodes.push(Node {
            name: name.to_string(),
            op,
            inputs,
            output: t,
        });
        Ok(t)
    }

    fn define(&mut self, name: &str, out: &str, v: Val) -> Result<(), ModelError> {
        if self.vals.insert(out.to_string(), v).is_some() {
            return Err(invalid(name, format!("tensor '{out}' is defined twice")));
        }
        Ok(())
    }

    fn shape(&self, t: TensorId) -> Vec<usize> {
        self.tensors[t].shape.clone()
    }

    /// The last emitted node, if it produces `t` and `t` has one reader.
    fn sole_producer(&mut self, t: TensorId) -> Option<&mut Node> {
        let onnx_name = &self.tensors[t].name;
        if self.readers.get(onnx_name).copied() != Some(1) {
            return None;
        }
        self.nodes.last_mut().filter(|n| n.output == t)
    }

    fn lower_node(&mut self, n: &NodeProto, name: &str) -> Result<(), ModelError> {
        let a = Attrs::new(n, name);
        let op = n.op_type.as_str();
        let out = match n.output.first() {
            Some(o) if !o.is_empty() => o.clone(),
            _ => return Err(invalid(name, "node has no output")),
        };
        let v: Val = match op {
            "Constant" => Val::C(self.constant(&a)?),
            "Identity" | "Dropout" => {
                let v = self.input(n, name, 0)?;
                self.pin(&v);
                v
            }
            "Shape" => {
                let s: Vec<i64> = match self.input(n, name, 0)? {
                    Val::C(c) => c.shape.iter().map(|&d| d as i64).collect(),
                    Val::T(t) => self.tensors[t].shape.iter().map(|&d| d as i64).collect(),
                };
                let r = s.len() as i64;
                let norm = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
                let start = norm(a.int("start", 0));
                let end = norm(a.int("end", r));
                let s = s[start..end.max(start)].to_vec();
                Val::C(CTensor::i64(vec![s.len()], s))
            }
            "Cast" => {
                let to = a.int("to", 1);
                let float = matches!(to, 1 | 10 | 11 | 16);
                match self.input(n, name, 0)? {
                    Val::T(t) if float => {
                        self.pin(&Val::T(t));
                        Val::T(t)
                    }
                    Val::T(_) => {
                        return Err(unsupported(
                            name,
                            "Cast of a graph tensor to an integer type",
                        ))
                    }
                    Val::C(c) if float => Val::C(CTensor::f32(c.shape.clone(), c.to_f32())),
                    Val::C(c) if to == 9 => Val::C(CTensor::i64(
                        c.shape.clone(),
                        c.to_f32().iter().map(|&x| (x != 0.0) as i64).collect(),
                    )),
                    Val::C(c) => Val::C(CTensor::i64(c.shape.clone(), c.to_i64())),
                }
            }
            "Gather" => {
                let data = self.const_input(n, name, 0, "data")?;
                let idx = self.const_input(n, name, 1, "indices")?;
                let ax = axis(&a, a.int("axis", 0), data.shape.len())?;
                Val::C(data.gather(ax, &idx).map_err(|e| invalid(name, e))?)
            }
            "Slice" => self.slice(n, &a)?,
            "Concat" => {
                let mut parts = Vec::new();
                for i in 0..n.input.len() {
                    parts.push(self.const_input(n, name, i, "input")?);
                }
                let rank = parts.first().map(|p| p.shape.len()).unwrap_or(0);
                let ax = axis(&a, a.int("axis", 0), rank)?;
                Val::C(CTensor::concat(&parts, ax).map_err(|e| invalid(name, e))?)
            }
            "ConstantOfShape" => {
                let shape = self.dims_from(n, name, 0)?;
                let len = checked_len(&shape).ok_or_else(|| invalid(name, "shape too large"))?;
                let value = match a.tensor("value") {
                    Some(t) => CTensor::from_proto(t)?,
                    None => CTensor::f32(vec![1], vec![0.0]),
                };
                if value.len() != 1 {
                    return Err(invalid(name, "value must have one element"));
                }
                Val::C(match value.data {
                    Data::F(v) => CTensor::f32(shape, vec![v[0]; len]),
                    Data::I(v) => CTensor::i64(shape, vec![v[0]; len]),
                })
            }
            "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" => self.reshape(n, &a, &out)?,
            "Add" | "Sub" | "Mul" | "Div" => self.binary(n, &a, &out)?,
            "Gemm" => self.gemm(n, &a, &out)?,
            "MatMul" => {
                let x = self.tensor_input(n, name, 0)?;
                let b = self.const_input(n, name, 1, "right operand")?;
                if b.shape.len() != 2 {
                    return Err(unsupported(name, "MatMul with a non 2-D constant"));
                }
                let (k, m) = (b.shape[0], b.shape[1]);
                let bv = b.to_f32();
                let mut w = vec![0f32; k * m];
                for i in 0..k {
                    for o in 0..m {
                        w[o * k + i] = bv[i * m + o];
                    }
                }
                self.dense(name, x, Const::new(vec![m, k], w), None, &out)?
            }
            "Conv" => self.conv(n, &a, &out)?,
            "BatchNormalization" => self.batchnorm(n, &a, &out)?,
            "Relu" => self.unary(n, name, Op::Relu, &out)?,
            "HardSwish" => self.unary(n, name, Op::HardSwish, &out)?,
            "HardSigmoid" => {
                let op = Op::HardSigmoid {
                    alpha: a.float("alpha", 0.2),
                    beta: a.float("beta", 0.5),
                };
                self.unary(n, name, op, &out)?
            }
            "Clip" => self.clip(n, &a, &out)?,
            "MaxPool" | "AveragePool" => self.pool(n, &a, &out)?,
            "GlobalAveragePool" => {
                let x = self.tensor_input(n, name, 0)?;
                let s = self.shape(x);
                if s.len() != 4 {
                    return Err(invalid(name, format!("expected NCHW input, got {s:?}")));
                }
                Val::T(self.emit(
                    name,
                    Op::GlobalAveragePool,
                    vec![x],
                    &out,
                    vec![s[0], s[1], 1, 1],
                )?)
            }
            "Softmax" => self.softmax(n, &a, &out)?,
            other => return Err(unsupported(name, other)),
        };
        if let Val::C(c) = &v {
            self.folded = self.folded.saturating_add(c.len());
            if self.folded > MAX_FOLDED {
                return Err(invalid(name, "constant folding creates too much data"));
            }
        }
        self.define(name, &out, v)
    }

    /// A graph tensor now known under a second name must never be rewritten
    /// in place by a later fold.
    fn pin(&mut self, v: &Val) {
        if let Val::T(t) = v {
            *self
                .readers
                .entry(self.tensors[*t].name.clone())
                .or_default() += 2;
        }
    }

    fn unary(&mut self, n: &NodeProto, name: &str, op: Op, out: &str) -> Result<Val, ModelError> {
        let x = self.tensor_input(n, name, 0)?;
        let s = self.shape(x);
        Ok(Val::T(self.emit(name, op, vec![x], out, s)?))
    }

    fn constant(&self, a: &Attrs) -> Result<CTensor, ModelError> {
        if let Some(t) = a.tensor("value") {
            return CTensor::from_proto(t);
        }
        let node = a.node;
        for at in &node.attribute {
            match at.name.as_str() {
                "value_float" => return Ok(CTensor::f32(vec![], vec![at.f])),
                "value_floats" => {
                    return Ok(CTensor::f32(vec![at.floats.len()], at.floats.clone()))
                }
                "value_int" => return Ok(CTensor::i64(vec![], vec![at.i])),
                "value_ints" => return Ok(CTensor::i64(vec![at.ints.len()], at.ints.clone())),
                _ => {}
            }
        }
        Err(unsupported(a.name, "Constant without a dense value"))
    }

    /// A constant 1-D integer input read as dims (Reshape/ConstantOfShape).
    fn dims_from(&self, n: &NodeProto, name: &str, i: usize) -> Result<Vec<usize>, ModelError> {
        let c = self.const_input(n, name, i, "shape")?;
        c.to_i64()
            .into_iter()
            .map(|d| usize::try_from(d).map_err(|_| invalid(name, format!("negative dim {d}"))))
            .collect()
    }

    fn slice(&self, n: &NodeProto, a: &Attrs) -> Result<Val, ModelError> {
        let name = a.name;
        let data = self.const_input(n, name, 0, "data")?;
        let rank = data.shape.len();
        let (starts, ends, axes, steps) = if self.opset < 10 {
            let s = a.ints("starts").unwrap_or(&[]).to_vec();
            let e = a.ints("ends").unwrap_or(&[]).to_vec();
            let ax = a.ints("axes").map(|v| v.to_vec());
            (s, e, ax, None)
        } else {
            let s = self.const_input(n, name, 1, "starts")?.to_i64();
            let e = self.const_input(n, name, 2, "ends")?.to_i64();
            let ax = match self.opt_input(n, name, 3)? {
                Some(Val::C(c)) => Some(c.to_i64()),
                Some(Val::T(_)) => return Err(unsupported(name, "Slice with non-constant axes")),
                None => None,
            };
            let st = match self.opt_input(n, name, 4)? {
                Some(Val::C(c)) => Some(c.to_i64()),
                Some(Val::T(_)) => return Err(unsupported(name, "Slice with non-constant steps")),
                None => None,
            };
            (s, e, ax, st)
        };
        let axes: Vec<i64> = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
        let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
        if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
            return Err(a.invalid("starts, ends, axes and steps differ in length"));
        }
        let axes: Vec<usize> = axes
            .iter()
            .map(|&x| axis(a, x, rank))
            .collect::<Result<_, _>>()?;
        Ok(Val::C(
            data.slice(&axes, &starts, &ends, &steps)
                .map_err(|e| invalid(name, e))?,
        ))
    }

    fn reshape(&mut self, n: &NodeProto, a: &Attrs, out: &str) -> Result<Val, ModelError> {
        let name = a.name;
        let x = self.input(n, name, 0)?;
        let in_shape = match &x {
            Val::C(c) => c.shape.clone(),
            Val::T(t) => self.shape(*t),
        };
        let rank = in_shape.len();
        let new_shape: Vec<usize> = match n.op_type.as_str() {
            "Reshape" => {
                let spec = self.const_input(n, name, 1, "shape")?.to_i64();
                let allow_zero = a.int("allowzero", 0) != 0;
                let mut shape = Vec::with_capacity(spec.len());
                let mut infer = None;
                for (i, &d) in spec.iter().enumerate() {
                    match d {
                        -1 if infer.is_none() => {
                            infer = Some(i);
                            shape.push(1);
                        }
                        0 if !allow_zero => shape.push(
                            *in_shape
                                .get(i)
                                .ok_or_else(|| a.invalid("0 in shape beyond input rank"))?,
                        ),
                        d if d >= 0 => shape.push(d as usize),
                        d => return Err(a.invalid(format!("bad shape entry {d}"))),
                    }
                }
                if let Some(i) = infer {
                    let known = checked_len(&shape).ok_or_else(|| a.invalid("shape too large"))?;
                    let total = checked_len(&in_shape).unwrap_or(0);
                    if known == 0 || !total.is_multiple_of(known) {
                        return Err(a.invalid(format!(
                            "cannot infer -1 reshaping {in_shape:?} to {spec:?}"
                        )));
                    }
                    shape[i] = total / known;
                }
                shape
            }
            "Flatten" => {
                let ax = a.int("axis", 1);
                let ax = if ax < 0 { ax + rank as i64 } else { ax };
                if !(0..=rank as i64).contains(&ax) {
                    return Err(a.invalid(format!("axis {ax} out of range")));
                }
                let ax = ax as usize;
                vec![
                    in_shape[..ax].iter().product(),
                    in_shape[ax..].iter().product(),
                ]
            }
            "Squeeze" => {
                let axes = self.axes_of(n, a)?;
                match axes {
                    None => in_shape.iter().copied().filter(|&d| d != 1).collect(),
                    Some(ax) => {
                        let ax: Vec<usize> = ax
                            .iter()
                            .map(|&v| axis(a, v, rank))
                            .collect::<Result<_, _>>()?;
                        if ax.iter().any(|&i| in_shape[i] != 1) {
                            return Err(a.invalid("squeezing a dim that is not 1"));
                        }
                        (0..rank)
                            .filter(|i| !ax.contains(i))
                            .map(|i| in_shape[i])
                            .collect()
                    }
                }
            }
            _ => {
                let ax = self
                    .axes_of(n, a)?
                    .ok_or_else(|| a.invalid("Unsqueeze needs axes"))?;
                let out_rank = rank + ax.len();
                let ax: Vec<usize> = ax
                    .iter()
                    .map(|&v| axis(a, v, out_rank))
                    .collect::<Result<_, _>>()?;
                let mut it = in_shape.iter();
                (0..out_rank)
                    .map(|i| {
                        if ax.contains(&i) {
                            1
                        } else {
                            *it.next().unwrap_or(&1)
                        }
                    })
                    .collect()
            }
        };
        if checked_len(&new_shape) != checked_len(&in_shape) || checked_len(&new_shape).is_none() {
            return Err(a.invalid(format!("cannot reshape {in_shape:?} to {new_shape:?}")));
        }
        Ok(match x {
            Val::C(c) => Val::C(c.reshaped(new_shape)),
            Val::T(t) => Val::T(self.emit(name, Op::Reshape, vec![t], out, new_shape)?),
        })
    }

    fn axes_of(&self, n: &NodeProto, a: &Attrs) -> Result<Option<Vec<i64>>, ModelError> {
        if self.opset >= 13 {
            Ok(match self.opt_input(n, a.name, 1)? {
                Some(Val::C(c)) => Some(c.to_i64()),
                Some(Val::T(_)) => {
                    return Err(unsupported(
                        a.name,
                        format!("{} with non-constant axes", n.op_type),
                    ))
                }
                None => None,
            })
        } else {
            Ok(a.ints("axes").map(|v| v.to_vec()))
        }
    }

    /// `c` broadcast against graph tensor `x`, as a constant of `x`'s rank.
    fn broadcast_const(
        &self,
        name: &str,
        x_shape: &[usize],
        c: &CTensor,
    ) -> Result<Const, ModelError> {
        let out = broadcast_shape(x_shape, &c.shape);
        if out.as_deref() != Some(x_shape) {
            return Err(unsupported(
                name,
                format!(
                    "constant of shape {:?} broadcast to {x_shape:?} changes its shape",
                    c.shape
                ),
            ));
        }
        let mut shape = vec![1; x_shape.len() - c.shape.len()];
        shape.extend_from_slice(&c.shape);
        Ok(Const::new(shape, c.to_f32()))
    }

    fn binary(&mut self, n: &NodeProto, a: &Attrs, out: &str) -> Result<Val, ModelError> {
        let name = a.name;
        let op = n.op_type.as_str();
        let x = self.input(n, name, 0)?;
        let y = self.input(n, name, 1)?;
        match (x, y) {
            (Val::C(p), Val::C(q)) => Ok(Val::C(p.binary(&q, op).map_err(|e| invalid(name, e))?)),
            (Val::T(p), Val::T(q)) => {
                let ir = match op {
                    "Add" => Op::Add,
                    "Sub" => Op::Sub,
                    "Mul" => Op::Mul,
                    _ => return Err(unsupported(name, "Div of two graph tensors")),
                };
                let (sp, sq) = (self.shape(p), self.shape(q));
                let s = broadcast_shape(&sp, &sq)
                    .ok_or_else(|| a.invalid(format!("cannot broadcast {sp:?} with {sq:?}")))?;
                Ok(Val::T(self.emit(name, ir, vec![p, q], out, s)?))
            }
            (Val::T(t), Val::C(c)) => {
                let xs = self.shape(t);
                let k = self.broadcast_const(name, &xs, &c)?;
                match op {
                    "Add" => self.add_const(name, t, k, out),
                    "Sub" => {
                        let neg = Const::new(k.shape.clone(), k.data.iter().map(|v| -v).collect());
                        self.add_const(name, t, neg, out)
                    }
                    "Mul" => Ok(Val::T(self.emit(
                        name,
                        Op::MulConst { c: k },
                        vec![t],
                        out,
                        xs,
                    )?)),
                    _ => {
                        if k.data.contains(&0.0) {
                            return Err(a.invalid("division by a constant zero"));
                        }
                        let inv =
                            Const::new(k.shape.clone(), k.data.iter().map(|v| 1.0 / v).collect());
                        Ok(Val::T(self.emit(
                            name,
                            Op::MulConst { c: inv },
                            vec![t],
                            out,
                            xs,
                        )?))
                    }
                }
            }
            (Val::C(c), Val::T(t)) => {
                let xs = self.shape(t);
                let k = self.broadcast_const(name, &xs, &c)?;
                match op {
                    "Add" => self.add_const(name, t, k, out),
                    "Mul" => Ok(Val::T(self.emit(
                        name,
                        Op::MulConst { c: k },
                        vec![t],
                        out,
                        xs,
                    )?)),
                    "Sub" => {
                        // c - x = (-1 * x) + c
                        let minus = Const::new(vec![1; xs.len()], vec![-1.0]);
                        let tmp = format!("{out}#neg");
                        let m =
                            self.emit(name, Op::MulConst { c: minus }, vec![t], &tmp, xs.clone())?;
                        Ok(Val::T(self.emit(
                            name,
                            Op::AddConst { c: k },
                            vec![m],
                            out,
                            xs,
                        )?))
                    }
                    _ => Err(unsupported(name, "Div of a constant by a graph tensor")),
                }
            }
        }
    }

    /// `x + c`, folded into the bias of the Conv/Dense that produced `x`
    /// when `c` is constant along everything but that op's channel axis.
    fn add_const(
        &mut self,
        name: &str,
        t: TensorId,
        c: Const,
        out: &str,
    ) -> Result<Val, ModelError> {
        let shape = self.shape(t);
        let rank = shape.len();
        let out_name = out.to_string();
        if let Some(prev) = self.sole_producer(t) {
            let ch_axis = match &prev.op {
                Op::Conv(_) => Some(1),
                Op::Dense { .. } => Some(rank - 1),
                _ => None,
            };
            if let Some(ax) = ch_axis {
                let per_channel = c.shape.iter().enumerate().all(|(i, &d)| d == 1 || i == ax);
                if per_channel {
                    let ch = shape[ax];
                    let cv: Vec<f32> = if c.data.len() == 1 {
                        vec![c.data[0]; ch]
                    } else {
                        c.data.clone()
                    };
                    let bias = match &mut prev.op {
                        Op::Conv(cv2) => &mut cv2.bias,
                        Op::Dense { bias, .. } => bias,
                        _ => unreachable!("matched above"),
                    };
                    let b = bias.get_or_insert_with(|| Const::new(vec![ch], vec![0.0; ch]));
                    for (bi, ci) in b.data.iter_mut().zip(&cv) {
                        *bi += ci;
                    }
                    self.tensors[t].name = out_name;
                    return Ok(Val::T(t));
                }
            }
        }
        Ok(Val::T(self.emit(
            name,
            Op::AddConst { c },
            vec![t],
            out,
            shape,
        )?))
    }

    fn dense(
        &mut self,
        name: &str,
        x: TensorId,
        weight: Const,
        bias: Option<Const>,
        out: &str,
    ) -> Result<Val, ModelError> {
        let mut s = self.shape(x);
        let (o, i) = (weight.shape[0], weight.shape[1]);
        if s.last() != Some(&i) {
            return Err(invalid(name, format!("input {s:?} does not end in {i}")));
        }
        *s.last_mut().expect("checked non-empty") = o;
        Ok(Val::T(self.emit(
            name,
            Op::Dense { weight, bias },
            vec![x],
            out,
            s,
        )?))
    }

    fn gemm(&mut self, n: &NodeProto, a: &Attrs, out: &str) -> Result<Val, ModelError> {
        let name = a.name;
        if a.int("transA", 0) != 0 {
            return Err(unsupported(name, "Gemm with transA=1"));
        }
        let x = self.tensor_input(n, name, 0)?;
        if self.shape(x).len() != 2 {
            return Err(a.invalid("Gemm input must be 2-D"));
        }
        let b = self.const_input(n, name, 1, "B")?;
        if b.shape.len() != 2 {
            return Err(a.invalid("Gemm B must be 2-D"));
        }
        let alpha = a.float("alpha", 1.0);
        let beta = a.float("beta", 1.0);
        let trans_b = a.int("transB", 0) != 0;
        let (k, m) = if trans_b {
            (b.shape[1], b.shape[0])
        } else {
            (b.shape[0], b.shape[1])
        };
        let bv = b.to_f32();
        let mut w = vec![0f32; k * m];
        for o in 0..m {
            for i in 0..k {
                let v = if trans_b {
                    bv[o * k + i]
                } else {
                    bv[i * m + o]
                };
                w[o * k + i] = alpha * v;
            }
        }
        let bias = match self.opt_input(n, name, 2)? {
            None => None,
            Some(Val::T(_)) => return Err(unsupported(name, "Gemm with a non-constant C")),
            Some(Val::C(c)) => {
                let rows = self.shape(x)[0];
                let ok = broadcast_shape(&[rows, m], &c.shape).as_deref() == Some(&[rows, m][..])
                    && c.shape.iter().rev().skip(1).all(|&d| d == 1);
                if !ok {
                    return Err(unsupported(name, format!("Gemm C of shape {:?}", c.shape)));
                }
                let cv = c.to_f32();
                let data = if cv.len() == 1 {
                    vec![beta * cv[0]; m]
                } else {
                    cv.iter().map(|v| beta * v).collect()
                };
                Some(Const::new(vec![m], data))
            }
        };
        self.dense(name, x, Const::new(vec![m, k], w), bias, out)
    }

    fn conv(&mut self, n: &NodeProto, a: &Attrs, out: &str) -> Result<Val, ModelError> {
        let name = a.name;
        let x = self.tensor_input(n, name, 0)?;
        let s = self.shape(x);
        let w = self.const_input(n, name, 1, "weight")?;
        if s.len() != 4 || w.shape.len() != 4 {
            return Err(unsupported(name, "Conv that is not 2-D"));
        }
        let groups = usize::try_from(a.int("group", 1)).unwrap_or(0);
        let (oc, icg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3]);
        if groups == 0 || oc % groups != 0 || icg * groups != s[1] {
            return Err(a.invalid(format!(
                "weight {:?} and group {groups} do not fit input {s:?}",
                w.shape
            )));
        }
        if let Some(ks) = a.ints("kernel_shape") {
            if ks != [kh as i64, kw as i64] {
                return Err(a.invalid("kernel_shape disagrees with the weight"));
            }
        }
        let strides = pair(&a.usizes("strides", 2, 1)?);
        let dil = pair(&a.usizes("dilations", 2, 1)?);
        let (pads, o) = window(a, [s[2], s[3]], [kh, kw], strides, dil)?;
        let bias = match self.opt_input(n, name, 2)? {
            None => None,
            Some(Val::C(b)) if b.len() == oc => Some(Const::new(vec![oc], b.to_f32())),
            Some(Val::C(_)) => return Err(a.invalid("bias length differs from output channels")),
            Some(Val::T(_)) => return Err(unsupported(name, "Conv with a non-constant bias")),
        };
        let op = Op::Conv(Conv2d {
            weight: to_const(&w),
            bias,
            strides,
            pads,
            dilations: dil,
            groups,
        });
        Ok(Val::T(self.emit(
            name,
            op,
            vec![x],
            out,
            vec![s[0], oc, o[0], o[1]],
        )?))
    }

    fn batchnorm(&mut self, n: &NodeProto, a: &Attrs, out: &str) -> Result<Val, ModelError> {
        let name = a.name;
        let x = self.tensor_input(n, name, 0)?;
        let s = self.shape(x);
        if s.len() < 2 {
            return Err(a.invalid("input must have a channel axis"));
        }
        let c = s[1];
        let mut p = Vec::new();
        for (i, what) in ["scale", "bias", "mean", "var"].iter().enumerate() {
            let t = self.const_input(n, name, i + 1, what)?;
            if t.len() != c {
                return Err(a.invalid(format!("{what} has {} values for {c} channels", t.len())));
            }
            p.push(t.to_f32());
        }
        let eps = a.float("epsilon", 1e-5) as f64;
        let mut scale = vec![0f32; c];
        let mut shift = vec![0f32; c];
        for ch in 0..c {
            let k = p[0][ch] as f64 / (p[3][ch] as f64 + eps).sqrt();
            scale[ch] = k as f32;
            shift[ch] = (p[1][ch] as f64 - p[2][ch] as f64 * k) as f32;
        }
        let out_name = out.to_string();
        if let Some(prev) = self.sole_producer(x) {
            if let Op::Conv(conv) = &mut prev.op {
                let per = conv.weight.data.len() / c;
                for (ws, &k) in conv.weight.data.chunks_mut(per).zip(&scale) {
                    for w in ws {
                        *w = (*w as f64 * k as f64) as f32;
                    }
                }
                let b = conv
                    .bias
                    .get_or_insert_with(|| Const::new(vec![c], vec![0.0; c]));
                for ch in 0..c {
                    b.data[ch] = (b.data[ch] as f64 * scale[ch] as f64 + shift[ch] as f64) as f32;
                }
                self.tensors[x].name = out_name;
                return Ok(Val::T(x));
            }
        }
        let op = Op::ChannelAffine {
            scale: Const::new(vec![c], scale),
            shift: Const::new(vec![c], shift),
        };
        Ok(Val::T(self.emit(name, op, vec![x], out, s)?))
    }

    fn clip(&mut self, n: &NodeProto, a: &Attrs, out: &str) -> Result<Val, ModelError> {
        let name = a.name;
        let (lo, hi) = if self.opset < 11 {
            (
                a.float("min", f32::NEG_INFINITY),
                a.float("max", f32::INFINITY),
            )
        } else {
            let bound = |i: usize, def: f32| -> Result<f32, ModelError> {
                match self.opt_input(n, name, i)? {
                    None => Ok(def),
                    Some(Val::C(c)) if c.len() == 1 => Ok(c.to_f32()[0]),
                    Some(Val::C(_)) => Err(a.invalid("Clip bound must be a scalar")),
                    Some(Val::T(_)) => Err(unsupported(name, "Clip with a non-constant bound")),
                }
            };
            (bound(1, f32::NEG_INFINITY)?, bound(2, f32::INFINITY)?)
        };
        let op = if lo == 0.0 && is_inf(hi) && hi > 0.0 {
            Op::Relu
        } else if !is_inf(lo) && !is_inf(hi) && lo <= hi {
            Op::Clip { lo, hi }
        } else {
            return Err(unsupported(name, format!("Clip with bounds [{lo}, {hi}]")));
        };
        self.unary(n, name, op, out)
    }

    fn pool(&mut self, n: &NodeProto, a: &Attrs, out: &str) -> Result<Val, ModelError> {
        let name = a.name;
        let x = self.tensor_input(n, name, 0)?;
        let s = self.shape(x);
        if s.len() != 4 {
            return Err(unsupported(name, format!("{} that is not 2-D", n.op_type)));
        }
        if a.int("ceil_mode", 0) != 0 {
            return Err(unsupported(name, format!("{} with ceil_mode=1", n.op_type)));
        }
        if n.output.len() > 1 && n.output.iter().skip(1).any(|o| !o.is_empty()) {
            return Err(unsupported(name, "MaxPool with an indices output"));
        }
        let dil = a.usizes("dilations", 2, 1)?;
        if dil != [1, 1] {
            return Err(unsupported(name, "pooling with dilations"));
        }
        let kernel = pair(&a.usizes("kernel_shape", 2, 0)?);
        let strides = pair(&a.usizes("strides", 2, 1)?);
        let (pads, o) = window(a, [s[2], s[3]], kernel, strides, [1, 1])?;
        // A window made only of padding would have no value to take.
        if (0..4).any(|i| pads[i] >= kernel[i % 2]) {
            return Err(a.invalid("pooling pads must be smaller than the kernel"));
        }
        let p = Pool2d {
            kernel,
            strides,
            pads,
            count_include_pad: a.int("count_include_pad", 0) != 0,
        };
        let op = if n.op_type == "MaxPool" {
            Op::MaxPool(p)
        } else {
            Op::AveragePool(p)
        };
        Ok(Val::T(self.emit(
            name,
            op,
            vec![x],
            out,
            vec![s[0], s[1], o[0], o[1]],
        )?))
    }

    fn softmax(&mut self, n: &NodeProto, a: &Attrs, out: &str) -> Result<Val, ModelError> {
        let name = a.name;
        let x = self.tensor_input(n, name, 0)?;
        let s = self.shape(x);
        let rank = s.len();
        let ax = axis(a, a.int("axis", if self.opset < 13 { 1 } else { -1 }), rank)?;
        if self.opset >= 13 || ax == rank - 1 {
            return Ok(Val::T(self.emit(
                name,
                Op::Softmax { axis: ax },
                vec![x],
                out,
                s,
            )?));
        }
        // Before opset 13 Softmax flattens to 2-D at `axis` and normalises
        // each row: spell that out with reshapes.
        let flat = vec![s[..ax].iter().product(), s[ax..].iter().product()];
        let f = self.emit(
            name,
            Op::Reshape,
            vec![x],
            &format!("{out}#2d"),
            flat.clone(),
        )?;
        let m = self.emit(
            name,
            Op::Softmax { axis: 1 },
            vec![f],
            &format!("{out}#softmax"),
            flat,
        )?;
        Ok(Val::T(self.emit(name, Op::Reshape, vec![m], out, s)?))
    }
}

/// Lower a decoded model for a pinned input shape.
pub(crate) fn lower(model: &ModelProto, input_shape: &[usize]) -> Result<Graph, ModelError> {
    lower_named(model, input_shape).map(|(g, _)| g)
}

/// [`lower`], plus every ONNX name that denotes a graph tensor (including
/// names removed by aliasing or folding, whose tensor has the same shape).
pub(crate) fn lower_named(
    model: &ModelProto,
    input_shape: &[usize],
) -> Result<(Graph, HashMap<String, TensorId>), ModelError> {
    let g = model
        .graph
        .as_ref()
        .ok_or_else(|| ModelError::Parse("model has no graph".into()))?;
    if g.node.len() > MAX_NODES {
        return Err(ModelError::Parse(format!(
            "{} nodes is too many",
            g.node.len()
        )));
    }
    let opset = model
        .opset_import
        .iter()
        .filter(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .max()
        .ok_or_else(|| ModelError::Parse("no ai.onnx opset import".into()))?;
    let mut b = Builder {
        tensors: Vec::new(),
        nodes: Vec::new(),
        vals: HashMap::new(),
        readers: HashMap::new(),
        opset,
        folded: 0,
    };
    for init in &g.initializer {
        let c = CTensor::from_proto(init)?;
        b.vals.insert(init.name.clone(), Val::C(c));
    }
    let inputs: Vec<_> = g
        .input
        .iter()
        .filter(|i| !b.vals.contains_key(&i.name))
        .collect();
    if inputs.len() != 1 {
        return Err(ModelError::Other(format!(
            "model must have exactly one non-initializer input, has {}",
            inputs.len()
        )));
    }
    let input = inputs[0];
    if let Some(type_proto::Value::TensorType(tt)) =
        input.r#type.as_ref().and_then(|t| t.value.as_ref())
    {
        if tt.elem_type != 1 && tt.elem_type != 0 {
            return Err(ModelError::Other(format!(
                "input '{}' has element type {}, expected float",
                input.name, tt.elem_type
            )));
        }
        if let Some(sh) = &tt.shape {
            let declared: Vec<Option<usize>> = sh
                .dim
                .iter()
                .map(|d| match d.value {
                    Some(tract_onnx::pb::tensor_shape_proto::dimension::Value::DimValue(v))
                        if v > 0 =>
                    {
                        Some(v as usize)
                    }
                    _ => None,
                })
                .collect();
            let fits = declared.len() == input_shape.len()
                && declared
                    .iter()
                    .zip(input_shape)
                    .all(|(d, &s)| d.is_none_or(|d| d == s));
            if !fits {
                return Err(ModelError::Shape {
                    tensor: input.name.clone(),
                    expected: declared.iter().map(|d| d.unwrap_or(0)).collect(),
                    got: input_shape.to_vec(),
                });
            }
        }
    }
    if input_shape.contains(&0) || checked_len(input_shape).is_none() {
        return Err(ModelError::Shape {
            tensor: input.name.clone(),
            expected: vec![],
            got: input_shape.to_vec(),
        });
    }
    let input_id = b.new_tensor(&input.name, input_shape.to_vec())?;
    b.vals.insert(input.name.clone(), Val::T(input_id));

    if g.output.len() != 1 {
        return Err(ModelError::Other(format!(
            "model must have exactly one output, has {}",
            g.output.len()
        )));
    }
    for n in &g.node {
        for i in &n.input {
            *b.readers.entry(i.clone()).or_default() += 1;
        }
    }
    *b.readers.entry(g.output[0].name.clone()).or_default() += 1;

    for (i, n) in g.node.iter().enumerate() {
        let name = if n.name.is_empty() {
            format!("{}@{i}", n.op_type)
        } else {
            n.name.clone()
        };
        if !(n.domain.is_empty() || n.domain == "ai.onnx") {
            return Err(unsupported(&name, format!("{}:{}", n.domain, n.op_type)));
        }
        b.lower_node(n, &name)?;
    }
    let out_name = &g.output[0].name;
    let output = match b.vals.get(out_name) {
        Some(Val::T(t)) => *t,
        Some(Val::C(_)) => {
            return Err(ModelError::Other(format!(
                "output '{out_name}' is a constant"
            )))
        }
        None => {
            return Err(ModelError::Other(format!(
                "output '{out_name}' is never computed"
            )))
        }
    };
    // The graph output carries the model's output name even when the file
    // reaches it through Identity.
    if output != input_id {
        b.tensors[output].name = out_name.clone();
    }
    let graph = Graph {
        tensors: b.tensors,
        nodes: b.nodes,
        input: input_id,
        output,
    };
    let (graph, map) = super::passes::finish(graph);
    let names = b
        .vals
        .into_iter()
        .filter_map(|(name, v)| match v {
            Val::T(t) if map[t] != usize::MAX => Some((name, map[t])),
            _ => None,
        })
        .collect();
    Ok((graph, names))
}
