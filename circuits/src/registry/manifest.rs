//! The manifest schema (`registry.toml`) and its validation.
//!
//! Parsing is split in two on purpose: serde maps the TOML onto `Raw*`
//! structs that reject unknown fields and wrong types, then `validate` turns
//! them into typed [`ModelEntry`] values and enforces every range. The manifest
//! is external input (a validator may be pointed at any directory), so nothing
//! here may panic, and absurd values are refused before anything is sized
//! from them.

use std::collections::HashSet;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::{RegistryError, Result};

/// The manifest version this code reads and writes.
pub const MANIFEST_VERSION: u32 = 1;
/// Upper bound on the number of models in one manifest.
pub const MAX_MODELS: usize = 1024;
/// Upper bound on a tensor rank in `input_shape`.
pub const MAX_RANK: usize = 8;
/// Upper bound on one dimension of `input_shape`.
pub const MAX_DIM: u64 = 1 << 16;
/// Upper bound on the element count of the input tensor (16 Mi elements).
pub const MAX_INPUT_ELEMENTS: u64 = 1 << 24;
/// Fixed-point scale bits allowed. Products of two scaled values must stay
/// far below the 64-bit Goldilocks modulus with room for accumulation.
pub const QUANT_SCALE_BITS: std::ops::RangeInclusive<u8> = 1..=24;
/// Upper bound on the number of slice cut points.
pub const MAX_SLICES: usize = 256;
/// Proof timeout range, in milliseconds (up to one hour).
pub const TIMEOUT_MS: std::ops::RangeInclusive<u64> = 1..=3_600_000;
/// Upper bound on a challenge weight; 0 means "never challenged".
pub const MAX_CHALLENGE_WEIGHT: u32 = 10_000;
/// Upper bound on names, file paths and tensor names, in bytes.
pub const MAX_NAME_LEN: usize = 128;
/// Upper bound on free-text provenance fields, in bytes.
pub const MAX_TEXT_LEN: usize = 4096;

/// A model id: the blake3 hash of the ONNX file's bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelId(pub [u8; 32]);

impl ModelId {
    /// The id of an ONNX file with these bytes.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }

    /// Lower-case hex, as written in the manifest.
    pub fn to_hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ModelId({})", self.to_hex())
    }
}

impl FromStr for ModelId {
    type Err = String;

    /// Only the canonical form (64 lower-case hex digits) is accepted, so
    /// one id has exactly one spelling in manifests and look-ups.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.len() != 64
            || !s
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err("expected 64 lower-case hex digits".into());
        }
        blake3::Hash::from_hex(s)
            .map(|h| Self(*h.as_bytes()))
            .map_err(|e| e.to_string())
    }
}

/// Where a model came from and under which licence it may be used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// Origin, e.g. `scripts/train_digits.py` or a PyPI package and path.
    pub source: String,
    /// SPDX licence identifier or licence name.
    pub licence: String,
    /// Free text: hashes of upstream artifacts, accuracy, caveats.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

/// One validated registry entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelEntry {
    /// Blake3 of the ONNX bytes.
    pub id: ModelId,
    /// Unique human-readable name.
    pub name: String,
    /// The ONNX file, relative to the registry directory.
    pub file: PathBuf,
    /// Static input shape (NCHW for images), batch included.
    pub input_shape: Vec<u64>,
    /// Fixed-point scale is `2^quant_scale_bits`.
    pub quant_scale_bits: u8,
    /// Slice plan: tensor names at which the graph is cut into separately
    /// proved slices, in graph order. Empty means one slice.
    pub slices: Vec<String>,
    /// How long a miner has to return a proof.
    pub timeout_ms: u64,
    /// Relative frequency with which validators challenge this model.
    pub challenge_weight: u32,
    /// Origin and licence.
    pub provenance: Provenance,
}

impl ModelEntry {
    /// Number of elements of the input tensor.
    pub fn input_len(&self) -> u64 {
        // validated: the product is at most MAX_INPUT_ELEMENTS
        self.input_shape.iter().product()
    }

    /// The proof timeout.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.timeout_ms)
    }
}

/// The manifest as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawManifest {
    pub version: u32,
    #[serde(default)]
    pub models: Vec<RawModel>,
}

