//! Compatibility with keyfiles written by the real `bittensor-wallet` package
//! (fixture generated with bittensor-wallet 4.1.1, see fixtures/btwallet), and
//! round trips of our own files.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use wallet::keyfile::KeyfileData;
use wallet::{Keypair, PasswordSource, Wallet, WalletError};

const COLD_PASSWORD: &str = "correct horse battery";
const COLD_MNEMONIC: &str = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
const COLD_SS58: &str = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV";
const HOT_MNEMONIC: &str =
    "legal winner thank year wave sausage worth useful legal winner thank yellow";
const HOT_SS58: &str = "5EHgWw2Af1pnoc7f1A8bfmM97W3DAYW8xr82RfhLL9oAabAe";

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/btwallet")
}

/// A private copy of the fixture, so tests that write never touch the repo.
fn fixture_copy() -> (tempfile::TempDir, Wallet) {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture_root().join("fixture");
    let dst = dir.path().join("fixture");
    fs::create_dir_all(dst.join("hotkeys")).unwrap();
    for f in [
        "coldkey",
        "coldkeypub.txt",
        "hotkeys/hot1",
        "hotkeys/hot1pub.txt",
    ] {
        fs::copy(src.join(f), dst.join(f)).unwrap();
    }
    let w = Wallet::new(Some(dir.path()), "fixture", "hot1").unwrap();
    (dir, w)
}

#[test]
fn decrypts_btwallet_nacl_coldkey() {
    let (_dir, w) = fixture_copy();
    let raw = fs::read(w.coldkey_path()).unwrap();
    assert!(raw.starts_with(b"$NACL"), "fixture must be NaCl-encrypted");
    let cold = w.coldkey(&PasswordSource::literal(COLD_PASSWORD)).unwrap();
    assert_eq!(cold.ss58_address(), COLD_SS58);
    assert_eq!(cold.mnemonic(), Some(COLD_MNEMONIC));
    assert_eq!(w.coldkeypub().unwrap(), COLD_SS58);
}

#[test]
fn btwallet_hotkey_fields_match_our_derivation() {
    let (_dir, w) = fixture_copy();
    let theirs: KeyfileData = serde_json::from_slice(&fs::read(w.hotkey_path()).unwrap()).unwrap();
    let ours = KeyfileData::from_keypair(&Keypair::from_mnemonic(HOT_MNEMONIC).unwrap());
    // Every field btwallet wrote (seed, 64-byte private key, ...) must be what
    // we compute from the same mnemonic, so files we write are interchangeable.
    assert_eq!(theirs, ours);
    assert_eq!(w.hotkeypub(&PasswordSource::Prompt).unwrap(), HOT_SS58);
    let hot = w.hotkey_pair(&PasswordSource::Prompt).unwrap();
    assert_eq!(hot.ss58_address(), HOT_SS58);

    let pub_theirs: KeyfileData =
        serde_json::from_slice(&fs::read(w.coldkeypub_path()).unwrap()).unwrap();
    let cold = Keypair::from_mnemonic(COLD_MNEMONIC).unwrap();
    assert_eq!(pub_theirs, KeyfileData::public_only(&cold));
}

#[test]
fn wrong_password_is_rejected_and_file_untouched() {
    let (_dir, w) = fixture_copy();
    let before = fs::read(w.coldkey_path()).unwrap();
    let mtime = fs::metadata(w.coldkey_path()).unwrap().modified().unwrap();
    let err = w
        .coldkey(&PasswordSource::literal("not the password"))
        .unwrap_err();
    assert!(matches!(err, WalletError::WrongPassword { .. }), "{err}");
    assert!(err.to_string().contains("wrong password"));
    assert_eq!(fs::read(w.coldkey_path()).unwrap(), before);
    assert_eq!(
        fs::metadata(w.coldkey_path()).unwrap().modified().unwrap(),
        mtime
    );
}

#[test]
fn encrypted_and_plain_round_trip_with_private_modes() {
    let dir = tempfile::tempdir().unwrap();
    let w = Wallet::new(Some(dir.path()), "rt", "hk").unwrap();
    let cold = Keypair::generate(12).unwrap();
    let hot = Keypair::generate(24).unwrap();
    w.set_coldkey(&cold, Some("pw-123"), false).unwrap();
    w.set_hotkey(&hot, None, false).unwrap();

    let raw = fs::read(w.coldkey_path()).unwrap();
    assert!(raw.starts_with(b"$NACL"));
    assert!(!String::from_utf8_lossy(&raw).contains(cold.mnemonic().unwrap()));
    for p in [
        w.coldkey_path(),
        w.coldkeypub_path(),
        w.hotkey_path(),
        w.hotkeypub_path(),
    ] {
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }

    let back = w.coldkey(&PasswordSource::literal("pw-123")).unwrap();
    assert_eq!(back.public_key(), cold.public_key());
    assert_eq!(back.mnemonic(), cold.mnemonic());
    assert_eq!(w.coldkeypub().unwrap(), cold.ss58_address());
    let hot_back = w.hotkey_pair(&PasswordSource::Prompt).unwrap();
    assert_eq!(hot_back.public_key(), hot.public_key());
    assert_eq!(hot_back.seed(), hot.seed());

    // No overwrite without asking; the existing key stays.
    let other = Keypair::generate(12).unwrap();
    assert!(matches!(
        w.set_coldkey(&other, Some("x"), false),
        Err(WalletError::AlreadyExists { .. })
    ));
    assert_eq!(fs::read(w.coldkey_path()).unwrap(), raw);
    assert_eq!(w.hotkey_names().unwrap(), vec!["hk".to_string()]);
    assert_eq!(
        wallet::list_wallets(dir.path()).unwrap(),
        vec!["rt".to_string()]
    );
    // No temp files left behind.
    let leftovers: Vec<_> = fs::read_dir(w.dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn password_from_environment_variable() {
    let (_dir, w) = fixture_copy();
    let var = "WALLET_TEST_COLD_PW_FROM_ENV";
    // Only this test touches this variable.
    std::env::set_var(var, COLD_PASSWORD);
    let cold = w.coldkey(&PasswordSource::Env(var.into())).unwrap();
    assert_eq!(cold.ss58_address(), COLD_SS58);
    let missing = w
        .coldkey(&PasswordSource::Env("WALLET_TEST_UNSET_VARIABLE".into()))
        .unwrap_err();
    assert!(matches!(missing, WalletError::Password(_)));
}

#[test]
fn missing_and_corrupt_files_are_errors() {
    let (_dir, w) = fixture_copy();
    let none = Wallet::new(Some(w.path.as_path()), "nobody", "x").unwrap();
    assert!(matches!(
        none.coldkey(&PasswordSource::literal("x")),
        Err(WalletError::NotFound { .. })
    ));
    // A truncated $NACL file: clear error, no panic.
    fs::write(w.coldkey_path(), b"$NACLshort").unwrap();
    assert!(matches!(
        w.coldkey(&PasswordSource::literal(COLD_PASSWORD)),
        Err(WalletError::Malformed(_))
    ));
    // A flipped ciphertext byte fails authentication like a wrong password.
    let mut raw = fs::read(fixture_root().join("fixture/coldkey")).unwrap();
    let last = raw.len() - 1;
    raw[last] ^= 1;
    fs::write(w.coldkey_path(), &raw).unwrap();
    assert!(matches!(
        w.coldkey(&PasswordSource::literal(COLD_PASSWORD)),
        Err(WalletError::WrongPassword { .. })
    ));
}
