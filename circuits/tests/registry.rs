//! Model registry: the shipped registry loads and its artifacts verify, and
//! every way a registry can be wrong on disk is refused with the file named.

use std::fs;
use std::path::{Path, PathBuf};

use circuits::registry::{AddOptions, ModelId, Provenance, Registry, RegistryError};

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("registry")
}

/// A private, writable copy of the shipped registry.
fn copy_shipped() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::copy(
        shipped().join("registry.toml"),
        tmp.path().join("registry.toml"),
    )
    .unwrap();
    fs::create_dir(tmp.path().join("models")).unwrap();
    for e in fs::read_dir(shipped().join("models")).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), tmp.path().join("models").join(e.file_name())).unwrap();
    }
    tmp
}

fn manifest(dir: &Path) -> String {
    fs::read_to_string(dir.join("registry.toml")).unwrap()
}

fn opts() -> AddOptions {
    AddOptions {
        input_shape: vec![1, 4],
        quant_scale_bits: 10,
        slices: vec!["h1".into()],
        timeout_ms: 5000,
        challenge_weight: 2,
        provenance: Provenance {
            source: "test".into(),
            licence: "MIT".into(),
            notes: "made by the registry tests".into(),
        },
    }
}

#[test]
fn shipped_registry_loads_and_verifies() {
    let reg = Registry::load(shipped()).expect("shipped registry must load");
    let names: Vec<&str> = reg.models().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "digits_mlp",
            "digits_cnn",
            "ppocr_cls_mobile_v2",
            "resnet_blocks"
        ]
    );

    let mut total = 0;
    for m in reg.models() {
        let bytes = reg.read_onnx(m).unwrap();
        assert_eq!(ModelId::of_bytes(&bytes), m.id);
        assert!(!m.provenance.licence.is_empty() && !m.provenance.source.is_empty());
        assert_eq!(reg.get(&m.id.to_hex()).unwrap(), m);
        assert_eq!(reg.get(&m.name).unwrap(), m);
        total += bytes.len();
    }
    assert!(
        total < 10 << 20,
        "shipped models must stay under 10 MB, got {total}"
    );

    assert_eq!(reg.get("digits_mlp").unwrap().input_shape, [1, 64]);
    assert_eq!(reg.get("digits_cnn").unwrap().input_shape, [1, 1, 8, 8]);
    let ocr = reg.get("ppocr_cls_mobile_v2").unwrap();
    assert_eq!(ocr.input_shape, [1, 3, 48, 192]);
    assert_eq!(ocr.provenance.licence, "Apache-2.0");
    let resnet = reg.get("resnet_blocks").unwrap();
    assert_eq!(resnet.slices, ["block1.relu2.out", "block3.relu2.out"]);
    assert_eq!(resnet.input_len(), 3 * 32 * 32);
    assert!(matches!(
        reg.get("no_such_model"),
        Err(RegistryError::NotFound(_))
    ));
}

#[test]
fn tampered_artifact_is_refused_naming_the_file() {
    let tmp = copy_shipped();
    let path = tmp.path().join("models/digits_cnn.onnx");
    let mut bytes = fs::read(&path).unwrap();
    bytes[100] ^= 1;
    fs::write(&path, bytes).unwrap();

    let err = Registry::load(tmp.path()).unwrap_err();
    match &err {
        RegistryError::HashMismatch { file, .. } => assert_eq!(file, &path),
        other => panic!("expected HashMismatch, got {other:?}"),
    }
    assert!(err.to_string().contains("models/digits_cnn.onnx"), "{err}");
}

#[test]
fn read_onnx_rechecks_after_load() {
    let tmp = copy_shipped();
    let reg = Registry::load(tmp.path()).unwrap();
    let entry = reg.get("digits_mlp").unwrap();
    let path = tmp.path().join("models/digits_mlp.onnx");
    let mut bytes = fs::read(&path).unwrap();
    bytes.push(0);
    fs::write(&path, bytes).unwrap();
    let err = reg.read_onnx(entry).unwrap_err();
    assert!(
        matches!(&err, RegistryError::HashMismatch { file, .. } if file == &path),
        "{err:?}"
    );
}

#[test]
fn missing_artifact_is_refused_naming_the_file() {
    let tmp = copy_shipped();
    let path = tmp.path().join("models/resnet_blocks.onnx");
    fs::remove_file(&path).unwrap();
    let err = Registry::load(tmp.path()).unwrap_err();
    assert!(
        matches!(&err, RegistryError::MissingArtifact { model, file } if model == "resnet_blocks" && file == &path),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("models/resnet_blocks.onnx"),
        "{err}"
    );
}

