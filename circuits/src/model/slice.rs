//! Cutting a model graph into slices that are proven separately.
//!
//! Why: a whole model can be too large for one proof, and the subnet splits
//! work across miners. A slice boundary must be a single tensor, so that a
//! slice is a self-contained graph with one input (the previous boundary)
//! and one output whose digest links consecutive proofs.

use crate::model::ir::{Graph, TensorId};
use crate::model::ModelError;

/// Position (in `g.nodes`) after which each tensor is produced; the graph
/// input counts as produced before node 0.
fn positions(g: &Graph) -> Vec<Option<usize>> {
    let mut pos = vec![None; g.tensors.len()];
    for (i, n) in g.nodes.iter().enumerate() {
        pos[n.output] = Some(i);
    }
    pos
}

/// For every node position `p`: is the cut right after node `p` clean, i.e.
/// is `nodes[p].output` the only tensor produced at or before `p` that nodes
/// after `p` read?
fn clean_after(g: &Graph) -> Vec<bool> {
    let pos = positions(g);
    let n = g.nodes.len();
    // crossing[p] = number of distinct tensors born at <= p and read after p
    let mut last_read = vec![None::<usize>; g.tensors.len()];
    for (i, node) in g.nodes.iter().enumerate() {
        for &t in &node.inputs {
            last_read[t] = Some(i);
        }
    }
    let mut delta = vec![0i64; n + 1];
    for (t, lr) in last_read.iter().enumerate() {
        let Some(lr) = *lr else { continue };
        // born at position b (the input: before 0), live over cuts b..lr-1
        let start = match pos[t] {
            Some(b) => b,
            None if t == g.input => 0,
            None => continue,
        };
        if start < lr {
            delta[start] += 1;
            delta[lr] -= 1;
        }
    }
    let mut out = vec![false; n];
    let mut live = 0i64;
    for p in 0..n {
        live += delta[p];
        let t = g.nodes[p].output;
        let own = last_read[t].is_some_and(|lr| lr > p);
        out[p] = own && live == 1 && t != g.output;
    }
    out
}

/// Tensors at which the graph can be cut: after the producer of `t`, no
/// later node reads anything produced earlier except `t` itself.
pub fn clean_cuts(g: &Graph) -> Vec<TensorId> {
    clean_after(g)
        .iter()
        .enumerate()
        .filter(|(_, c)| **c)
        .map(|(p, _)| g.nodes[p].output)
        .collect()
}

/// The sub-graph of nodes `lo..hi` with input `input` and output `output`,
/// tensors renumbered.
fn sub_graph(g: &Graph, lo: usize, hi: usize, input: TensorId, output: TensorId) -> Graph {
    let mut map = vec![usize::MAX; g.tensors.len()];
    let mut tensors = vec![g.tensors[input].clone()];
    map[input] = 0;
    let mut nodes = Vec::with_capacity(hi - lo);
    for node in &g.nodes[lo..hi] {
        let mut n = node.clone();
        for t in &mut n.inputs {
            *t = map[*t];
        }
        map[node.output] = tensors.len();
        tensors.push(g.tensors[node.output].clone());
        n.output = map[node.output];
        nodes.push(n);
    }
    Graph {
        tensors,
        nodes,
        input: 0,
        output: map[output],
    }
}

/// Split at `cuts` (in graph order) into self-contained graphs: slice `k`
/// reads cut `k-1` (or the graph input) and produces cut `k` (or the graph
/// output).
pub fn split(g: &Graph, cuts: &[TensorId]) -> Result<Vec<Graph>, ModelError> {
    let clean = clean_after(g);
    let pos = positions(g);
    let mut bounds = Vec::with_capacity(cuts.len());
    for &c in cuts {
        let name =
            g.tensors.get(c).map(|t| t.name.clone()).ok_or_else(|| {
                ModelError::Other(format!("cut {c} is not a tensor of the graph"))
            })?;
        let p = pos[c]
            .ok_or_else(|| ModelError::Other(format!("cut '{name}' is not produced by a node")))?;
        if !clean[p] {
            return Err(ModelError::Other(format!(
                "cut '{name}' is not clean: other tensors cross it"
            )));
        }
        if bounds.last().is_some_and(|&(q, _)| q >= p) {
            return Err(ModelError::Other(format!("cut '{name}' is out of order")));
        }
        bounds.push((p, c));
    }
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let (mut lo, mut input) = (0, g.input);
    for (p, c) in bounds {
        out.push(sub_graph(g, lo, p + 1, input, c));
        lo = p + 1;
        input = c;
    }
    out.push(sub_graph(g, lo, g.nodes.len(), input, g.output));
    Ok(out)
}

/// Resolve ONNX tensor names (as in the registry manifest) to cut ids.
pub fn cuts_by_name(g: &Graph, names: &[impl AsRef<str>]) -> Result<Vec<TensorId>, ModelError> {
    names
        .iter()
        .map(|n| {
            let n = n.as_ref();
            g.tensor_by_name(n)
                .ok_or_else(|| ModelError::Other(format!("no tensor named '{n}' in the graph")))
        })
        .collect()
}

/// Greedy plan: walk the clean cut points in order and cut at the last one
/// that keeps the current slice within `budget`. A slice between two
/// adjacent clean points that alone exceeds the budget is kept whole (no
/// finer cut exists).
pub fn auto_plan(
    g: &Graph,
    cost: impl Fn(&Graph) -> u64,
    budget: u64,
) -> Result<Vec<TensorId>, ModelError> {
    let pos = positions(g);
    let points: Vec<(usize, TensorId)> = clean_cuts(g)
        .into_iter()
        .map(|t| (pos[t].expect("clean cuts are produced by nodes"), t))
        .collect();
    let mut cuts = Vec::new();
    let (mut lo, mut input) = (0usize, g.input);
    // the best cut found so far for the slice starting at `lo`
    let mut pending: Option<(usize, TensorId)> = None;
    let mut i = 0;
    while i <= points.len() {
        let (end, out) = match points.get(i) {
            Some(&(p, t)) => (p + 1, t),
            None => (g.nodes.len(), g.output),
        };
        let c = cost(&sub_graph(g, lo, end, input, out));
        if c <= budget || pending.is_none() {
            if c > budget || i == points.len() {
                // over budget with nothing smaller: cut here anyway
                if i < points.len() {
                    cuts.push(out);
                    lo = end;
                    input = out;
                }
                pending = None;
            } else {
                pending = Some((end, out));
            }
            i += 1;
        } else {
            let (pend, pout) = pending.take().expect("checked above");
            cuts.push(pout);
            lo = pend;
            input = pout;
            // re-evaluate point i against the new slice start
        }
    }
    Ok(cuts)
}