/// One `[[models]]` table as written. Integers are read as `u64` so an
/// out-of-range value gets our range message rather than a serde overflow.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModel {
    pub id: String,
    pub name: String,
    pub file: String,
    pub input_shape: Vec<u64>,
    pub quant_scale_bits: u64,
    #[serde(default)]
    pub slices: Vec<String>,
    pub timeout_ms: u64,
    pub challenge_weight: u64,
    pub provenance: Provenance,
}

/// Wrapper used to serialise one entry as a `[[models]]` block.
#[derive(Serialize)]
pub(crate) struct RawModelsBlock<'a> {
    pub models: [&'a RawModel; 1],
}

fn invalid(model: &str, field: &'static str, reason: impl Into<String>) -> RegistryError {
    RegistryError::InvalidField {
        model: model.to_string(),
        field,
        reason: reason.into(),
    }
}

/// Names are identifiers used on the command line and in file names.
pub(crate) fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(format!("length must be 1..={MAX_NAME_LEN}"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    {
        return Err("only ASCII letters, digits, '_', '-' and '.' are allowed".into());
    }
    if name.starts_with('.') {
        return Err("must not start with '.'".into());
    }
    // `Registry::get` accepts an id or a name; a name spelled like an id
    // would make that ambiguous.
    if name.parse::<ModelId>().is_ok() {
        return Err("must not look like a model id".into());
    }
    Ok(())
}

/// Artifact paths must stay inside the registry directory.
fn check_file(file: &str) -> std::result::Result<PathBuf, String> {
    if file.is_empty() || file.len() > MAX_NAME_LEN {
        return Err(format!("length must be 1..={MAX_NAME_LEN}"));
    }
    if file.contains('\\') || file.contains('\0') {
        return Err("use '/' separators and no NUL".into());
    }
    let path = PathBuf::from(file);
    if !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err("must be a relative path without '.', '..' or a root".into());
    }
    if path.extension().and_then(|e| e.to_str()) != Some("onnx") {
        return Err("must end in .onnx".into());
    }
    Ok(path)
}

fn check_text(model: &str, field: &'static str, s: &str, allow_empty: bool) -> Result<()> {
    if (!allow_empty && s.trim().is_empty()) || s.len() > MAX_TEXT_LEN {
        return Err(invalid(
            model,
            field,
            format!(
                "must be {}at most {MAX_TEXT_LEN} bytes",
                if allow_empty { "" } else { "non-empty and " }
            ),
        ));
    }
    Ok(())
}

impl RawModel {
    /// Turn one raw entry into a typed one, checking every field's range.
    /// `index` names the entry in errors when its name is itself invalid.
    pub(crate) fn validate(&self, index: usize) -> Result<ModelEntry> {
        if let Err(reason) = check_name(&self.name) {
            return Err(invalid(&format!("#{index}"), "name", reason));
        }
        let m = self.name.as_str();
        let id: ModelId = self.id.parse().map_err(|r: String| invalid(m, "id", r))?;
        let file = check_file(&self.file).map_err(|r| invalid(m, "file", r))?;

        if self.input_shape.is_empty() || self.input_shape.len() > MAX_RANK {
            return Err(invalid(
                m,
                "input_shape",
                format!("rank must be 1..={MAX_RANK}"),
            ));
        }
        let mut elements: u64 = 1;
        for &d in &self.input_shape {
            if d == 0 || d > MAX_DIM {
                return Err(invalid(
                    m,
                    "input_shape",
                    format!("dimension {d} not in 1..={MAX_DIM}"),
                ));
            }
            elements = elements.saturating_mul(d);
        }
        if elements > MAX_INPUT_ELEMENTS {
            return Err(invalid(
                m,
                "input_shape",
                format!("{elements} elements exceed {MAX_INPUT_ELEMENTS}"),
            ));
        }

        let quant_scale_bits = u8::try_from(self.quant_scale_bits)
            .ok()
            .filter(|b| QUANT_SCALE_BITS.contains(b))
            .ok_or_else(|| {
                invalid(
                    m,
                    "quant_scale_bits",
                    format!(
                        "{} not in {}..={}",
                        self.quant_scale_bits,
                        QUANT_SCALE_BITS.start(),
                        QUANT_SCALE_BITS.end()
                    ),
                )
            })?;

        if self.slices.len() > MAX_SLICES {
            return Err(invalid(
                m,
                "slices",
                format!("more than {MAX_SLICES} cut points"),
            ));
        }
        let mut seen = HashSet::new();
        for s in &self.slices {
            if s.is_empty() || s.len() > MAX_NAME_LEN || s.chars().any(char::is_control) {
                return Err(invalid(
                    m,
                    "slices",
                    format!(
                        "tensor name {s:?} must be 1..={MAX_NAME_LEN} bytes, no control characters"
                    ),
                ));
            }
            if !seen.insert(s.as_str()) {
                return Err(invalid(
                    m,
                    "slices",
                    format!("cut point {s:?} listed twice"),
                ));
            }
        }

        if !TIMEOUT_MS.contains(&self.timeout_ms) {
            return Err(invalid(
                m,
                "timeout_ms",
                format!(
                    "{} not in {}..={}",
                    self.timeout_ms,
                    TIMEOUT_MS.start(),
                    TIMEOUT_MS.end()
                ),
            ));
        }
        let challenge_weight = u32::try_from(self.challenge_weight)
            .ok()
            .filter(|w| *w <= MAX_CHALLENGE_WEIGHT)
            .ok_or_else(|| {
                invalid(
                    m,
                    "challenge_weight",
                    format!(
                        "{} not in 0..={MAX_CHALLENGE_WEIGHT}",
                        self.challenge_weight
                    ),
                )
            })?;

        check_text(m, "provenance.source", &self.provenance.source, false)?;
        check_text(m, "provenance.licence", &self.provenance.licence, false)?;
        check_text(m, "provenance.notes", &self.provenance.notes, true)?;

        Ok(ModelEntry {
            id,
            name: self.name.clone(),
            file,
            input_shape: self.input_shape.clone(),
            quant_scale_bits,
            slices: self.slices.clone(),
            timeout_ms: self.timeout_ms,
            challenge_weight,
            provenance: self.provenance.clone(),
        })
    }
}

