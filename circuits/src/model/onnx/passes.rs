//! Clean-up after lowering: HardSwish recognition, dead-node removal and
//! tensor renumbering.
//!
//! Why: exporters spell HardSwish as `x * Clip(x + 3, 0, 6) / 6` or
//! `x * HardSigmoid(x)`; one HardSwish node is far cheaper to prove than four
//! ops with a tensor*tensor product. Folds during lowering also leave unused
//! tensors behind, and later stages want ids that are dense.

use crate::model::ir::{Graph, Node, Op, TensorId};

fn scalar(c: &crate::model::ir::Const) -> Option<f32> {
    let first = *c.data.first()?;
    c.data.iter().all(|&v| v == first).then_some(first)
}

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

struct Index {
    producer: Vec<Option<usize>>,
    readers: Vec<usize>,
}

fn index(g: &Graph) -> Index {
    let mut producer = vec![None; g.tensors.len()];
    let mut readers = vec![0; g.tensors.len()];
    for (i, n) in g.nodes.iter().enumerate() {
        producer[n.output] = Some(i);
        for &t in &n.inputs {
            readers[t] += 1;
        }
    }
    readers[g.output] += 1;
    Index { producer, readers }
}

/// The node producing `t` if `t` has exactly one reader.
fn sole<'a>(g: &'a Graph, ix: &Index, t: TensorId) -> Option<&'a Node> {
    if ix.readers[t] != 1 {
        return None;
    }
    ix.producer[t].map(|i| &g.nodes[i])
}

/// If `mul` computes `x * gate(x)`, return `x`. The gate is
/// `HardSigmoid(x)` (alpha 1/6, beta 1/2), or with `clip6` set `Clip(x + 3,
/// 0, 6)`, which still needs the caller's trailing `/ 6`.
fn hardswish_operand(g: &Graph, ix: &Index, mul: &Node, clip6: bool) -> Option<TensorId> {
    if mul.op != Op::Mul || mul.inputs.len() != 2 {
        return None;
    }
    for (x, gate) in [
        (mul.inputs[0], mul.inputs[1]),
        (mul.inputs[1], mul.inputs[0]),
    ] {
        let Some(gn) = sole(g, ix, gate) else {
            continue;
        };
        match &gn.op {
            Op::HardSigmoid { alpha, beta }
                if !clip6 && close(*alpha, 1.0 / 6.0) && *beta == 0.5 && gn.inputs[0] == x =>
            {
                return Some(x)
            }
            Op::Clip { lo, hi } if clip6 && *lo == 0.0 && *hi == 6.0 => {
                let Some(add) = sole(g, ix, gn.inputs[0]) else {
                    continue;
                };
                if let Op::AddConst { c } = &add.op {
                    if scalar(c) == Some(3.0) && add.inputs[0] == x {
                        return Some(x);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

fn fuse_hardswish(g: &mut Graph) {
    let ix = index(g);
    let mut rewrites = Vec::new();
    for (i, n) in g.nodes.iter().enumerate() {
        // x * HardSigmoid(x)
        if let Some(x) = hardswish_operand(g, &ix, n, false) {
            rewrites.push((i, x));
            continue;
        }
        // (x * Clip(x + 3, 0, 6)) * (1/6)
        if let Op::MulConst { c } = &n.op {
            if scalar(c).is_some_and(|v| close(v, 1.0 / 6.0)) {
                if let Some(m) = sole(g, &ix, n.inputs[0]) {
                    if let Some(x) = hardswish_operand(g, &ix, m, true) {
                        rewrites.push((i, x));
                    }
                }
            }
        }
    }
    for (i, x) in rewrites {
        g.nodes[i].op = Op::HardSwish;
        g.nodes[i].inputs = vec![x];
    }
}

/// Drop nodes the output does not depend on and renumber tensors densely;
/// also returns old id → new id (`usize::MAX` for dropped tensors).
fn prune(g: Graph) -> (Graph, Vec<TensorId>) {
    let mut live = vec![false; g.tensors.len()];
    live[g.output] = true;
    let mut keep = vec![false; g.nodes.len()];
    for (i, n) in g.nodes.iter().enumerate().rev() {
        if live[n.output] {
            keep[i] = true;
            for &t in &n.inputs {
                live[t] = true;
            }
        }
    }
    live[g.input] = true;
    let mut map = vec![usize::MAX; g.tensors.len()];
    let mut tensors = Vec::new();
    for (i, t) in g.tensors.into_iter().enumerate() {
        if live[i] {
            map[i] = tensors.len();
            tensors.push(t);
        }
    }
    let nodes = g
        .nodes
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(mut n, _)| {
            n.output = map[n.output];
            n.inputs.iter_mut().for_each(|t| *t = map[*t]);
            n
        })
        .collect();
    let graph = Graph {
        tensors,
        nodes,
        input: map[g.input],
        output: map[g.output],
    };
    (graph, map)
}

/// `Reshape(Reshape(x))` reads `x` directly when the inner result has no
/// other reader (exporters chain Flatten/Squeeze/Reshape freely); the inner
/// node is then dead.
fn merge_reshapes(g: &mut Graph) {
    let ix = index(g);
    for i in 0..g.nodes.len() {
        if g.nodes[i].op != Op::Reshape {
            continue;
        }
        let mut src = g.nodes[i].inputs[0];
        while let Some(p) = sole(g, &ix, src).filter(|p| p.op == Op::Reshape) {
            src = p.inputs[0];
        }
        g.nodes[i].inputs[0] = src;
    }
}

pub(crate) fn finish(mut g: Graph) -> (Graph, Vec<TensorId>) {
    fuse_hardswish(&mut g);
    merge_reshapes(&mut g);
    prune(g)
}
