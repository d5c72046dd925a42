//! Where models and tensors come from: a registry entry or a bare `.onnx`
//! file, input tensors as JSON, and the output tensor as JSON.
//!
//! Everything read here is external input, so every file is read with a size
//! limit and every problem is reported against the file it came from.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use circuits::model::{onnx, Graph, QTensor};
use circuits::registry::{ModelId, Registry, MAX_RANK, QUANT_SCALE_BITS};
use circuits::zkml::CompiledModel;
use serde_json::{json, Value};

use crate::RegistryArg;

/// Largest input JSON accepted (256 MiB: 2^24 floats in decimal text).
pub const MAX_INPUT_JSON_BYTES: u64 = 256 << 20;
/// Scale used for bare `.onnx` files when `--scale-bits` is not given; the
/// registry's models all use it.
pub const DEFAULT_SCALE_BITS: u8 = 12;

/// Read at most `limit` bytes of `path`, refusing anything larger without
/// allocating for it.
pub fn read_limited(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    let file =
        File::open(path).with_context(|| format!("cannot open {what} {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot stat {what} {}", path.display()))?;
    if !meta.is_file() {
        bail!("{what} {} is not a regular file", path.display());
    }
    let mut buf = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if buf.len() as u64 > limit {
        bail!(
            "{what} {} is larger than the {limit} byte limit",
            path.display()
        );
    }
    Ok(buf)
}

/// Load and hash-verify a registry.
pub fn load_registry(arg: &RegistryArg) -> Result<Registry> {
    Registry::load(&arg.registry)
        .with_context(|| format!("cannot load registry {}", arg.registry.display()))
}

/// Whether a model argument names a file (an existing path, or one ending in
/// `.onnx`) rather than a registry model.
pub fn is_model_file(model: &str) -> bool {
    Path::new(model).is_file() || model.ends_with(".onnx")
}

/// Which model to work on, for the commands that accept a file or a name.
#[derive(clap::Args, Debug)]
pub struct SourceArgs {
    /// A registry model (name or hex id) or a path to an .onnx file.
    pub model: String,
    /// Input shape, batch included, e.g. 1,64 (required for an .onnx file;
    /// registry models have theirs in the manifest).
    #[arg(long, value_delimiter = ',')]
    pub input_shape: Option<Vec<usize>>,
    /// Fixed-point scale bits for an .onnx file [default: 12].
    #[arg(long)]
    pub scale_bits: Option<u8>,
    /// Cut points (tensor names, in graph order) instead of the registry's
    /// slice plan; an empty list means one slice.
    #[arg(long, value_delimiter = ',')]
    pub cuts: Option<Vec<String>>,
    #[command(flatten)]
    pub registry: RegistryArg,
}

/// A model ready to load: bytes, identity, shape, scale and slice plan.
pub struct ModelSource {
    pub name: String,
    pub id: ModelId,
    pub bytes: Vec<u8>,
    pub input_shape: Vec<usize>,
    pub scale_bits: u8,
    pub cuts: Vec<String>,
}

impl ModelSource {
    /// Resolve `args.model`: an existing path (or one ending in `.onnx`) is
    /// a file, anything else a registry name or id.
    pub fn resolve(args: &SourceArgs) -> Result<Self> {
        let path = Path::new(&args.model);
        let mut src = if is_model_file(&args.model) {
            Self::from_file(path, args)?
        } else {
            let reg = load_registry(&args.registry)?;
            let entry = reg.get(&args.model).with_context(|| {
                format!(
                    "'{}' is neither an .onnx file nor a model of registry {}",
                    args.model,
                    args.registry.registry.display()
                )
            })?;
            let shape: Vec<usize> = entry.input_shape.iter().map(|&d| d as usize).collect();
            if let Some(s) = &args.input_shape {
                if *s != shape {
                    bail!(
                        "registry model '{}' has input shape {shape:?}; --input-shape {s:?} does not apply",
                        entry.name
                    );
                }
            }
            if let Some(s) = args.scale_bits {
                if s != entry.quant_scale_bits {
                    bail!(
                        "registry model '{}' is quantized at 2^{}; --scale-bits {s} does not apply",
                        entry.name,
                        entry.quant_scale_bits
                    );
                }
            }
            Self {
                name: entry.name.clone(),
                id: entry.id,
                bytes: reg.read_onnx(entry)?,
                input_shape: shape,
                scale_bits: entry.quant_scale_bits,
                cuts: entry.slices.clone(),
            }
        };
        if let Some(cuts) = &args.cuts {
            src.cuts = cuts.iter().filter(|c| !c.is_empty()).cloned().collect();
        }
        Ok(src)
    }

    fn from_file(path: &Path, args: &SourceArgs) -> Result<Self> {
        let bytes = read_limited(path, onnx::MAX_MODEL_BYTES as u64, "model")?;
        let input_shape = args.input_shape.clone().ok_or_else(|| {
            anyhow!(
                "{} is an ONNX file: give its --input-shape (e.g. 1,64)",
                path.display()
            )
        })?;
        check_shape(&input_shape)?;
        let scale_bits = args.scale_bits.unwrap_or(DEFAULT_SCALE_BITS);
        if !QUANT_SCALE_BITS.contains(&scale_bits) {
            bail!("--scale-bits {scale_bits} is outside {QUANT_SCALE_BITS:?}");
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        Ok(Self {
            name,
            id: ModelId::of_bytes(&bytes),
            bytes,
            input_shape,
            scale_bits,
            cuts: Vec::new(),
        })
    }

    /// Parse and lower the ONNX graph at the input shape.
    pub fn graph(&self) -> Result<Graph> {
        onnx::load(&self.bytes, &self.input_shape)
            .with_context(|| format!("cannot load model '{}'", self.name))
    }
}

/// Refuse shapes the registry would refuse, before any allocation.
pub fn check_shape(shape: &[usize]) -> Result<()> {
    if shape.is_empty() || shape.len() > MAX_RANK {
        bail!("input shape {shape:?} must have 1 to {MAX_RANK} dimensions");
    }
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n > 0 && n <= circuits::registry::MAX_INPUT_ELEMENTS as usize);
    if n.is_none() {
        bail!("input shape {shape:?} must hold between 1 and 2^24 elements");
    }
    Ok(())
}