#[test]
fn missing_manifest_is_an_io_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Registry::load(tmp.path()).unwrap_err();
    assert!(
        matches!(&err, RegistryError::Io { path, .. } if path.ends_with("registry.toml")),
        "{err:?}"
    );
}

/// A one-model manifest for `models/m.onnx` containing `bytes`; `edit`
/// rewrites the text to make it bad in one particular way.
fn one_model_registry(bytes: &[u8], edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("models")).unwrap();
    fs::write(tmp.path().join("models/m.onnx"), bytes).unwrap();
    let text = format!(
        r#"version = 1

[[models]]
id = "{}"
name = "m"
file = "models/m.onnx"
input_shape = [1, 3, 4, 4]
quant_scale_bits = 12
slices = ["a", "b"]
timeout_ms = 1000
challenge_weight = 5

[models.provenance]
source = "unit test"
licence = "MIT"
"#,
        ModelId::of_bytes(bytes)
    );
    fs::write(tmp.path().join("registry.toml"), edit(text)).unwrap();
    tmp
}

#[test]
fn the_template_manifest_is_valid() {
    // Guards the bad-manifest cases below: each must fail because of its edit.
    let tmp = one_model_registry(b"model", |t| t);
    let reg = Registry::load(tmp.path()).unwrap();
    let m = reg.get("m").unwrap();
    assert_eq!(m.input_shape, [1, 3, 4, 4]);
    assert_eq!(m.quant_scale_bits, 12);
    assert_eq!(m.slices, ["a", "b"]);
    assert_eq!(m.timeout().as_millis(), 1000);
    assert_eq!(m.challenge_weight, 5);
    assert_eq!(m.provenance.notes, "");
}

#[test]
fn bad_manifests_are_refused() {
    type Edit = Box<dyn Fn(String) -> String>;
    let rep = |a: &'static str, b: &'static str| -> Edit {
        Box::new(move |t: String| {
            assert!(t.contains(a), "template lacks {a}");
            t.replacen(a, b, 1)
        })
    };
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("not toml", Box::new(|_| "version = = 1".into()), "manifest"),
        (
            "unknown model field",
            rep("challenge_weight = 5", "challenge_weight = 5\ncolour = 1"),
            "unknown field",
        ),
        (
            "unknown top-level field",
            rep("version = 1", "version = 1\nextra = true"),
            "unknown field",
        ),
        (
            "unknown provenance field",
            rep("licence = \"MIT\"", "licence = \"MIT\"\nurl = \"x\""),
            "unknown field",
        ),
        (
            "missing field",
            rep("timeout_ms = 1000\n", ""),
            "timeout_ms",
        ),
        (
            "wrong type",
            rep("timeout_ms = 1000", "timeout_ms = \"soon\""),
            "timeout_ms",
        ),
        (
            "negative integer",
            rep("timeout_ms = 1000", "timeout_ms = -1"),
            "timeout_ms",
        ),
        (
            "version 2",
            rep("version = 1", "version = 2"),
            "unsupported version 2",
        ),
        ("id not hex", rep("id = \"", "id = \"zz"), "invalid id"),
        (
            "empty name",
            rep("name = \"m\"", "name = \"\""),
            "invalid name",
        ),
        (
            "name with slash",
            rep("name = \"m\"", "name = \"a/b\""),
            "invalid name",
        ),
        (
            "path escapes",
            rep("file = \"models/m.onnx\"", "file = \"../m.onnx\""),
            "invalid file",
        ),
        (
            "absolute path",
            rep("file = \"models/m.onnx\"", "file = \"/tmp/m.onnx\""),
            "invalid file",
        ),
        (
            "rank 0",
            rep("input_shape = [1, 3, 4, 4]", "input_shape = []"),
            "invalid input_shape",
        ),
        (
            "zero dim",
            rep("input_shape = [1, 3, 4, 4]", "input_shape = [1, 0]"),
            "invalid input_shape",
        ),
        (
            "huge input",
            rep(
                "input_shape = [1, 3, 4, 4]",
                "input_shape = [65536, 65536, 65536]",
            ),
            "invalid input_shape",
        ),
        (
            "scale bits 0",
            rep("quant_scale_bits = 12", "quant_scale_bits = 0"),
            "invalid quant_scale_bits",
        ),
        (
            "scale bits 300",
            rep("quant_scale_bits = 12", "quant_scale_bits = 300"),
            "invalid quant_scale_bits",
        ),
        (
            "timeout 0",
            rep("timeout_ms = 1000", "timeout_ms = 0"),
            "invalid timeout_ms",
        ),
        (
            "weight huge",
            rep("challenge_weight = 5", "challenge_weight = 4294967296"),
            "invalid challenge_weight",
        ),
        (
            "duplicate cut point",
            rep("slices = [\"a\", \"b\"]", "slices = [\"a\", \"a\"]"),
            "invalid slices",
        ),
        (
            "empty cut point",
            rep("slices = [\"a\", \"b\"]", "slices = [\"\"]"),
            "invalid slices",
        ),
        (
            "empty licence",
            rep("licence = \"MIT\"", "licence = \"  \""),
            "invalid provenance.licence",
        ),
    ];
    for (what, edit, needle) in cases {
        let tmp = one_model_registry(b"model", edit);
        let err = Registry::load(tmp.path()).expect_err(what);
        assert!(
            err.to_string().contains(needle),
            "{what}: message {err} lacks {needle:?}"
        );
    }
}

