//! `zkml inspect` and `zkml compile`: what a model is made of and what its
//! circuits cost, before anyone proves it.
//!
//! The static gate estimate (linear terms plus a flat cost per non-linear
//! element) is shown next to the real count so that a model's author can
//! see where the circuit grows beyond the arithmetic, e.g. in layering.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use circuits::compile::compile_with_progress;
use circuits::model::ir::{Graph, Node, Op};
use circuits::model::slice;
use circuits::zkml::{strip_trailing_softmax, TrailingSoftmax};
use circuits::Circuit;

use crate::progress;
use crate::source::{fmt_bytes, ModelSource, SourceArgs};

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Skip compiling the slices (shapes and estimates only).
    #[arg(long)]
    pub no_compile: bool,
}

#[derive(clap::Args, Debug)]
pub struct CompileArgs {
    #[command(flatten)]
    pub source: SourceArgs,
}

/// Gates a rescale, ReLU or max costs besides its hints: the linear check,
/// the reconstruction and the product gates (see `compile::gadgets`).
const NONLINEAR_GATES: u64 = 10;

/// A static guess at the gates a node compiles to.
pub fn estimate_node(g: &Graph, n: &Node) -> u64 {
    let out = g.tensors[n.output].len() as u64;
    let inp = g.tensors[n.inputs[0]].len() as u64;
    let k = NONLINEAR_GATES;
    match &n.op {
        Op::Dense { weight, .. } => {
            out * weight.shape.get(1).copied().unwrap_or(0) as u64 + k * out
        }
        Op::Conv(c) => {
            let taps: usize = c.weight.shape.iter().skip(1).product();
            out * taps as u64 + k * out
        }
        Op::ChannelAffine { .. } | Op::MulConst { .. } | Op::Mul => out + k * out,
        Op::Relu => k * out,
        Op::Clip { .. } | Op::HardSigmoid { .. } => 2 * k * out + out,
        Op::HardSwish => 2 * k * out + 3 * out,
        Op::MaxPool(p) => out * (p.kernel[0] * p.kernel[1]).saturating_sub(1) as u64 * (k + 2),
        Op::AveragePool(p) => out * (p.kernel[0] * p.kernel[1]) as u64 + k * out,
        Op::GlobalAveragePool => inp + k * out,
        Op::Add | Op::Sub | Op::AddConst { .. } => out,
        Op::Reshape | Op::Softmax { .. } => 0,
    }
}

pub fn estimate(g: &Graph) -> u64 {
    g.nodes.iter().map(|n| estimate_node(g, n)).sum()
}

/// What one compiled slice costs.
pub struct SliceStats {
    pub nodes: usize,
    pub input: String,
    pub output: String,
    pub estimated_gates: u64,
    pub gates: usize,
    pub hints: usize,
    pub layers: usize,
    pub lookups: usize,
    pub min_prover_memory: u64,
    pub digest: [u8; 32],
    pub compile_s: f64,
}

/// A slice that does not compile.
pub struct SliceFailure {
    pub nodes: usize,
    pub estimated_gates: u64,
    pub reason: String,
}

/// Mirrors `CompiledSlice::min_prover_memory_bytes` (gate lists at 16 bytes
/// a gate plus every layer's values at 8 bytes a wire), which is only
/// reachable through a `CompiledModel`, whose compile reports no progress.
fn min_prover_memory(c: &Circuit) -> u64 {
    let gates = c.num_gates() as u64 * 16;
    let values: u64 = std::iter::once(c.input_log_size())
        .chain(c.layers().iter().map(|l| l.log_size))
        .map(|log| 8u64 << log)
        .sum();
    gates + values
}

