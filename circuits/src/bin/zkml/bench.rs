//! `zkml bench`: compile, prove and verify time, prover peak RSS, proof size
//! and gates for registry models.
//!
//! Each model runs in a child process of this binary (`--single`), because
//! the kernel's peak-RSS mark is per process: run in one process, a small
//! model would report the peak of the large one before it. `--json` prints
//! one object per model with the keys model, compile_s, prove_s, verify_s,
//! peak_rss_bytes, proof_bytes, gates, which `scripts/bench-peers.sh` reads.

use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use circuits::util::{peak_rss_bytes, reset_peak_rss};
use circuits::zkml::CompiledModel;
use serde_json::{json, Value};

use crate::source::{fmt_bytes, load_registry};
use crate::{progress, RegistryArg};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub registry: RegistryArg,
    /// Models to run (name or id); all registry models by default.
    #[arg(long)]
    pub model: Vec<String>,
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

/// Measure one model in this process.
fn run_single(args: &BenchArgs, name: &str) -> Result<Value> {
    let reg = load_registry(&args.registry)?;
    let entry = reg.get(name)?.clone();
    let t = Instant::now();
    let model = CompiledModel::from_registry(&reg, &entry)
        .with_context(|| format!("cannot compile '{}'", entry.name))?;
    let compile_s = t.elapsed().as_secs_f64();
    let input = model.random_input([7; 32]);
    let nonce = [9u8; 32];

    // The compiled model stays resident; the mark then covers proving on
    // top of it, which is what a miner holding the model pays.
    let rss_reset = reset_peak_rss();
    let mut prove_times = Vec::with_capacity(args.reps);
    let mut proofs = Vec::new();
    for _ in 0..args.reps {
        let t = Instant::now();
        proofs = model
            .prove(&input, &nonce)
            .with_context(|| format!("cannot prove '{}'", entry.name))?;
        prove_times.push(t.elapsed().as_secs_f64());
    }
    let peak = peak_rss_bytes();
    let mut verify_times = Vec::with_capacity(args.reps);
    for _ in 0..args.reps {
        let t = Instant::now();
        model
            .verify(&input, &proofs, &nonce)
            .map_err(|e| anyhow!("'{}' failed to verify its own proof: {e}", entry.name))?;
        verify_times.push(t.elapsed().as_secs_f64());
    }
    let proof_bytes: usize = proofs.iter().map(|p| p.to_bytes().len()).sum();
    let gates: usize = model.slices().iter().map(|s| s.num_gates()).sum();
    Ok(json!({
        "model": entry.name,
        "compile_s": compile_s,
        "prove_s": median(prove_times),
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
    let out = Command::new(exe)
        .arg("bench")
        .arg("--registry")
        .arg(&args.registry.registry)
        .arg("--reps")
        .arg(args.reps.to_string())
        .arg("--single")
        .arg(name)
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
    let reg = load_registry(&args.registry)?;
    let names: Vec<String> = if args.model.is_empty() {
        reg.models().iter().map(|m| m.name.clone()).collect()
    } else {
        args.model
            .iter()
            .map(|m| reg.get(m).map(|e| e.name.clone()))
            .collect::<Result<_, _>>()?
    };
    if !args.json {
        println!(
            "{:<22} {:>7} {:>12} {:>10} {:>10} {:>10} {:>11} {:>11}",
            "model", "slices", "gates", "compile", "prove", "verify", "peak RSS", "proof"
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
                    "{:<22} {:>7} {:>12} {:>9.3}s {:>9.3}s {:>9.3}s {:>11} {:>11}",
                    name,
                    v["slices"],
                    v["gates"],
                    f(&v, "compile_s"),
                    f(&v, "prove_s"),
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
