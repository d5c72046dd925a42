//! `zkml`: the operator's command line over the ONNX→GKR proving stack.
//!
//! The library API (`circuits::zkml`, `circuits::model`, `circuits::registry`)
//! is what the miner and validator link against; this binary exists so that
//! a person can look inside a model before registering it, register it,
//! prove and verify one inference from files, cut standalone slices, check a
//! registry's integrity and measure the prover, without writing Rust.
//!
//! ```text
//! zkml inspect digits_cnn
//! zkml prove --model digits_mlp --input x.json --out proof.bin
//! zkml verify --proof proof.bin
//! zkml registry verify
//! zkml bench --json
//! ```
//!
//! Every failure ends the process with status 1 and one `error:` line that
//! says what was wrong with which input.

mod bench;
mod inspect;
mod progress;
mod proof_file;
mod prove;
mod registry_cmd;
mod slice_cmd;
mod source;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "zkml",
    version,
    about = "Inspect, compile, slice, prove and verify ONNX models as GKR circuits"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where to find the model registry; shared by every subcommand that reads one.
#[derive(clap::Args, Debug, Clone)]
pub struct RegistryArg {
    /// The registry directory (holding registry.toml).
    #[arg(long, env = "ZKML_REGISTRY", default_value = "registry")]
    pub registry: PathBuf,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Ops, shapes, clean cut points and per-slice circuit sizes of a model.
    Inspect(inspect::InspectArgs),
    /// Compile every slice of a model and print circuit sizes, digests and time.
    Compile(inspect::CompileArgs),
    /// Prove one inference: input JSON in, proof file and output JSON out.
    Prove(prove::ProveArgs),
    /// Verify a proof file's chain of slice proofs and print the proven output.
    Verify(prove::VerifyArgs),
    /// Write each slice of a model as a standalone .onnx file.
    Slice(slice_cmd::SliceArgs),
    /// Add, list or verify registry models.
    #[command(subcommand)]
    Registry(registry_cmd::RegistryCommand),
    /// Compile/prove/verify time, prover peak RSS and proof size per model.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,zkml=info")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(a) => inspect::inspect(a),
        Command::Compile(a) => inspect::compile(a),
        Command::Prove(a) => prove::prove(a),
        Command::Verify(a) => prove::verify(a),
        Command::Slice(a) => slice_cmd::slice(a),
        Command::Registry(c) => registry_cmd::run(c),
        Command::Bench(a) => bench::bench(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