/// Split at the source's cut points and compile every slice, one progress
/// bar over all nodes. A slice that does not compile is reported in its
/// place (slice index, node count, estimate and the reason), so that
/// `inspect` still shows the slices that do.
pub fn compile_slices(
    src: &ModelSource,
    g: &Graph,
) -> Result<Vec<std::result::Result<SliceStats, SliceFailure>>> {
    let cuts = slice::cuts_by_name(g, &src.cuts).context("bad slice plan")?;
    let graphs = slice::split(g, &cuts).context("bad slice plan")?;
    let total: usize = graphs.iter().map(|s| s.nodes.len()).sum();
    let pb = progress::bar(total as u64, "compiling");
    let mut out = Vec::with_capacity(graphs.len());
    let mut done_before = 0usize;
    for (k, sg) in graphs.iter().enumerate() {
        let t = Instant::now();
        let compiled = compile_with_progress(sg, src.scale_bits, &mut |done, _| {
            pb.set_position((done_before + done) as u64)
        });
        let compile_s = t.elapsed().as_secs_f64();
        done_before += sg.nodes.len();
        let compiled = match compiled {
            Ok(c) => c,
            Err(e) => {
                out.push(Err(SliceFailure {
                    nodes: sg.nodes.len(),
                    estimated_gates: estimate(sg),
                    reason: format!("cannot compile slice {k} of '{}': {e}", src.name),
                }));
                continue;
            }
        };
        let c = &compiled.circuit;
        tracing::info!(slice = k, gates = c.num_gates(), compile_s, "compiled");
        out.push(Ok(SliceStats {
            nodes: sg.nodes.len(),
            input: sg.tensors[sg.input].name.clone(),
            output: sg.tensors[sg.output].name.clone(),
            estimated_gates: estimate(sg),
            gates: c.num_gates(),
            hints: c.num_hints(),
            layers: c.layers().len(),
            lookups: c.lookups().len(),
            min_prover_memory: min_prover_memory(c),
            digest: c.digest(),
            compile_s,
        }));
    }
    pb.finish_and_clear();
    Ok(out)
}

/// The graph the circuits are compiled from, and the trailing Softmax taken
/// off it: the same split `CompiledModel::compile` makes, so that inspect
/// and compile show the circuits a miner proves.
fn circuit_graph(src: &ModelSource) -> Result<(Graph, Option<TrailingSoftmax>)> {
    let mut g = src.graph()?;
    let softmax = strip_trailing_softmax(&mut g);
    Ok((g, softmax))
}

fn header(src: &ModelSource, g: &Graph, softmax: Option<&TrailingSoftmax>) {
    println!("model       {}", src.name);
    println!("id          {}", src.id);
    println!(
        "input       {} {:?} at scale 2^{}",
        g.tensors[g.input].name, src.input_shape, src.scale_bits
    );
    println!(
        "output      {} {:?}",
        g.tensors[g.output].name,
        g.shape(g.output)
    );
    if let Some(s) = softmax {
        println!(
            "softmax     {} {:?} = Softmax(axis {}) of the output: not proven, the verifier reapplies it",
            g.tensors[s.output].name,
            g.shape(s.output),
            s.axis
        );
    }
    println!("nodes       {}", g.nodes.len());
    if src.cuts.is_empty() {
        println!("slice plan  one slice");
    } else {
        println!("slice plan  cut at {}", src.cuts.join(", "));
    }
}

/// Print the per-slice table; fails after printing if any slice did not
/// compile.
fn print_slices(
    rows: &[std::result::Result<SliceStats, SliceFailure>],
    with_digest: bool,
) -> Result<()> {
    println!();
    println!(
        "{:>5} {:>5} {:>12} {:>12} {:>10} {:>6} {:>7} {:>12} {:>9}  boundary",
        "slice", "nodes", "est.gates", "gates", "hints", "layers", "lookups", "min.mem", "compile"
    );
    let mut failures = Vec::new();
    for (k, row) in rows.iter().enumerate() {
        let s = match row {
            Ok(s) => s,
            Err(f) => {
                println!(
                    "{k:>5} {:>5} {:>12}  does not compile: {}",
                    f.nodes, f.estimated_gates, f.reason
                );
                failures.push(f.reason.as_str());
                continue;
            }
        };
        println!(
            "{k:>5} {:>5} {:>12} {:>12} {:>10} {:>6} {:>7} {:>12} {:>8.3}s  {} -> {}",
            s.nodes,
            s.estimated_gates,
            s.gates,
            s.hints,
            s.layers,
            s.lookups,
            fmt_bytes(s.min_prover_memory),
            s.compile_s,
            s.input,
            s.output
        );
        if with_digest {
            println!("{:>5} circuit digest {}", "", hex::encode(s.digest));
        }
    }
    let stats: Vec<&SliceStats> = rows.iter().filter_map(|r| r.as_ref().ok()).collect();
    println!(
        "total {:>5} {:>12} {:>12} {:>10} {:>6} {:>7} {:>12} {:>8.3}s",
        stats.iter().map(|s| s.nodes).sum::<usize>(),
        stats.iter().map(|s| s.estimated_gates).sum::<u64>(),
        stats.iter().map(|s| s.gates).sum::<usize>(),
        stats.iter().map(|s| s.hints).sum::<usize>(),
        stats.iter().map(|s| s.layers).sum::<usize>(),
        stats.iter().map(|s| s.lookups).sum::<usize>(),
        fmt_bytes(stats.iter().map(|s| s.min_prover_memory).max().unwrap_or(0)),
        stats.iter().map(|s| s.compile_s).sum::<f64>().max(0.0)
    );
    match failures.as_slice() {
        [] => Ok(()),
        [one] => bail!("{one}"),
        [first, ..] => bail!("{} slices do not compile; first: {first}", failures.len()),
    }
}

