//! `zkml prove` and `zkml verify`: one inference, from input JSON to a proof
//! file and back to a verified output.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use circuits::registry::{ModelEntry, Registry};
use circuits::zkml::CompiledModel;

use crate::proof_file::{ProofFile, MAX_NONCE_BYTES, MAX_PROOF_FILE_BYTES};
use crate::source::{load_registry, output_json, output_kind, read_input, read_limited};
use crate::{progress, RegistryArg};

#[derive(clap::Args, Debug)]
pub struct ProveArgs {
    #[command(flatten)]
    pub registry: RegistryArg,
    /// Registry model, by name or hex id.
    #[arg(long)]
    pub model: String,
    /// Input tensor: {"shape": [..], "data": [..]} or a flat array of numbers.
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the proof file.
    #[arg(long)]
    pub out: PathBuf,
    /// Challenge nonce in hex [default: 32 random bytes].
    #[arg(long)]
    pub nonce: Option<String>,
    /// Also write the output JSON to this file.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub registry: RegistryArg,
    /// The proof file written by `zkml prove`.
    #[arg(long)]
    pub proof: PathBuf,
    /// The challenge input; when given, the proof must be for exactly this
    /// tensor. Without it the input stored in the proof file is trusted.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Also write the output JSON to this file.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// Compile a registry model, with a spinner: `CompiledModel` compiles its
/// slices in parallel and reports no progress of its own.
pub fn compile_model(reg: &Registry, entry: &ModelEntry) -> Result<(CompiledModel, f64)> {
    let pb = progress::spinner(&format!("compiling {}", entry.name));
    let t = Instant::now();
    let model = CompiledModel::from_registry(reg, entry)
        .with_context(|| format!("cannot compile model '{}'", entry.name));
    let secs = t.elapsed().as_secs_f64();
    pb.finish_and_clear();
    let model = model?;
    tracing::info!(model = %entry.name, slices = model.slices().len(), secs, "compiled");
    Ok((model, secs))
}

fn parse_nonce(hex_nonce: Option<&str>) -> Result<Vec<u8>> {
    let nonce = match hex_nonce {
        Some(h) => hex::decode(h.trim_start_matches("0x")).context("--nonce is not valid hex")?,
        None => rand::random::<[u8; 32]>().to_vec(),
    };
    if nonce.len() > MAX_NONCE_BYTES {
        bail!(
            "--nonce is {} bytes, the limit is {MAX_NONCE_BYTES}",
            nonce.len()
        );
    }
    Ok(nonce)
}

fn emit(json: &serde_json::Value, path: Option<&PathBuf>) -> Result<()> {
    let text = serde_json::to_string_pretty(json)?;
    println!("{text}");
    if let Some(p) = path {
        std::fs::write(p, text + "\n").with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(())
}

pub fn prove(args: ProveArgs) -> Result<()> {
    let nonce = parse_nonce(args.nonce.as_deref())?;
    let reg = load_registry(&args.registry)?;
    let entry = reg.get(&args.model)?.clone();
    let shape: Vec<usize> = entry.input_shape.iter().map(|&d| d as usize).collect();
    let input = read_input(&args.input, &shape, entry.quant_scale_bits)?;
    let (model, _) = compile_model(&reg, &entry)?;

    let n = model.slices().len();
    let pb = progress::bar(n as u64, "proving");
    let t = Instant::now();
    let mut proofs = Vec::with_capacity(n);
    let mut cur = input.clone();
    for k in 0..n {
        let p = model
            .prove_slice(k, &cur, &nonce)
            .with_context(|| format!("cannot prove slice {k} of '{}'", entry.name))?;
        cur = p.output.clone();
        proofs.push(p);
        pb.inc(1);
    }
    pb.finish_and_clear();
    tracing::info!(secs = t.elapsed().as_secs_f64(), slices = n, "proved");

    let file = ProofFile {
        model: entry.id,
        nonce,
        input,
        proofs,
    };
    let bytes = file.to_bytes();
    std::fs::write(&args.out, &bytes)
        .with_context(|| format!("cannot write proof {}", args.out.display()))?;
    tracing::info!(path = %args.out.display(), bytes = bytes.len(), "proof written");
    eprintln!("output: {}", output_kind(&model));
    emit(&output_json(&model, &cur), args.output.as_ref())
}

pub fn verify(args: VerifyArgs) -> Result<()> {
    let bytes = read_limited(&args.proof, MAX_PROOF_FILE_BYTES, "proof file")?;
    let file = ProofFile::from_bytes(&bytes)
        .with_context(|| format!("cannot decode proof file {}", args.proof.display()))?;
    let reg = load_registry(&args.registry)?;
    let entry = reg
        .models()
        .iter()
        .find(|m| m.id == file.model)
        .ok_or_else(|| {
            anyhow!(
                "the proof is for model {}, which registry {} does not hold",
                file.model,
                args.registry.registry.display()
            )
        })?
        .clone();
    if let Some(path) = &args.input {
        let shape: Vec<usize> = entry.input_shape.iter().map(|&d| d as usize).collect();
        let want = read_input(path, &shape, entry.quant_scale_bits)?;
        if want != file.input {
            bail!(
                "verification failed: the proof is for another input than {}",
                path.display()
            );
        }
    }
    let (model, _) = compile_model(&reg, &entry)?;
    let pb = progress::spinner("verifying");
    let t = Instant::now();
    let result = model.verify(&file.input, &file.proofs, &file.nonce);
    pb.finish_and_clear();
    let output = result.map_err(|e| anyhow!("verification failed: {e}"))?;
    tracing::info!(secs = t.elapsed().as_secs_f64(), "verified");
    eprintln!(
        "verified: {} slice proof(s) for model '{}', nonce {}",
        file.proofs.len(),
        entry.name,
        hex::encode(&file.nonce)
    );
    eprintln!("output: {}", output_kind(&model));
    emit(&output_json(&model, &output), args.output.as_ref())
}