#[test]
fn oversized_and_non_utf8_manifests_are_refused() {
    let tmp = one_model_registry(b"model", |t| format!("{t}\n# {}\n", "x".repeat(2 << 20)));
    assert!(matches!(
        Registry::load(tmp.path()),
        Err(RegistryError::ManifestTooLarge { .. })
    ));

    let tmp = one_model_registry(b"model", |t| t);
    let mut bytes = fs::read(tmp.path().join("registry.toml")).unwrap();
    bytes.extend_from_slice(b"# \xff\xfe\n");
    fs::write(tmp.path().join("registry.toml"), bytes).unwrap();
    let err = Registry::load(tmp.path()).unwrap_err();
    assert!(err.to_string().contains("not UTF-8"), "{err}");
}

#[test]
fn duplicate_entries_are_refused() {
    // The shipped manifest with its first entry repeated.
    let shipped_text = manifest(&shipped());
    let first = shipped_text.find("[[models]]").unwrap();
    let second = shipped_text[first + 1..].find("[[models]]").unwrap() + first + 1;
    let tmp = copy_shipped();
    fs::write(
        tmp.path().join("registry.toml"),
        format!("{shipped_text}\n{}", &shipped_text[first..second]),
    )
    .unwrap();
    let err = Registry::load(tmp.path()).unwrap_err();
    assert!(
        matches!(&err, RegistryError::Duplicate { what: "id", .. }),
        "{err:?}"
    );

    // A second entry that differs from the template's in all but one of id, name, file.
    let other_id = ModelId::of_bytes(b"other").to_hex();
    let cases = [
        ("id", None, Some("m2"), Some("models/m2.onnx")),
        (
            "name",
            Some(other_id.as_str()),
            None,
            Some("models/m2.onnx"),
        ),
        ("file", Some(other_id.as_str()), Some("m2"), None),
    ];
    for (what, id, name, file) in cases {
        let tmp = one_model_registry(b"model", |t| {
            let block = &t[t.find("[[models]]").unwrap()..];
            let mut dup = block.to_string();
            if let Some(id) = id {
                dup = dup.replacen(
                    &format!("id = \"{}\"", ModelId::of_bytes(b"model")),
                    &format!("id = \"{id}\""),
                    1,
                );
            }
            if let Some(name) = name {
                dup = dup.replacen("name = \"m\"", &format!("name = \"{name}\""), 1);
            }
            if let Some(file) = file {
                dup = dup.replacen("file = \"models/m.onnx\"", &format!("file = \"{file}\""), 1);
            }
            assert_ne!(dup, block);
            format!("{t}\n{dup}")
        });
        let err = Registry::load(tmp.path()).unwrap_err();
        assert!(
            matches!(&err, RegistryError::Duplicate { what: w, .. } if *w == what),
            "{what}: {err:?}"
        );
    }
}