/// Read an input tensor: `{"shape": [..], "data": [..]}` or a flat array of
/// numbers in row-major order, checked against the model's input shape and
/// quantized at `scale_bits`.
pub fn read_input(path: &Path, want_shape: &[usize], scale_bits: u8) -> Result<QTensor> {
    let bytes = read_limited(path, MAX_INPUT_JSON_BYTES, "input")?;
    let value: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("input {} is not valid JSON", path.display()))?;
    parse_input(&value, want_shape, scale_bits)
        .with_context(|| format!("bad input {}", path.display()))
}

fn parse_input(value: &Value, want_shape: &[usize], scale_bits: u8) -> Result<QTensor> {
    let (shape, data) = match value {
        Value::Array(a) => (want_shape.to_vec(), a),
        Value::Object(o) => {
            if let Some(k) = o.keys().find(|k| *k != "shape" && *k != "data") {
                bail!("unknown key \"{k}\" (expected \"shape\" and \"data\")");
            }
            let shape = o
                .get("shape")
                .ok_or_else(|| anyhow!("missing \"shape\""))?
                .as_array()
                .ok_or_else(|| anyhow!("\"shape\" is not an array"))?
                .iter()
                .map(|d| {
                    d.as_u64()
                        .and_then(|d| usize::try_from(d).ok())
                        .ok_or_else(|| anyhow!("\"shape\" holds {d}, not a dimension"))
                })
                .collect::<Result<Vec<usize>>>()?;
            let data = o
                .get("data")
                .ok_or_else(|| anyhow!("missing \"data\""))?
                .as_array()
                .ok_or_else(|| anyhow!("\"data\" is not an array of numbers"))?;
            (shape, data)
        }
        _ => bail!("expected {{\"shape\": [..], \"data\": [..]}} or an array of numbers"),
    };
    if shape != want_shape {
        bail!("input shape {shape:?} does not match the model's input shape {want_shape:?}");
    }
    let n: usize = shape.iter().product();
    if data.len() != n {
        bail!(
            "shape {shape:?} holds {n} values, the data has {}",
            data.len()
        );
    }
    let floats = data
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_f64()
                .map(|x| x as f32)
                .filter(|x| x.is_finite())
                .ok_or_else(|| anyhow!("data[{i}] = {v} is not a finite number"))
        })
        .collect::<Result<Vec<f32>>>()?;
    QTensor::quantize(shape, scale_bits, &floats).map_err(|e| anyhow!(e))
}

/// What the `data` of an output JSON is, in words for the operator.
pub fn output_kind(model: &CompiledModel) -> &'static str {
    if model.has_trailing_softmax() {
        "probabilities: the model's trailing Softmax, applied by the verifier to the proven logits"
    } else {
        "values: the proven output tensor, dequantized"
    }
}

/// The model's output as JSON: `data` is [`CompiledModel::finalize`]d
/// (probabilities when the model ends in a Softmax, which the verifier
/// reapplies, in which case the proven `logits` are included too), `kind`
/// says which, and `argmax` serves classifiers.
pub fn output_json(model: &CompiledModel, t: &QTensor) -> Value {
    let argmax = t
        .values
        .iter()
        .enumerate()
        .max_by_key(|&(i, v)| (*v, std::cmp::Reverse(i)))
        .map(|(i, _)| i);
    let mut out = json!({
        "model": model.name(),
        "model_id": model.id().to_hex(),
        "shape": t.shape,
        "scale_bits": t.scale_bits,
        "kind": if model.has_trailing_softmax() { "probabilities" } else { "values" },
        "data": model.finalize(t),
        "argmax": argmax,
    });
    if model.has_trailing_softmax() {
        out["logits"] = json!(t.dequantize());
    }
    out
}

/// Human-readable byte counts for tables.
pub fn fmt_bytes(b: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_forms_and_errors() {
        let flat = serde_json::json!([0.5, -0.25]);
        let t = parse_input(&flat, &[1, 2], 4).unwrap();
        assert_eq!(t.values, vec![8, -4]);
        let obj = serde_json::json!({"shape": [1, 2], "data": [1.0, 0.0]});
        assert_eq!(parse_input(&obj, &[1, 2], 4).unwrap().values, vec![16, 0]);
        let wrong = serde_json::json!({"shape": [2, 1], "data": [1.0, 0.0]});
        let e = parse_input(&wrong, &[1, 2], 4).unwrap_err().to_string();
        assert!(e.contains("[2, 1]") && e.contains("[1, 2]"), "{e}");
        let short = serde_json::json!([1.0]);
        assert!(parse_input(&short, &[1, 2], 4).is_err());
        let text = serde_json::json!([1.0, "x"]);
        let e = parse_input(&text, &[1, 2], 4).unwrap_err().to_string();
        assert!(e.contains("data[1]"), "{e}");
        let extra = serde_json::json!({"shape": [1, 2], "data": [1.0, 0.0], "x": 1});
        assert!(parse_input(&extra, &[1, 2], 4).is_err());
    }
}
