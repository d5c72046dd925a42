//! `zkml registry add|list|verify`: maintain a model registry and check its
//! integrity file by file.
//!
//! `verify` deliberately does not stop at the first bad artifact the way
//! `Registry::load` does: an operator restoring a damaged registry wants the
//! full list of files to replace.

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use circuits::model::{onnx, slice};
use circuits::registry::{
    AddOptions, ModelId, Provenance, Registry, MANIFEST_FILE, MAX_ARTIFACT_BYTES,
    MAX_MANIFEST_BYTES,
};
use serde::Deserialize;

use crate::source::{check_shape, load_registry, read_limited, DEFAULT_SCALE_BITS};
use crate::RegistryArg;

#[derive(clap::Subcommand, Debug)]
pub enum RegistryCommand {
    /// Copy an ONNX model into the registry and append its manifest entry.
    Add(AddArgs),
    /// List the registry's models (after verifying every artifact).
    List {
        #[command(flatten)]
        registry: RegistryArg,
    },
    /// Re-hash every artifact and report OK or MISMATCH for each file.
    Verify {
        #[command(flatten)]
        registry: RegistryArg,
    },
}

#[derive(clap::Args, Debug)]
pub struct AddArgs {
    #[command(flatten)]
    pub registry: RegistryArg,
    /// The ONNX file to add.
    pub file: PathBuf,
    /// Unique model name ([A-Za-z0-9_.-]).
    #[arg(long)]
    pub name: String,
    /// Static input shape, batch included, e.g. 1,3,32,32.
    #[arg(long, value_delimiter = ',', required = true)]
    pub input_shape: Vec<usize>,
    /// Fixed-point scale bits.
    #[arg(long, default_value_t = DEFAULT_SCALE_BITS)]
    pub scale_bits: u8,
    /// Slice plan: cut-point tensor names in graph order (see `zkml inspect`).
    #[arg(long, value_delimiter = ',')]
    pub slices: Vec<String>,
    /// Time a miner has to return a proof, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Relative challenge frequency (0 = never challenged).
    #[arg(long, default_value_t = 1)]
    pub weight: u32,
    /// Where the model came from.
    #[arg(long)]
    pub source: String,
    /// SPDX licence identifier or licence name.
    #[arg(long)]
    pub licence: String,
    /// Free-text notes (accuracy, upstream hashes, caveats).
    #[arg(long, default_value = "")]
    pub notes: String,
}

pub fn run(cmd: RegistryCommand) -> Result<()> {
    match cmd {
        RegistryCommand::Add(a) => add(a),
        RegistryCommand::List { registry } => list(&registry),
        RegistryCommand::Verify { registry } => verify(&registry.registry),
    }
}

fn add(a: AddArgs) -> Result<()> {
    check_shape(&a.input_shape)?;
    let slices: Vec<String> = a.slices.into_iter().filter(|s| !s.is_empty()).collect();
    // Refuse a model the prover cannot load or cut before it enters the
    // registry, rather than when the first challenge for it goes out.
    let bytes = read_limited(&a.file, MAX_ARTIFACT_BYTES, "model")?;
    let g = onnx::load(&bytes, &a.input_shape)
        .with_context(|| format!("{} does not load as a model", a.file.display()))?;
    let cuts = slice::cuts_by_name(&g, &slices).context("bad --slices")?;
    slice::split(&g, &cuts).context("bad --slices")?;
    let opts = AddOptions {
        input_shape: a.input_shape.iter().map(|&d| d as u64).collect(),
        quant_scale_bits: a.scale_bits,
        slices,
        timeout_ms: a.timeout_ms,
        challenge_weight: a.weight,
        provenance: Provenance {
            source: a.source,
            licence: a.licence,
            notes: a.notes,
        },
    };
    let entry = Registry::add(&a.registry.registry, &a.file, &a.name, opts)
        .with_context(|| format!("cannot add {} to the registry", a.file.display()))?;
    println!("added '{}'", entry.name);
    println!("  id    {}", entry.id);
    println!(
        "  file  {}",
        a.registry.registry.join(&entry.file).display()
    );
    Ok(())
}

fn list(arg: &RegistryArg) -> Result<()> {
    let reg = load_registry(arg)?;
    println!(
        "{:<22} {:<18} {:<16} {:>5} {:>6} {:>9} {:>6}  licence",
        "name", "id", "input", "scale", "slices", "timeout", "weight"
    );
    for m in reg.models() {
        println!(
            "{:<22} {:<18} {:<16} {:>5} {:>6} {:>8}s {:>6}  {}",
            m.name,
            format!("{}…", &m.id.to_hex()[..16]),
            format!("{:?}", m.input_shape),
            m.quant_scale_bits,
            m.slices.len() + 1,
            m.timeout_ms as f64 / 1000.0,
            m.challenge_weight,
            m.provenance.licence
        );
    }
    println!("{} model(s) in {}", reg.models().len(), reg.dir().display());
    Ok(())
}

/// Only what per-file verification needs; `Registry::load` validates the
/// rest of the schema afterwards.
#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    models: Vec<ManifestModel>,
}

#[derive(Deserialize)]
struct ManifestModel {
    id: String,
    name: String,
    file: String,
}

fn safe_relative(file: &str) -> bool {
    let p = Path::new(file);
    !file.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)))
}

fn verify(dir: &Path) -> Result<()> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let text = read_limited(&manifest_path, MAX_MANIFEST_BYTES, "manifest")?;
    let text = String::from_utf8(text)
        .with_context(|| format!("manifest {} is not UTF-8", manifest_path.display()))?;
    let manifest: Manifest = toml::from_str(&text)
        .with_context(|| format!("cannot parse manifest {}", manifest_path.display()))?;
    let mut bad = Vec::new();
    for m in &manifest.models {
        let path = dir.join(&m.file);
        let status = if !safe_relative(&m.file) {
            Err("path is not a plain relative path".to_string())
        } else {
            match (
                m.id.parse::<ModelId>(),
                read_limited(&path, MAX_ARTIFACT_BYTES, "artifact"),
            ) {
                (Err(e), _) => Err(format!("manifest id is invalid: {e}")),
                (_, Err(e)) => Err(format!("{e:#}")),
                (Ok(id), Ok(bytes)) => {
                    let actual = ModelId::of_bytes(&bytes);
                    if actual == id {
                        Ok(())
                    } else {
                        Err(format!("blake3 {actual}, manifest says {id}"))
                    }
                }
            }
        };
        match status {
            Ok(()) => println!("OK        {:<22} {}", m.name, path.display()),
            Err(why) => {
                println!("MISMATCH  {:<22} {}: {why}", m.name, path.display());
                bad.push(path.display().to_string());
            }
        }
    }
    if !bad.is_empty() {
        bail!(
            "{} of {} artifact(s) failed verification: {}",
            bad.len(),
            manifest.models.len(),
            bad.join(", ")
        );
    }
    // Every file matches; the full loader also checks every field's range.
    Registry::load(dir).with_context(|| format!("registry {} is invalid", dir.display()))?;
    println!(
        "{} artifact(s) verified in {}",
        manifest.models.len(),
        dir.display()
    );
    Ok(())
}
