//! One error type for the crate, so callers (CLI, miner, validator) can show
//! a precise message for every way a keyfile or password can be wrong.

use std::path::PathBuf;

/// Everything that can go wrong while handling wallets and keyfiles.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("keyfile {path} does not exist")]
    NotFound { path: PathBuf },
    #[error("keyfile {path} already exists (pass overwrite to replace it)")]
    AlreadyExists { path: PathBuf },
    #[error("wrong password for {path} (decryption failed; the file was not changed)")]
    WrongPassword { path: PathBuf },
    #[error("keyfile is malformed: {0}")]
    Malformed(String),
    #[error("keyfile uses an unsupported encryption ({0}); re-encrypt it with btcli first")]
    UnsupportedEncryption(&'static str),
    #[error("invalid mnemonic: {0}")]
    InvalidMnemonic(String),
    #[error("invalid key material: {0}")]
    InvalidKey(String),
    #[error("invalid SS58 address '{address}': {reason}")]
    InvalidAddress { address: String, reason: String },
    #[error("key derivation failed: {0}")]
    Kdf(String),
    #[error("could not read the password: {0}")]
    Password(String),
    #[error("invalid wallet or hotkey name '{0}': use letters, digits, '-', '_' or '.'")]
    InvalidName(String),
}

impl WalletError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        WalletError::Io {
            path: path.into(),
            source,
        }
    }
}
