//! Proves and verifies random layered circuits (half mul, half add) and
//! prints prove time, verify time, proof size and prover peak RSS.
//!
//! Each configuration runs in its own child process, so the peak-RSS figure
//! belongs to that configuration alone.
//!
//! ```text
//! cargo run --release -p circuits --bin gkr-bench -- --log-gates 16,18,20,22
//! ```

use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use circuits::circuit::random::{layered, random_hints, Wiring};
use circuits::gkr::{prove, verify, Statement};
use circuits::util::{peak_rss_bytes, reset_peak_rss};
use clap::Parser;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[derive(Parser, Debug)]
#[command(about = "GKR prover/verifier benchmark on random layered circuits")]
struct Args {
    /// Total gate counts to run, as log2 (comma separated).
    #[arg(long, value_delimiter = ',', default_values_t = vec![16u32, 18, 20, 22])]
    log_gates: Vec<u32>,
    /// Wirings to run (local, random).
    #[arg(long, value_delimiter = ',', default_values = ["local", "random"])]
    wiring: Vec<Wiring>,
    /// Number of layers; the width is gates / depth (a power of two).
    #[arg(long, default_value_t = 16)]
    depth: usize,
    /// Timed repetitions per configuration (the median is reported).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Internal: run one configuration in this process and print one line.
    #[arg(long, hide = true)]
    single: Option<String>,
}

struct Row {
    log_gates: u32,
    wiring: String,
    gates: usize,
    prove_s: f64,
    verify_s: f64,
    proof_bytes: usize,
    hint_bytes: usize,
    rss_mb: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn run_single(log_gates: u32, wiring: Wiring, depth: usize, reps: usize) -> Result<String> {
    if !depth.is_power_of_two() || depth.trailing_zeros() >= log_gates {
        bail!("depth must be a power of two below the gate count");
    }
    let log_width = log_gates - depth.trailing_zeros();
    let mut rng = ChaCha8Rng::seed_from_u64(log_gates as u64);
    let circuit = layered(&mut rng, depth, log_width, wiring, false);
    let hints = random_hints(&mut rng, circuit.num_hints());
    let reset = reset_peak_rss();
    let mut prove_times = Vec::new();
    let mut verify_times = Vec::new();
    let mut size = (0, 0);
    for _ in 0..reps {
        let t = Instant::now();
        let (proof, outputs) = prove(&circuit, &[], &hints, b"bench")?;
        prove_times.push(t.elapsed().as_secs_f64());
        let st = Statement {
            public_inputs: &[],
            public_outputs: &outputs,
            context: b"bench",
        };
        let t = Instant::now();
        verify(&circuit, &st, &proof)?;
        verify_times.push(t.elapsed().as_secs_f64());
        size = (proof.size_bytes(), proof.hints.len() * 8);
    }
    let rss = if reset { peak_rss_bytes() } else { None };
    Ok(format!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        circuit.num_gates(),
        median(prove_times),
        median(verify_times),
        size.0,
        size.1,
        rss.map_or(-1.0, |b| b as f64 / (1 << 20) as f64)
    ))
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(spec) = &args.single {
        let (lg, w) = spec.split_once(':').context("--single LOG:WIRING")?;
        let wiring: Wiring = w.parse().map_err(anyhow::Error::msg)?;
        println!(
            "{}",
            run_single(lg.parse()?, wiring, args.depth, args.reps)?
        );
        return Ok(());
    }
    let exe = std::env::current_exe()?;
    let threads = rayon::current_num_threads();
    eprintln!(
        "gkr-bench: depth {}, {} reps, {threads} threads",
        args.depth, args.reps
    );
    let mut rows = Vec::new();
    let bar = indicatif::ProgressBar::new((args.log_gates.len() * args.wiring.len()) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]")
            .expect("static template"),
    );
    for &lg in &args.log_gates {
        for &wiring in &args.wiring {
            let name = format!("{wiring:?}").to_lowercase();
            bar.set_message(format!("2^{lg} gates, {name} wiring"));
            let out = Command::new(&exe)
                .args(["--single", &format!("{lg}:{name}")])
                .args(["--depth", &args.depth.to_string()])
                .args(["--reps", &args.reps.to_string()])
                .output()?;
            if !out.status.success() {
                bail!("child failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            let line = String::from_utf8(out.stdout)?;
            let f: Vec<&str> = line.trim().split('\t').collect();
            rows.push(Row {
                log_gates: lg,
                wiring: name,
                gates: f[0].parse()?,
                prove_s: f[1].parse()?,
                verify_s: f[2].parse()?,
                proof_bytes: f[3].parse()?,
                hint_bytes: f[4].parse()?,
                rss_mb: f[5].parse()?,
            });
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    println!("| gates | wiring | prove (s) | s / M gates | verify (s) | verify / prove | proof (KiB) | of which raw hints (KiB) | prover peak RSS (MiB) |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| 2^{} ({}) | {} | {:.3} | {:.3} | {:.3} | {:.1}% | {:.0} | {:.0} | {:.0} |",
            r.log_gates,
            r.gates,
            r.wiring,
            r.prove_s,
            r.prove_s / (r.gates as f64 / 1e6),
            r.verify_s,
            100.0 * r.verify_s / r.prove_s,
            r.proof_bytes as f64 / 1024.0,
            r.hint_bytes as f64 / 1024.0,
            r.rss_mb
        );
    }
    Ok(())
}
