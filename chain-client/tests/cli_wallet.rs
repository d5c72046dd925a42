//! End-to-end checks of `subnet-cli`'s wallet commands (no chain needed).

use std::process::Command;

const HOT_MNEMONIC: &str =
    "legal winner thank year wave sausage worth useful legal winner thank yellow";
const HOT_SS58: &str = "5EHgWw2Af1pnoc7f1A8bfmM97W3DAYW8xr82RfhLL9oAabAe";

fn cli(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_subnet-cli"));
    cmd.args(args).env_remove("BT_WALLET_PATH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run subnet-cli");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn create_regen_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let (ok, out, err) = cli(
        &[
            "wallet",
            "create",
            "--wallet.name",
            "ci-w",
            "--wallet.hotkey",
            "a",
            "--wallet.path",
            path,
        ],
        &[("BT_COLD_PW_CI_W", "env-password")],
    );
    assert!(ok, "create failed: {err}");
    let cold = out
        .lines()
        .find_map(|l| l.strip_prefix("coldkey "))
        .and_then(|l| l.split_whitespace().next())
        .expect("coldkey address printed")
        .to_string();
    assert!(std::fs::read(dir.path().join("ci-w/coldkey"))
        .unwrap()
        .starts_with(b"$NACL"));

    // Creating again must refuse rather than overwrite the keys.
    let (ok, _, err) = cli(
        &[
            "wallet",
            "create",
            "--wallet.name",
            "ci-w",
            "--wallet.path",
            path,
            "--no-password",
        ],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");

    let (ok, _, err) = cli(
        &[
            "wallet",
            "regen-hotkey",
            "--wallet.name",
            "ci-w",
            "--wallet.hotkey",
            "b",
            "--wallet.path",
            path,
            "--mnemonic",
            HOT_MNEMONIC,
        ],
        &[],
    );
    assert!(ok, "regen failed: {err}");

    let (ok, out, err) = cli(&["wallet", "list", "--wallet.path", path], &[]);
    assert!(ok, "{err}");
    assert!(out.contains(&format!("ci-w  {cold}")), "{out}");
    assert!(out.contains(&format!("  b  {HOT_SS58}")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("  a  5")), "{out}");
}

#[test]
fn bad_input_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let (ok, _, err) = cli(
        &[
            "wallet",
            "regen-hotkey",
            "--wallet.path",
            path,
            "--mnemonic",
            "not a valid phrase",
        ],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("invalid mnemonic"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let (ok, _, err) = cli(
        &[
            "wallet",
            "create",
            "--wallet.name",
            "../escape",
            "--wallet.path",
            path,
            "--no-password",
        ],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("invalid wallet or hotkey name"), "{err}");

    let (ok, _, err) = cli(
        &[
            "stake",
            "add",
            "--wallet.path",
            path,
            "--netuid",
            "1",
            "--amount=-3",
        ],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("positive"), "{err}");
}