/// Parse and validate manifest text; `path` is only used in messages.
/// Artifacts are not touched here: see `Registry::load`.
pub(crate) fn parse_manifest(text: &str, path: &Path) -> Result<Vec<ModelEntry>> {
    let raw: RawManifest = toml::from_str(text).map_err(|e| RegistryError::ManifestParse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if raw.version != MANIFEST_VERSION {
        return Err(RegistryError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: raw.version,
            supported: MANIFEST_VERSION,
        });
    }
    if raw.models.len() > MAX_MODELS {
        return Err(RegistryError::ManifestParse {
            path: path.to_path_buf(),
            message: format!(
                "{} models exceed the limit of {MAX_MODELS}",
                raw.models.len()
            ),
        });
    }
    let mut entries = Vec::with_capacity(raw.models.len());
    let (mut ids, mut names, mut files) = (HashSet::new(), HashSet::new(), HashSet::new());
    for (i, rm) in raw.models.iter().enumerate() {
        let e = rm.validate(i)?;
        if !ids.insert(e.id) {
            return Err(RegistryError::Duplicate {
                what: "id",
                value: e.id.to_hex(),
            });
        }
        if !names.insert(e.name.clone()) {
            return Err(RegistryError::Duplicate {
                what: "name",
                value: e.name,
            });
        }
        if !files.insert(e.file.clone()) {
            return Err(RegistryError::Duplicate {
                what: "file",
                value: e.file.display().to_string(),
            });
        }
        entries.push(e);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_id_hex_round_trip_and_canonical_form() {
        let id = ModelId::of_bytes(b"abc");
        assert_eq!(id.to_hex().parse::<ModelId>().unwrap(), id);
        assert!(id.to_hex().to_uppercase().parse::<ModelId>().is_err());
        assert!("00".parse::<ModelId>().is_err());
    }

    #[test]
    fn file_paths_cannot_escape() {
        for bad in [
            "../x.onnx",
            "/etc/x.onnx",
            "models/../../x.onnx",
            "./x.onnx",
            "x.txt",
            "a\\b.onnx",
            "",
        ] {
            assert!(check_file(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(
            check_file("models/a.onnx").unwrap(),
            PathBuf::from("models/a.onnx")
        );
    }

    #[test]
    fn names_are_identifiers() {
        assert!(check_name("digits_mlp-v1.2").is_ok());
        for bad in ["", ".hidden", "a b", "a/b", &"x".repeat(MAX_NAME_LEN + 1)] {
            assert!(check_name(bad).is_err(), "{bad} accepted");
        }
        assert!(check_name(&ModelId::of_bytes(b"x").to_hex()).is_err());
    }
}
