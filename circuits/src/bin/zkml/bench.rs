//! `zkml bench`: compile, prove and verify time, prover CPU time and peak
//! RSS, proof size and gates for registry models or `.onnx` files.
//!
//! Each model runs in a child process of this binary (`--single`), because
//! the kernel's peak-RSS mark is per process: run in one process, a small
//! model would report the peak of the large one before it. `--json` prints
//! one object per model with the keys model, load_s, compile_s, prove_s,
//! prove_cpu_s, verify_s, peak_rss_bytes, proof_bytes, gates, which
//! `scripts/bench-peers.sh` and `scripts/bench-mlp784.sh` read.

use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use circuits::util::{peak_rss_bytes, process_cpu_seconds, reset_peak_rss};
use circuits::zkml::CompiledModel;
use serde_json::{json, Value};

use crate::source::{fmt_bytes, is_model_file, load_registry, ModelSource, SourceArgs};
use crate::{progress, RegistryArg};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub registry: RegistryArg,
    /// Models to run: registry names or ids, or paths to .onnx files; all
    /// registry models by default.
    #[arg(long)]
    pub model: Vec<String>,
    /// Input shape of the .onnx files among --model, batch included (e.g.
    /// 1,784); registry models use their manifest's.
    #[arg(long, value_delimiter = ',')]
    pub input_shape: Option<Vec<usize>>,
    /// Fixed-point scale bits for the .onnx files [default: 12].
    #[arg(long)]
    pub scale_bits: Option<u8>,
    /// Timed prove and verify repetitions per model (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub reps: usize,
    /// One JSON object per model and line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Internal: measure this one model in this process and print its JSON.
    #[arg(long, hide = true)]
    pub single: Option<String>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Resolve a registry model or an .onnx file; the shape and scale options
/// apply to files only.
fn source(args: &BenchArgs, model: &str) -> Result<ModelSource> {
    let file = is_model_file(model);
    ModelSource::resolve(&SourceArgs {
        model: model.to_string(),
        input_shape: args.input_shape.clone().filter(|_| file),
        scale_bits: args.scale_bits.filter(|_| file),
        cuts: None,
        registry: args.registry.clone(),
    })
}

/// Measure one model in this process.
fn run_single(args: &BenchArgs, name: &str) -> Result<Value> {
    let src = source(args, name)?;
    // Compile time includes parsing and lowering the ONNX graph, as the
    // miner pays it when it loads a model from the registry.
    let t = Instant::now();
    let graph = src.graph()?;
    let load_s = t.elapsed().as_secs_f64();
    let model = CompiledModel::compile(src.id, &src.name, &graph, src.scale_bits, &src.cuts)
        .with_context(|| format!("cannot compile '{}'", src.name))?;
    let compile_s = t.elapsed().as_secs_f64();
    drop(graph);
    let input = model.random_input([7; 32]);
    let nonce = [9u8; 32];

    // The compiled model stays resident; the mark then covers proving on
    // top of it, which is what a miner holding the model pays.
    let rss_reset = reset_peak_rss();
    let mut prove_times = Vec::with_capacity(args.reps);
    let mut proofs = Vec::new();
    // CPU time is summed over the repetitions (its clock ticks in 10 ms)
    // and reported per proof; on several cores it exceeds the wall time.
    let cpu_before = process_cpu_seconds();
    for _ in 0..args.reps {
        let t = Instant::now();
        proofs = model
            .prove(&input, &nonce)
            .with_context(|| format!("cannot prove '{}'", src.name))?;
        prove_times.push(t.elapsed().as_secs_f64());
    }
    let prove_cpu_s = cpu_before
        .zip(process_cpu_seconds())
        .map(|(a, b)| (b - a) / args.reps as f64);
    let peak = peak_rss_bytes();
    let mut verify_times = Vec::with_capacity(args.reps);
    for _ in 0..args.reps {
        let t = Instant::now();
        model
            .verify(&input, &proofs, &nonce)
            .map_err(|e| anyhow!("'{}' failed to verify its own proof: {e}", src.name))?;
        verify_times.push(t.elapsed().as_secs_f64());
    }
    let proof_bytes: usize = proofs.iter().map(|p| p.to_bytes().len()).sum();
    let gates: usize = model.slices().iter().map(|s| s.num_gates()).sum();
    Ok(json!({
        "model": src.name,
        "load_s": load_s,
        "compile_s": compile_s,
        "prove_s": median(prove_times),
        "prove_cpu_s": prove_cpu_s,
        "verify_s": median(verify_times),
        "peak_rss_bytes": peak,
        "proof_bytes": proof_bytes,
        "gates": gates,
        "slices": model.slices().len(),
        "reps": args.reps,
        "rss_reset": rss_reset,
    }))
}

