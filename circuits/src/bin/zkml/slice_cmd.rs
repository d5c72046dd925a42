//! `zkml slice`: cut a registry model into standalone `.onnx` slices, at
//! given cut points or greedily under a gate budget, and print the plan in
//! the form the registry manifest takes.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use circuits::compile;
use circuits::model::{onnx, slice, Graph};
use circuits::zkml::strip_trailing_softmax;

use crate::inspect::estimate;
use crate::source::{load_registry, ModelSource, SourceArgs};
use crate::{progress, RegistryArg};

#[derive(clap::Args, Debug)]
pub struct SliceArgs {
    #[command(flatten)]
    pub registry: RegistryArg,
    /// Registry model, by name or hex id.
    #[arg(long)]
    pub model: String,
    /// Directory for the slice files (created if missing).
    #[arg(long)]
    pub out_dir: PathBuf,
    /// Cut points (tensor names, in graph order) instead of the registry's
    /// slice plan.
    #[arg(long, value_delimiter = ',', conflicts_with = "budget_gates")]
    pub cuts: Option<Vec<String>>,
    /// Plan the cuts automatically: the largest slices whose compiled
    /// circuits stay within this many gates.
    #[arg(long)]
    pub budget_gates: Option<u64>,
}

/// Compiled gate count of a candidate slice; a slice that does not compile
/// counts as infinitely large, so the planner never extends it. A trailing
/// Softmax is taken off first, as `CompiledModel` does (the verifier
/// reapplies it), so the last slice of a classifier counts what is proven.
fn compiled_gates(g: &Graph, scale_bits: u8) -> u64 {
    let mut g = g.clone();
    strip_trailing_softmax(&mut g);
    compile::compile(&g, scale_bits).map_or(u64::MAX, |c| c.circuit.num_gates() as u64)
}

pub fn slice(args: SliceArgs) -> Result<()> {
    // This command is for registry models only; `resolve` would take files.
    load_registry(&args.registry)?.get(&args.model)?;
    let src = ModelSource::resolve(&SourceArgs {
        model: args.model.clone(),
        input_shape: None,
        scale_bits: None,
        cuts: args.cuts.clone(),
        registry: args.registry.clone(),
    })?;
    let g = src.graph()?;

    let cuts = match args.budget_gates {
        Some(0) => bail!("--budget-gates must be positive"),
        Some(budget) => {
            let pb = progress::spinner("planning slices");
            let plan = slice::auto_plan(&g, |sg| compiled_gates(sg, src.scale_bits), budget);
            pb.finish_and_clear();
            plan.context("cannot plan slices")?
        }
        None => slice::cuts_by_name(&g, &src.cuts).context("bad slice plan")?,
    };
    let graphs = slice::split(&g, &cuts).context("bad slice plan")?;

    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    let pb = progress::bar(graphs.len() as u64, "slicing");
    let mut rows = Vec::with_capacity(graphs.len());
    for (k, sg) in graphs.iter().enumerate() {
        let from = &sg.tensors[sg.input].name;
        let to = &sg.tensors[sg.output].name;
        let bytes = onnx::extract_slice(&src.bytes, &src.input_shape, from, to)
            .with_context(|| format!("cannot extract slice {k} ({from} -> {to})"))?;
        // The file must stand on its own: load it back at its boundary shape.
        let back = onnx::load(&bytes, sg.shape(sg.input))
            .with_context(|| format!("slice {k} does not load back as a model"))?;
        let gates = compiled_gates(&back, src.scale_bits);
        let path = args.out_dir.join(format!("{}.slice{k}.onnx", src.name));
        std::fs::write(&path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        rows.push((k, sg, gates, path, bytes.len()));
        pb.inc(1);
    }
    pb.finish_and_clear();

    println!(
        "{:>5} {:>5} {:>12} {:>12} {:>9}  {:<40} file",
        "slice", "nodes", "est.gates", "gates", "bytes", "boundary"
    );
    for (k, sg, gates, path, len) in &rows {
        let gates = if *gates == u64::MAX {
            "n/a".to_string()
        } else {
            gates.to_string()
        };
        println!(
            "{k:>5} {:>5} {:>12} {:>12} {len:>9}  {:<40} {}",
            sg.nodes.len(),
            estimate(sg),
            gates,
            format!(
                "{} {:?} -> {} {:?}",
                sg.tensors[sg.input].name,
                sg.shape(sg.input),
                sg.tensors[sg.output].name,
                sg.shape(sg.output)
            ),
            path.display()
        );
    }
    let names: Vec<String> = cuts
        .iter()
        .map(|&t| format!("{:?}", g.tensors[t].name))
        .collect();
    println!();
    println!("slices = [{}]", names.join(", "));
    Ok(())
}
