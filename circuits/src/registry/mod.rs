//! The model registry: which ONNX models the subnet proves, pinned by hash.
//!
//! A registry is a directory with a TOML manifest, `registry.toml`, and the
//! ONNX files it lists. A model's id is the blake3 hash of its ONNX bytes, so
//! miners and validators agree on a model by id alone, and every artifact is
//! re-hashed whenever it is loaded or read: a corrupted or swapped file is
//! refused with its path named, never silently proved against.
//!
//! ```toml
//! version = 1
//!
//! [[models]]
//! id = "91d0876a…"              # blake3 of the ONNX bytes, 64 hex digits
//! name = "digits_mlp"
//! file = "models/digits_mlp.onnx"
//! input_shape = [1, 64]
//! quant_scale_bits = 12         # fixed-point scale 2^12
//! slices = []                   # cut-point tensor names
//! timeout_ms = 10000
//! challenge_weight = 10
//!
//! [models.provenance]
//! source = "scripts/train_digits.py"
//! licence = "MIT OR Apache-2.0"
//! notes = "test accuracy 0.9778"
//! ```
//!
//! Writers ([`Registry::add`]) replace the manifest atomically (temp file,
//! fsync, rename) and append to its text, so existing entries and comments are
//! never lost. Concurrent writers to one registry are not coordinated: the
//! last rename wins.

mod error;
mod manifest;

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub use error::{RegistryError, Result};
pub use manifest::{
    ModelEntry, ModelId, Provenance, MANIFEST_VERSION, MAX_CHALLENGE_WEIGHT, MAX_DIM,
    MAX_INPUT_ELEMENTS, MAX_MODELS, MAX_NAME_LEN, MAX_RANK, MAX_SLICES, MAX_TEXT_LEN,
    QUANT_SCALE_BITS, TIMEOUT_MS,
};

use manifest::{check_name, parse_manifest, RawModel, RawModelsBlock};

/// File name of the manifest inside a registry directory.
pub const MANIFEST_FILE: &str = "registry.toml";
/// Directory, relative to the registry, that [`Registry::add`] copies models into.
pub const MODELS_DIR: &str = "models";
/// Largest manifest accepted (1 MiB).
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// Largest ONNX artifact accepted (256 MiB).
pub const MAX_ARTIFACT_BYTES: u64 = 256 << 20;

/// A loaded registry whose every artifact matched its id at load time.
#[derive(Clone, Debug)]
pub struct Registry {
    dir: PathBuf,
    models: Vec<ModelEntry>,
}

/// Everything about a new model except its bytes and name (see [`Registry::add`]).
#[derive(Clone, Debug)]
pub struct AddOptions {
    /// Static input shape, batch included.
    pub input_shape: Vec<u64>,
    /// Fixed-point scale bits.
    pub quant_scale_bits: u8,
    /// Slice plan (cut-point tensor names).
    pub slices: Vec<String>,
    /// Proof timeout in milliseconds.
    pub timeout_ms: u64,
    /// Challenge weight.
    pub challenge_weight: u32,
    /// Origin and licence.
    pub provenance: Provenance,
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError {
    let path = path.to_path_buf();
    move |source| RegistryError::Io { op, path, source }
}

/// Read a file of at most `limit` bytes without trusting its reported size:
/// a file that grows while we read it still cannot make us allocate more.
fn read_limited(path: &Path, limit: u64) -> std::result::Result<Vec<u8>, ReadFail> {
    // Checked before opening too: opening a FIFO or device named by a
    // hostile manifest could block forever.
    let not_file = || {
        ReadFail::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ))
    };
    if !fs::metadata(path).map_err(ReadFail::Io)?.is_file() {
        return Err(not_file());
    }
    let file = File::open(path).map_err(ReadFail::Io)?;
    let meta = file.metadata().map_err(ReadFail::Io)?;
    if !meta.is_file() {
        return Err(not_file());
    }
    let size = meta.len();
    if size > limit {
        return Err(ReadFail::TooLarge(size));
    }
    let mut buf = Vec::with_capacity(size as usize);
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(ReadFail::Io)?;
    if buf.len() as u64 > limit {
        return Err(ReadFail::TooLarge(buf.len() as u64));
    }
    Ok(buf)
}

enum ReadFail {
    Io(std::io::Error),
    TooLarge(u64),
}