pub fn inspect(args: InspectArgs) -> Result<()> {
    let src = ModelSource::resolve(&args.source)?;
    let (g, softmax) = circuit_graph(&src)?;
    header(&src, &g, softmax.as_ref());

    let mut hist: BTreeMap<&str, usize> = BTreeMap::new();
    for n in &g.nodes {
        *hist.entry(n.op.name()).or_default() += 1;
    }
    println!();
    println!("ops");
    for (op, count) in &hist {
        println!("  {op:<18} {count}");
    }

    let cuts = slice::clean_cuts(&g);
    println!();
    println!(
        "{:>4} {:<28} {:<17} {:<30} {:<18} {:>10}  cut",
        "#", "node", "op", "inputs", "output", "est.gates"
    );
    for (i, n) in g.nodes.iter().enumerate() {
        let inputs: Vec<String> = n
            .inputs
            .iter()
            .map(|&t| format!("{:?}", g.shape(t)))
            .collect();
        let clean = if cuts.contains(&n.output) {
            format!("clean: {}", g.tensors[n.output].name)
        } else {
            String::new()
        };
        println!(
            "{i:>4} {:<28} {:<17} {:<30} {:<18} {:>10}  {clean}",
            n.name,
            n.op.name(),
            inputs.join(" "),
            format!("{:?}", g.shape(n.output)),
            estimate_node(&g, n)
        );
    }
    println!();
    if cuts.is_empty() {
        println!("clean cut points: none (the model is one slice)");
    } else {
        let names: Vec<&str> = cuts.iter().map(|&t| g.tensors[t].name.as_str()).collect();
        println!("clean cut points ({}): {}", cuts.len(), names.join(", "));
    }

    if args.no_compile {
        let plan = slice::cuts_by_name(&g, &src.cuts).context("bad slice plan")?;
        let graphs = slice::split(&g, &plan).context("bad slice plan")?;
        println!();
        println!("{:>5} {:>5} {:>12}", "slice", "nodes", "est.gates");
        for (k, sg) in graphs.iter().enumerate() {
            println!("{k:>5} {:>5} {:>12}", sg.nodes.len(), estimate(sg));
        }
        return Ok(());
    }
    let rows = compile_slices(&src, &g)?;
    print_slices(&rows, false)
}

pub fn compile(args: CompileArgs) -> Result<()> {
    let src = ModelSource::resolve(&args.source)?;
    let t = Instant::now();
    let (g, softmax) = circuit_graph(&src)?;
    let load_s = t.elapsed().as_secs_f64();
    header(&src, &g, softmax.as_ref());
    let rows = compile_slices(&src, &g)?;
    let result = print_slices(&rows, true);
    let compile_s: f64 = rows.iter().flatten().map(|s| s.compile_s).sum();
    println!();
    println!(
        "load {load_s:.3}s, compile {compile_s:.3}s, total {:.3}s",
        t.elapsed().as_secs_f64()
    );
    result
}
