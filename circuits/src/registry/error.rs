//! Errors of the model registry.
//!
//! Every variant that concerns a file carries its path, because the operator
//! who sees "hash mismatch" needs to know *which* artifact was tampered with
//! or corrupted, without rerunning anything.

use std::path::PathBuf;

/// Why a registry could not be loaded, read or extended.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// An I/O operation on a registry file failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done ("read", "write", "rename", ...).
        op: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The manifest file is larger than [`super::MAX_MANIFEST_BYTES`].
    #[error("manifest {} is {size} bytes, limit is {limit}", path.display())]
    ManifestTooLarge {
        /// The manifest path.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The manifest is not valid TOML, or does not match the schema
    /// (missing or unknown fields, wrong types).
    #[error("manifest {}: {message}", path.display())]
    ManifestParse {
        /// The manifest path.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The manifest's `version` is not one this code understands.
    #[error("manifest {}: unsupported version {found} (supported: {supported})", path.display())]
    UnsupportedVersion {
        /// The manifest path.
        path: PathBuf,
        /// The version found.
        found: u32,
        /// The version supported.
        supported: u32,
    },
    /// A model entry has a field outside its allowed range or form.
    #[error("model '{model}': invalid {field}: {reason}")]
    InvalidField {
        /// The model's name (or its index, when the name itself is invalid).
        model: String,
        /// The field concerned.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Two entries share an id, a name or a file.
    #[error("duplicate model {what} '{value}'")]
    Duplicate {
        /// "id", "name" or "file".
        what: &'static str,
        /// The duplicated value.
        value: String,
    },
    /// The manifest lists an artifact that does not exist.
    #[error("model '{model}': artifact {} is missing", file.display())]
    MissingArtifact {
        /// The model's name.
        model: String,
        /// The missing file.
        file: PathBuf,
    },
    /// An artifact exceeds [`super::MAX_ARTIFACT_BYTES`].
    #[error("artifact {} is {size} bytes, limit is {limit}", file.display())]
    ArtifactTooLarge {
        /// The file.
        file: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// An artifact's blake3 hash is not the id the manifest gives it.
    #[error("artifact {} does not match its id: expected blake3 {expected}, found {actual}", file.display())]
    HashMismatch {
        /// The file whose bytes do not match.
        file: PathBuf,
        /// The id from the manifest.
        expected: String,
        /// The hash of the bytes on disk.
        actual: String,
    },
    /// No model has this id or name.
    #[error("no model with id or name '{0}'")]
    NotFound(String),
    /// `add` was asked to register a model whose id, name or file is taken.
    #[error("cannot add model: {0}")]
    Conflict(String),
}

/// Result alias for registry operations.
pub type Result<T> = std::result::Result<T, RegistryError>;