/// Measure one model in a child process and parse its line.
fn run_child(args: &BenchArgs, name: &str) -> Result<Value> {
    let exe = std::env::current_exe().context("cannot find this executable")?;
    let mut cmd = Command::new(exe);
    cmd.arg("bench")
        .arg("--registry")
        .arg(&args.registry.registry)
        .arg("--reps")
        .arg(args.reps.to_string())
        .arg("--single")
        .arg(name);
    if let Some(shape) = &args.input_shape {
        let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
        cmd.arg("--input-shape").arg(dims.join(","));
    }
    if let Some(bits) = args.scale_bits {
        cmd.arg("--scale-bits").arg(bits.to_string());
    }
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("cannot run the benchmark of '{name}'"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("benchmark of '{name}' failed: {}", err.trim());
    }
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.trim())
        .with_context(|| format!("benchmark of '{name}' printed no result"))
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

pub fn bench(args: BenchArgs) -> Result<()> {
    if args.reps == 0 {
        bail!("--reps must be at least 1");
    }
    if let Some(name) = &args.single {
        println!("{}", run_single(&args, name)?);
        return Ok(());
    }
    // Files are passed on as paths; registry names are checked here, so that
    // a typo fails before any model runs.
    let names: Vec<String> = if args.model.is_empty() {
        let reg = load_registry(&args.registry)?;
        reg.models().iter().map(|m| m.name.clone()).collect()
    } else {
        let reg = if args.model.iter().all(|m| is_model_file(m)) {
            None
        } else {
            Some(load_registry(&args.registry)?)
        };
        args.model
            .iter()
            .map(|m| match &reg {
                Some(reg) if !is_model_file(m) => Ok(reg.get(m)?.name.clone()),
                _ => Ok(m.clone()),
            })
            .collect::<Result<_>>()?
    };
    if !args.json {
        println!(
            "{:<22} {:>7} {:>12} {:>10} {:>10} {:>10} {:>10} {:>11} {:>11}",
            "model",
            "slices",
            "gates",
            "compile",
            "prove",
            "prove CPU",
            "verify",
            "peak RSS",
            "proof"
        );
    }
    let pb = progress::bar(names.len() as u64, "benchmark");
    let mut failed = Vec::new();
    for name in &names {
        pb.set_message(name.clone());
        match run_child(&args, name) {
            Ok(v) if args.json => pb.suspend(|| println!("{v}")),
            Ok(v) => pb.suspend(|| {
                println!(
                    "{:<22} {:>7} {:>12} {:>9.3}s {:>9.3}s {:>9.3}s {:>9.3}s {:>11} {:>11}",
                    name,
                    v["slices"],
                    v["gates"],
                    f(&v, "compile_s"),
                    f(&v, "prove_s"),
                    f(&v, "prove_cpu_s"),
                    f(&v, "verify_s"),
                    v["peak_rss_bytes"].as_u64().map_or("n/a".into(), fmt_bytes),
                    v["proof_bytes"].as_u64().map_or("n/a".into(), fmt_bytes),
                )
            }),
            Err(e) => {
                pb.suspend(|| eprintln!("error: {e:#}"));
                failed.push(name.clone());
            }
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    if !failed.is_empty() {
        bail!("benchmark failed for: {}", failed.join(", "));
    }
    Ok(())
}