#[test]
fn add_round_trips_and_preserves_existing_entries() {
    let tmp = copy_shipped();
    let before = Registry::load(tmp.path()).unwrap();
    let before_text = manifest(tmp.path());

    // The registry does not interpret ONNX bytes, so any bytes will do here.
    let src = tmp.path().join("incoming.onnx");
    fs::write(&src, b"not really onnx, but bytes with a hash").unwrap();
    let entry = Registry::add(tmp.path(), &src, "added_model", opts()).unwrap();
    assert_eq!(
        entry.id,
        ModelId::of_bytes(b"not really onnx, but bytes with a hash")
    );
    assert_eq!(entry.file, Path::new("models/added_model.onnx"));

    let after = Registry::load(tmp.path()).unwrap();
    assert_eq!(&after.models()[..before.models().len()], before.models());
    assert_eq!(after.models().len(), before.models().len() + 1);
    let got = after.get("added_model").unwrap();
    assert_eq!(got, &entry);
    assert_eq!(got.input_shape, [1, 4]);
    assert_eq!(got.slices, ["h1"]);
    assert_eq!(got.provenance.notes, "made by the registry tests");
    assert_eq!(after.read_onnx(got).unwrap(), fs::read(&src).unwrap());
    // Appending keeps the original text, comments included.
    assert!(manifest(tmp.path()).starts_with(&before_text));
    // No temp files left behind.
    let leftovers: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .chain(fs::read_dir(tmp.path().join("models")).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A second add builds on the first.
    let src2 = tmp.path().join("second.onnx");
    fs::write(&src2, b"second model").unwrap();
    Registry::add(tmp.path(), &src2, "second", opts()).unwrap();
    let names: Vec<String> = Registry::load(tmp.path())
        .unwrap()
        .models()
        .iter()
        .map(|m| m.name.clone())
        .collect();
    assert_eq!(
        names[names.len() - 2..],
        ["added_model".to_string(), "second".to_string()]
    );
}

#[test]
fn add_refuses_conflicts_and_leaves_the_registry_untouched() {
    let tmp = copy_shipped();
    let text = manifest(tmp.path());

    // Same bytes as a shipped model: same id.
    let err = Registry::add(
        tmp.path(),
        shipped().join("models/digits_mlp.onnx"),
        "mlp_copy",
        opts(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, RegistryError::Conflict(m) if m.contains("digits_mlp")),
        "{err:?}"
    );

    // New bytes under a taken name.
    let src = tmp.path().join("x.onnx");
    fs::write(&src, b"fresh").unwrap();
    let err = Registry::add(tmp.path(), &src, "digits_cnn", opts()).unwrap_err();
    assert!(matches!(err, RegistryError::Conflict(_)), "{err:?}");

    // Out-of-range options.
    let mut bad = opts();
    bad.quant_scale_bits = 0;
    let err = Registry::add(tmp.path(), &src, "fresh", bad).unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::InvalidField {
                field: "quant_scale_bits",
                ..
            }
        ),
        "{err:?}"
    );
    let err = Registry::add(tmp.path(), &src, "../escape", opts()).unwrap_err();
    assert!(
        matches!(err, RegistryError::InvalidField { field: "name", .. }),
        "{err:?}"
    );

    // A stray file in the way with other content.
    fs::write(tmp.path().join("models/fresh.onnx"), b"something else").unwrap();
    let err = Registry::add(tmp.path(), &src, "fresh", opts()).unwrap_err();
    assert!(
        matches!(&err, RegistryError::Conflict(m) if m.contains("different content")),
        "{err:?}"
    );

    // A tampered registry is not extended.
    let path = tmp.path().join("models/digits_mlp.onnx");
    let mut bytes = fs::read(&path).unwrap();
    bytes[10] ^= 0x80;
    fs::write(&path, bytes).unwrap();
    let err = Registry::add(tmp.path(), &src, "fresh2", opts()).unwrap_err();
    assert!(matches!(err, RegistryError::HashMismatch { .. }), "{err:?}");

    assert_eq!(
        manifest(tmp.path()),
        text,
        "a refused add must not change the manifest"
    );
    assert!(!tmp.path().join("models/fresh2.onnx").exists());
}

#[test]
fn add_creates_a_new_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    fs::create_dir(&dir).unwrap();
    let src = tmp.path().join("a.onnx");
    fs::write(&src, b"first").unwrap();
    let e = Registry::add(&dir, &src, "a", opts()).unwrap();
    let reg = Registry::load(&dir).unwrap();
    assert_eq!(reg.models(), [e]);
    assert!(manifest(&dir).starts_with("version = 1\n"));
}

#[cfg(unix)]
#[test]
fn symlink_out_of_the_registry_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("m.onnx");
    fs::write(&target, b"model").unwrap();
    let tmp = one_model_registry(b"model", |t| t);
    fs::remove_file(tmp.path().join("models/m.onnx")).unwrap();
    std::os::unix::fs::symlink(&target, tmp.path().join("models/m.onnx")).unwrap();
    let err = Registry::load(tmp.path()).unwrap_err();
    assert!(err.to_string().contains("outside the registry"), "{err}");
}

#[test]
fn a_directory_in_place_of_an_artifact_is_an_error_not_a_hang() {
    let tmp = one_model_registry(b"model", |t| t);
    fs::remove_file(tmp.path().join("models/m.onnx")).unwrap();
    fs::create_dir(tmp.path().join("models/m.onnx")).unwrap();
    let err = Registry::load(tmp.path()).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_fifo_in_place_of_an_artifact_is_an_error_not_a_hang() {
    let tmp = one_model_registry(b"model", |t| t);
    let path = tmp.path().join("models/m.onnx");
    fs::remove_file(&path).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let err = Registry::load(tmp.path()).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
}
