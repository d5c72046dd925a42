//! Wallet directories on disk: paths, atomic 0600 writes, create/regenerate
//! and loading. Writes go to a temporary file in the same directory and are
//! renamed into place, so a crash or a failed step never leaves a half-written
//! or corrupted keyfile (and reading never writes at all).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::keyfile::{decode_keyfile, encode_keyfile, KeyfileData};
use crate::{Keypair, PasswordSource, WalletError};

/// Environment variable that overrides the wallets directory.
pub const WALLET_PATH_ENV: &str = "BT_WALLET_PATH";

/// `$BT_WALLET_PATH`, else `~/.bittensor/wallets`.
pub fn default_wallet_path() -> PathBuf {
    if let Some(p) = std::env::var_os(WALLET_PATH_ENV).filter(|p| !p.is_empty()) {
        return expand_tilde(Path::new(&p));
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".bittensor").join("wallets")
}

/// btcli accepts `~/...` in `--wallet.path`; so do we.
pub fn expand_tilde(path: &Path) -> PathBuf {
    match path.strip_prefix("~") {
        Ok(rest) => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(rest),
        Err(_) => path.to_path_buf(),
    }
}

fn check_name(name: &str) -> Result<(), WalletError> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(WalletError::InvalidName(name.to_string()))
    }
}

/// Writes `contents` to `path` with mode 0600 via temp file + rename, creating
/// parent directories (mode 0700) as needed.
pub fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), WalletError> {
    let dir = path
        .parent()
        .ok_or_else(|| WalletError::io(path, std::io::ErrorKind::InvalidInput.into()))?;
    // New wallet directories are private like the keys in them.
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| WalletError::io(dir, e))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        // `mode` only applies on creation; make sure a stale temp is private too.
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600))?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(WalletError::io(path, e));
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<Vec<u8>, WalletError> {
    fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => WalletError::NotFound {
            path: path.to_path_buf(),
        },
        _ => WalletError::io(path, e),
    })
}

/// Reads and (if needed) decrypts one keyfile.
pub fn read_keyfile(path: &Path, password: &PasswordSource) -> Result<KeyfileData, WalletError> {
    let bytes = read_file(path)?;
    let prompt = format!("Password for {}: ", path.display());
    decode_keyfile(&bytes, || password.get(&prompt))?.ok_or_else(|| WalletError::WrongPassword {
        path: path.to_path_buf(),
    })
}

/// A named wallet (coldkey) with a selected hotkey, rooted at a wallets dir.
#[derive(Debug, Clone)]
pub struct Wallet {
    pub path: PathBuf,
    pub name: String,
    pub hotkey: String,
}

impl Wallet {
    /// `path: None` means [`default_wallet_path`].
    pub fn new(path: Option<&Path>, name: &str, hotkey: &str) -> Result<Self, WalletError> {
        check_name(name)?;
        check_name(hotkey)?;
        Ok(Wallet {
            path: path.map(expand_tilde).unwrap_or_else(default_wallet_path),
            name: name.to_string(),
            hotkey: hotkey.to_string(),
        })
    }

    pub fn dir(&self) -> PathBuf {
        self.path.join(&self.name)
    }
    pub fn coldkey_path(&self) -> PathBuf {
        self.dir().join("coldkey")
    }
    pub fn coldkeypub_path(&self) -> PathBuf {
        self.dir().join("coldkeypub.txt")
    }
    pub fn hotkey_path(&self) -> PathBuf {
        self.dir().join("hotkeys").join(&self.hotkey)
    }
    pub fn hotkeypub_path(&self) -> PathBuf {
        self.dir()
            .join("hotkeys")
            .join(format!("{}pub.txt", self.hotkey))
    }

    fn refuse_overwrite(path: &Path, overwrite: bool) -> Result<(), WalletError> {
        if !overwrite && path.exists() {
            return Err(WalletError::AlreadyExists {
                path: path.to_path_buf(),
            });
        }
        Ok(())
    }

