//! Writes the dev chain's raw chain spec: the runtime's genesis storage plus
//! `:code`, in the JSON layout chopsticks (and substrate nodes) read.

mod genesis;

use anyhow::{Context, Result};
use clap::Parser;
use std::path::PathBuf;

/// Build `chain-spec.raw.json` from the linked runtime.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// Where to write the raw chain spec.
    #[arg(long, default_value = "chain-spec.raw.json")]
    out: PathBuf,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let spec = genesis::raw_chain_spec()?;
    let text = serde_json::to_string_pretty(&spec).context("serializing the chain spec")?;
    std::fs::write(&args.out, text + "\n")
        .with_context(|| format!("writing {}", args.out.display()))?;
    tracing::info!(path = %args.out.display(), "raw chain spec written");
    Ok(())
}