/// Write `bytes` to `dest` atomically: a reader sees the old file or the new
/// one, never a torn one, even if we crash mid-write.
fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    let file_name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = parent.join(format!(".{file_name}.tmp-{}-{nanos}", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io_err("create", &tmp))?;
        f.write_all(bytes).map_err(io_err("write", &tmp))?;
        f.sync_all().map_err(io_err("sync", &tmp))?;
        fs::rename(&tmp, dest).map_err(io_err("rename", dest))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    } else if let Ok(d) = File::open(parent) {
        // Persist the rename itself; not all platforms allow syncing a
        // directory, and the data is already safe, so failure is ignored.
        let _ = d.sync_all();
    }
    result
}

impl Registry {
    /// Load `dir/registry.toml` and verify every artifact's hash.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        Self::load_with_text(dir.as_ref()).map(|(reg, _)| reg)
    }

    /// [`Registry::load`], also returning the manifest text it parsed, so
    /// that `add` appends to exactly the text it verified.
    fn load_with_text(dir: &Path) -> Result<(Self, String)> {
        let (text, models) = Self::read_manifest(dir)?;
        let reg = Self {
            dir: dir.to_path_buf(),
            models,
        };
        for m in &reg.models {
            reg.read_onnx(m)?;
        }
        Ok((reg, text))
    }

    /// The registry directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// All models, in manifest order.
    pub fn models(&self) -> &[ModelEntry] {
        &self.models
    }

    /// Look a model up by its hex id or by its name.
    pub fn get(&self, id_or_name: &str) -> Result<&ModelEntry> {
        let found = match id_or_name.parse::<ModelId>() {
            Ok(id) => self.models.iter().find(|m| m.id == id),
            Err(_) => self.models.iter().find(|m| m.name == id_or_name),
        };
        found.ok_or_else(|| RegistryError::NotFound(id_or_name.to_string()))
    }

    /// Read a model's ONNX bytes, re-checking them against its id: the file
    /// may have changed since the registry was loaded.
    pub fn read_onnx(&self, entry: &ModelEntry) -> Result<Vec<u8>> {
        let path = self.dir.join(&entry.file);
        self.check_inside(entry, &path)?;
        let bytes = match read_limited(&path, MAX_ARTIFACT_BYTES) {
            Ok(b) => b,
            Err(ReadFail::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RegistryError::MissingArtifact {
                    model: entry.name.clone(),
                    file: path,
                })
            }
            Err(ReadFail::Io(e)) => return Err(io_err("read", &path)(e)),
            Err(ReadFail::TooLarge(size)) => {
                return Err(RegistryError::ArtifactTooLarge {
                    file: path,
                    size,
                    limit: MAX_ARTIFACT_BYTES,
                })
            }
        };
        let actual = ModelId::of_bytes(&bytes);
        if actual != entry.id {
            return Err(RegistryError::HashMismatch {
                file: path,
                expected: entry.id.to_hex(),
                actual: actual.to_hex(),
            });
        }
        Ok(bytes)
    }

    /// Copy `onnx_path` into `dir/models/<name>.onnx` and append an entry for
    /// it to the manifest, creating the registry if it does not exist yet.
    ///
    /// The existing registry is fully verified first, the new manifest is
    /// re-parsed and checked to contain every old entry plus the new one,
    /// and only then atomically swapped in.
    pub fn add(
        dir: impl AsRef<Path>,
        onnx_path: impl AsRef<Path>,
        name: &str,
        opts: AddOptions,
    ) -> Result<ModelEntry> {
        let dir = dir.as_ref();
        let onnx_path = onnx_path.as_ref();
        let manifest_path = dir.join(MANIFEST_FILE);

        let (old_text, old_models) = if manifest_path.exists() {
            let (reg, text) = Self::load_with_text(dir)?;
            (text, reg.models)
        } else {
            (format!("version = {MANIFEST_VERSION}\n"), Vec::new())
        };

        if let Err(reason) = check_name(name) {
            return Err(RegistryError::InvalidField {
                model: name.to_string(),
                field: "name",
                reason,
            });
        }
        let bytes = match read_limited(onnx_path, MAX_ARTIFACT_BYTES) {
            Ok(b) => b,
            Err(ReadFail::Io(e)) => return Err(io_err("read", onnx_path)(e)),
            Err(ReadFail::TooLarge(size)) => {
                return Err(RegistryError::ArtifactTooLarge {
                    file: onnx_path.to_path_buf(),
                    size,
                    limit: MAX_ARTIFACT_BYTES,
                })
            }
        };
        let raw = RawModel {
            id: ModelId::of_bytes(&bytes).to_hex(),
            name: name.to_string(),
            file: format!("{MODELS_DIR}/{name}.onnx"),
            input_shape: opts.input_shape,
            quant_scale_bits: u64::from(opts.quant_scale_bits),
            slices: opts.slices,
            timeout_ms: opts.timeout_ms,
            challenge_weight: u64::from(opts.challenge_weight),
            provenance: opts.provenance,
        };
        let entry = raw.validate(old_models.len())?;
        if let Some(m) = old_models.iter().find(|m| m.id == entry.id) {
            return Err(RegistryError::Conflict(format!(
                "{} has id {}, already registered as '{}'",
                onnx_path.display(),
                entry.id,
                m.name
            )));
        }
        if old_models
            .iter()
            .any(|m| m.name == entry.name || m.file == entry.file)
        {
            return Err(RegistryError::Conflict(format!(
                "name '{name}' or file {} is already registered",
                entry.file.display()
            )));
        }

        let block = toml::to_string(&RawModelsBlock { models: [&raw] })
            .map_err(|e| RegistryError::Conflict(format!("cannot serialise entry: {e}")))?;
        let mut new_text = old_text;
        if !new_text.ends_with('\n') {
            new_text.push('\n');
        }
        new_text.push('\n');
        new_text.push_str(&block);
        if new_text.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(RegistryError::ManifestTooLarge {
                path: manifest_path,
                size: new_text.len() as u64,
                limit: MAX_MANIFEST_BYTES,
            });
        }
        // Appending text is only safe if the result means "old entries, then
        // the new one"; a manifest written in an unusual TOML style might
        // not, so check instead of assuming.
        let reparsed = parse_manifest(&new_text, &manifest_path)?;
        let mut expected = old_models;
        expected.push(entry.clone());
        if reparsed != expected {
            return Err(RegistryError::Conflict(format!(
                "appending to {} would not preserve its entries; edit it by hand",
                manifest_path.display()
            )));
        }

        let dest = dir.join(&entry.file);
        let models_dir = dir.join(MODELS_DIR);
        fs::create_dir_all(&models_dir).map_err(io_err("create directory", &models_dir))?;
        let copied = match fs::symlink_metadata(&dest) {
            Ok(_) => {
                // An orphan from an earlier, interrupted add is reusable only
                // if it is byte-for-byte the model being added.
                let same = read_limited(&dest, MAX_ARTIFACT_BYTES)
                    .ok()
                    .is_some_and(|b| ModelId::of_bytes(&b) == entry.id);
                if !same {
                    return Err(RegistryError::Conflict(format!(
                        "{} exists with different content",
                        dest.display()
                    )));
                }
                false
            }
            Err(_) => {
                write_atomic(&dest, &bytes)?;
                true
            }
        };
        if let Err(e) = write_atomic(&manifest_path, new_text.as_bytes()) {
            if copied {
                let _ = fs::remove_file(&dest);
            }
            return Err(e);
        }
        Ok(entry)
    }

    /// Read and validate the manifest text, without touching artifacts.
    fn read_manifest(dir: &Path) -> Result<(String, Vec<ModelEntry>)> {
        let path = dir.join(MANIFEST_FILE);
        let bytes = match read_limited(&path, MAX_MANIFEST_BYTES) {
            Ok(b) => b,
            Err(ReadFail::Io(e)) => return Err(io_err("read", &path)(e)),
            Err(ReadFail::TooLarge(size)) => {
                return Err(RegistryError::ManifestTooLarge {
                    path,
                    size,
                    limit: MAX_MANIFEST_BYTES,
                })
            }
        };
        let text = String::from_utf8(bytes).map_err(|e| RegistryError::ManifestParse {
            path: path.clone(),
            message: format!("not UTF-8: {e}"),
        })?;
        let models = parse_manifest(&text, &path)?;
        Ok((text, models))
    }

    /// Manifest paths are checked to be relative and `..`-free, but a
    /// symlink inside the registry could still point elsewhere.
    fn check_inside(&self, entry: &ModelEntry, path: &Path) -> Result<()> {
        let (Ok(root), Ok(real)) = (self.dir.canonicalize(), path.canonicalize()) else {
            // Missing files are reported by the read that follows.
            return Ok(());
        };
        if !real.starts_with(&root) {
            return Err(RegistryError::InvalidField {
                model: entry.name.clone(),
                field: "file",
                reason: format!("{} resolves outside the registry directory", path.display()),
            });
        }
        Ok(())
    }
}