    /// Stores a coldkey: the secret file (encrypted when `password` is given)
    /// and `coldkeypub.txt`.
    pub fn set_coldkey(
        &self,
        keypair: &Keypair,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<(), WalletError> {
        Self::refuse_overwrite(&self.coldkey_path(), overwrite)?;
        let secret = encode_keyfile(&KeyfileData::from_keypair(keypair), password)?;
        let public = encode_keyfile(&KeyfileData::public_only(keypair), None)?;
        write_private_file(&self.coldkey_path(), &secret)?;
        write_private_file(&self.coldkeypub_path(), &public)?;
        tracing::info!(wallet = %self.name, ss58 = %keypair.ss58_address(), "coldkey written");
        Ok(())
    }

    /// Stores the selected hotkey (plaintext unless `password` is given, as
    /// btcli does) and its `<hotkey>pub.txt`.
    pub fn set_hotkey(
        &self,
        keypair: &Keypair,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<(), WalletError> {
        Self::refuse_overwrite(&self.hotkey_path(), overwrite)?;
        let secret = encode_keyfile(&KeyfileData::from_keypair(keypair), password)?;
        let public = encode_keyfile(&KeyfileData::public_only(keypair), None)?;
        write_private_file(&self.hotkey_path(), &secret)?;
        write_private_file(&self.hotkeypub_path(), &public)?;
        tracing::info!(wallet = %self.name, hotkey = %self.hotkey, ss58 = %keypair.ss58_address(), "hotkey written");
        Ok(())
    }

    /// Loads (decrypting if needed) the coldkey.
    pub fn coldkey(&self, password: &PasswordSource) -> Result<Keypair, WalletError> {
        read_keyfile(&self.coldkey_path(), password)?.keypair()
    }

    /// Loads the selected hotkey.
    pub fn hotkey_pair(&self, password: &PasswordSource) -> Result<Keypair, WalletError> {
        read_keyfile(&self.hotkey_path(), password)?.keypair()
    }

    /// The coldkey's SS58 address from `coldkeypub.txt`; needs no password.
    pub fn coldkeypub(&self) -> Result<String, WalletError> {
        read_keyfile(&self.coldkeypub_path(), &PasswordSource::Prompt)?.ss58()
    }

    /// The hotkey's SS58 address: from `<hotkey>pub.txt` when present, else
    /// from the (normally plaintext) hotkey file itself.
    pub fn hotkeypub(&self, password: &PasswordSource) -> Result<String, WalletError> {
        match read_keyfile(&self.hotkeypub_path(), &PasswordSource::Prompt) {
            Ok(data) => data.ss58(),
            Err(WalletError::NotFound { .. }) => {
                read_keyfile(&self.hotkey_path(), password)?.ss58()
            }
            Err(e) => Err(e),
        }
    }

    /// Names of the hotkeys stored in this wallet (excluding `*pub.txt`).
    pub fn hotkey_names(&self) -> Result<Vec<String>, WalletError> {
        let dir = self.dir().join("hotkeys");
        let mut names = match fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.ends_with("pub.txt") && !n.starts_with('.'))
                .collect::<Vec<_>>(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(WalletError::io(dir, e)),
        };
        names.sort();
        Ok(names)
    }
}

/// Names of the wallets under `path` (directories holding a coldkey or
/// coldkeypub.txt).
pub fn list_wallets(path: &Path) -> Result<Vec<String>, WalletError> {
    let entries = match fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(WalletError::io(path, e)),
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let p = e.path();
            p.join("coldkey").is_file() || p.join("coldkeypub.txt").is_file()
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_path_traversal_names() {
        for bad in ["", "..", "a/b", "../x", "white space"] {
            assert!(
                Wallet::new(Some(Path::new("/tmp")), bad, "default").is_err(),
                "{bad}"
            );
            assert!(
                Wallet::new(Some(Path::new("/tmp")), "default", bad).is_err(),
                "{bad}"
            );
        }
        assert!(Wallet::new(Some(Path::new("/tmp")), "my-wallet_1.x", "hot").is_ok());
    }

    #[test]
    fn layout_matches_bittensor() {
        let w = Wallet::new(Some(Path::new("/w")), "alice", "h1").unwrap();
        assert_eq!(w.coldkey_path(), Path::new("/w/alice/coldkey"));
        assert_eq!(w.coldkeypub_path(), Path::new("/w/alice/coldkeypub.txt"));
        assert_eq!(w.hotkey_path(), Path::new("/w/alice/hotkeys/h1"));
        assert_eq!(w.hotkeypub_path(), Path::new("/w/alice/hotkeys/h1pub.txt"));
    }
}
