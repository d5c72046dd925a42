//! The `zkml` binary end to end, through files in a temporary directory:
//! prove and verify round trip, tampered proofs and registries refused,
//! bad inputs reported, inspect, slice and registry add on the digits models.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use circuits::model::{onnx, quant, QTensor};
use circuits::registry::{ModelId, Registry};
use circuits::zkml::CompiledModel;
use serde_json::Value;

fn registry_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../registry")
}

fn zkml(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkml"))
        .args(args)
        .env_remove("ZKML_REGISTRY")
        .env("RUST_LOG", "warn")
        .output()
        .expect("zkml runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "zkml failed: {}", stderr(&o));
    o
}

fn fails(o: Output) -> String {
    assert!(!o.status.success(), "zkml succeeded: {}", stdout(&o));
    let e = stderr(&o);
    assert!(e.contains("error:"), "no error line: {e}");
    e
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The digits input the registry README uses: element i is (37 i mod 101) / 100.
fn digits_input() -> Vec<f32> {
    (0..64).map(|i| ((37 * i) % 101) as f32 / 100.0).collect()
}

fn write_input(dir: &Path, shape: &[usize], data: &[f32]) -> PathBuf {
    let path = dir.join("input.json");
    let json = serde_json::json!({ "shape": shape, "data": data });
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

/// Prove digits_mlp on the fixed input; returns the proof path and stdout JSON.
fn prove_mlp(dir: &Path) -> (PathBuf, Value) {
    let reg = registry_dir();
    let input = write_input(dir, &[1, 64], &digits_input());
    let proof = dir.join("proof.bin");
    let o = ok(zkml(&[
        "prove",
        "--registry",
        p(&reg),
        "--model",
        "digits_mlp",
        "--input",
        p(&input),
        "--out",
        p(&proof),
        "--nonce",
        "00112233",
    ]));
    (proof, serde_json::from_slice(&o.stdout).unwrap())
}

#[test]
fn prove_verify_round_trip_matches_the_evaluator() {
    let tmp = tempfile::tempdir().unwrap();
    let (proof, proved) = prove_mlp(tmp.path());
    let reg = registry_dir();
    let input = tmp.path().join("input.json");
    let out_json = tmp.path().join("out.json");
    let o = ok(zkml(&[
        "verify",
        "--registry",
        p(&reg),
        "--proof",
        p(&proof),
        "--input",
        p(&input),
        "--output",
        p(&out_json),
    ]));
    let verified: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(proved, verified);
    let written: Value = serde_json::from_slice(&std::fs::read(&out_json).unwrap()).unwrap();
    assert_eq!(written, verified);

    // The proven output is the exact quantized evaluation of the model.
    let registry = Registry::load(&reg).unwrap();
    let entry = registry.get("digits_mlp").unwrap();
    let graph = onnx::load(&registry.read_onnx(entry).unwrap(), &[1, 64]).unwrap();
    let x = QTensor::quantize(vec![1, 64], entry.quant_scale_bits, &digits_input()).unwrap();
    let vals = quant::eval(&graph, entry.quant_scale_bits, &x).unwrap();
    let want = QTensor::new(
        vec![1, 10],
        entry.quant_scale_bits,
        vals[graph.output].clone(),
    )
    .unwrap()
    .dequantize();
    let got: Vec<f32> = verified["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(got, want);
    assert_eq!(verified["shape"], serde_json::json!([1, 10]));
    assert_eq!(verified["model"], "digits_mlp");
    // No trailing Softmax: the data are the proven values themselves.
    assert_eq!(verified["kind"], "values");
    assert!(verified.get("logits").is_none(), "{verified}");
    assert!(stderr(&o).contains("output: values"), "{}", stderr(&o));
}

#[test]
fn tampered_proof_files_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let (proof, _) = prove_mlp(tmp.path());
    let reg = registry_dir();
    let bytes = std::fs::read(&proof).unwrap();
    let verify = |bytes: &[u8], name: &str| {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        zkml(&["verify", "--registry", p(&reg), "--proof", p(&path)])
    };
    ok(verify(&bytes, "same.bin"));

    // Header: b"ZKMLPROOF", version, 32-byte model id, compact nonce length
    // (one byte for 4), then the nonce: a proof for another nonce.
    let mut other_nonce = bytes.clone();
    other_nonce[9 + 1 + 32 + 1] ^= 1;
    let e = fails(verify(&other_nonce, "nonce.bin"));
    assert!(e.contains("verification failed: slice 0"), "{e}");

    // A flipped bit deep inside the GKR proof.
    let mut flipped = bytes.clone();
    let mid = bytes.len() * 3 / 4;
    flipped[mid] ^= 0x10;
    fails(verify(&flipped, "flipped.bin"));

    let e = fails(verify(&bytes[..bytes.len() - 7], "short.bin"));
    assert!(e.contains("cannot decode proof file"), "{e}");

    // A different challenge input than the one proven.
    let mut x = digits_input();
    x[0] += 0.5;
    let other = tmp.path().join("other.json");
    std::fs::write(&other, serde_json::json!(x).to_string()).unwrap();
    let e = fails(zkml(&[
        "verify",
        "--registry",
        p(&reg),
        "--proof",
        p(&proof),
        "--input",
        p(&other),
    ]));
    assert!(e.contains("another input"), "{e}");
}

#[test]
fn bad_inputs_get_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry_dir();
    let out = tmp.path().join("proof.bin");
    let prove = |input: &Path, model: &str| {
        zkml(&[
            "prove",
            "--registry",
            p(&reg),
            "--model",
            model,
            "--input",
            p(input),
            "--out",
            p(&out),
        ])
    };
    let wrong = write_input(tmp.path(), &[1, 63], &digits_input()[..63]);
    let e = fails(prove(&wrong, "digits_mlp"));
    assert!(
        e.contains("input shape [1, 63] does not match the model's input shape [1, 64]"),
        "{e}"
    );
    let e = fails(prove(&wrong, "no_such_model"));
    assert!(e.contains("no_such_model"), "{e}");

    let malformed = tmp.path().join("malformed.json");
    std::fs::write(&malformed, "{\"shape\": [1, 64], \"data\": [0.1,").unwrap();
    let e = fails(prove(&malformed, "digits_mlp"));
    assert!(e.contains("not valid JSON"), "{e}");

    let short = tmp.path().join("short.json");
    std::fs::write(&short, "[0.5, 0.25]").unwrap();
    let e = fails(prove(&short, "digits_mlp"));
    assert!(e.contains("holds 64 values, the data has 2"), "{e}");

    // A file that is not a proof, and an ONNX file without its shape.
    let e = fails(zkml(&[
        "verify",
        "--registry",
        p(&reg),
        "--proof",
        p(&short),
    ]));
    assert!(e.contains("not a zkml proof file"), "{e}");
    let onnx = reg.join("models/digits_mlp.onnx");
    let e = fails(zkml(&["inspect", p(&onnx)]));
    assert!(e.contains("--input-shape"), "{e}");
    assert!(!out.exists(), "no proof is written on error");
}

fn copy_registry(to: &Path) {
    let from = registry_dir();
    std::fs::create_dir_all(to.join("models")).unwrap();
    std::fs::copy(from.join("registry.toml"), to.join("registry.toml")).unwrap();
    for f in std::fs::read_dir(from.join("models")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), to.join("models").join(f.file_name())).unwrap();
    }
}

#[test]
fn registry_verify_names_the_tampered_file() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = tmp.path().join("reg");
    copy_registry(&reg);
    let models = Registry::load(&reg).unwrap().models().len();
    let o = ok(zkml(&["registry", "verify", "--registry", p(&reg)]));
    let oks = stdout(&o).lines().filter(|l| l.starts_with("OK")).count();
    assert_eq!(oks, models, "{}", stdout(&o));

    let victim = reg.join("models/digits_cnn.onnx");
    let mut bytes = std::fs::read(&victim).unwrap();
    let k = bytes.len() / 2;
    bytes[k] ^= 1;
    std::fs::write(&victim, bytes).unwrap();

    let o = zkml(&["registry", "verify", "--registry", p(&reg)]);
    let e = fails(o.clone());
    let out = stdout(&o);
    let bad: Vec<&str> = out.lines().filter(|l| l.starts_with("MISMATCH")).collect();
    assert_eq!(bad.len(), 1, "{out}");
    assert!(bad[0].contains("digits_cnn.onnx"), "{out}");
    let oks = out.lines().filter(|l| l.starts_with("OK")).count();
    assert_eq!(oks, models - 1, "{out}");
    assert!(e.contains("digits_cnn.onnx"), "{e}");

    // Every other command refuses the registry too, naming the file.
    let input = write_input(tmp.path(), &[1, 64], &digits_input());
    let e = fails(zkml(&[
        "prove",
        "--registry",
        p(&reg),
        "--model",
        "digits_mlp",
        "--input",
        p(&input),
        "--out",
        p(&tmp.path().join("x.bin")),
    ]));
    assert!(e.contains("digits_cnn.onnx"), "{e}");
}

#[test]
fn inspect_digits_cnn_reports_ops_cuts_and_real_gates() {
    let reg = registry_dir();
    let o = ok(zkml(&["inspect", "--registry", p(&reg), "digits_cnn"]));
    let out = stdout(&o);
    for op in ["Conv", "MaxPool", "AveragePool", "Dense", "Relu"] {
        assert!(out.contains(op), "{op} missing: {out}");
    }
    assert!(out.contains("[1, 8, 4, 4]"), "{out}");
    assert!(out.contains("clean cut points"), "{out}");

    let registry = Registry::load(&reg).unwrap();
    let entry = registry.get("digits_cnn").unwrap();
    let model = CompiledModel::from_registry(&registry, entry).unwrap();
    let slice = &model.slices()[0];
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with("0 ") && l.contains("input -> logits"))
        .unwrap_or_else(|| panic!("no slice row: {out}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    // slice, nodes, est.gates, gates, hints, layers
    assert_eq!(cols[3], slice.num_gates().to_string(), "{row}");
    assert_eq!(cols[4], slice.circuit().num_hints().to_string(), "{row}");
    assert_eq!(cols[5], slice.circuit().layers().len().to_string(), "{row}");
}

#[test]
fn slice_writes_standalone_models() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = registry_dir();
    let out_dir = tmp.path().join("slices");
    let o = ok(zkml(&[
        "slice",
        "--registry",
        p(&reg),
        "--model",
        "digits_cnn",
        "--out-dir",
        p(&out_dir),
        "--cuts",
        "m1",
    ]));
    assert!(stdout(&o).contains("slices = [\"m1\"]"), "{}", stdout(&o));
    let first = std::fs::read(out_dir.join("digits_cnn.slice0.onnx")).unwrap();
    let second = std::fs::read(out_dir.join("digits_cnn.slice1.onnx")).unwrap();
    let g0 = onnx::load(&first, &[1, 1, 8, 8]).unwrap();
    let g1 = onnx::load(&second, &[1, 8, 4, 4]).unwrap();
    assert_eq!(g0.shape(g0.output), [1, 8, 4, 4]);
    assert_eq!(g1.shape(g1.output), [1, 10]);

    let e = fails(zkml(&[
        "slice",
        "--registry",
        p(&reg),
        "--model",
        "digits_cnn",
        "--out-dir",
        p(&out_dir),
        "--cuts",
        "no_such_tensor",
    ]));
    assert!(e.contains("no_such_tensor"), "{e}");
}

#[test]
fn registry_add_then_list() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = tmp.path().join("reg");
    let onnx = registry_dir().join("models/digits_cnn.onnx");
    let add = |slices: &str, name: &str| {
        zkml(&[
            "registry",
            "add",
            "--registry",
            p(&reg),
            p(&onnx),
            "--name",
            name,
            "--input-shape",
            "1,1,8,8",
            "--slices",
            slices,
            "--source",
            "test",
            "--licence",
            "MIT",
        ])
    };
    let e = fails(add("no_such_tensor", "cnn"));
    assert!(e.contains("no_such_tensor"), "{e}");
    let o = ok(add("m1", "cnn"));
    let id = ModelId::of_bytes(&std::fs::read(&onnx).unwrap()).to_hex();
    assert!(stdout(&o).contains(&id), "{}", stdout(&o));
    let e = fails(add("", "cnn2"));
    assert!(e.contains("already registered"), "{e}");

    let o = ok(zkml(&["registry", "list", "--registry", p(&reg)]));
    let line = stdout(&o)
        .lines()
        .find(|l| l.starts_with("cnn "))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{}", stdout(&o)));
    assert!(
        line.contains("[1, 1, 8, 8]") && line.contains("MIT"),
        "{line}"
    );
    let entry = Registry::load(&reg).unwrap().get("cnn").unwrap().clone();
    assert_eq!(entry.slices, vec!["m1".to_string()]);
}

const PPOCR: &str = "ppocr_cls_mobile_v2";

#[test]
fn inspect_and_compile_ppocr_take_off_the_softmax_the_verifier_reapplies() {
    let reg = registry_dir();
    let o = ok(zkml(&[
        "inspect",
        "--registry",
        p(&reg),
        PPOCR,
        "--no-compile",
    ]));
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.starts_with("softmax "))
        .unwrap_or_else(|| panic!("no softmax line: {out}"));
    assert!(line.contains("Softmax(axis 1)"), "{line}");
    assert!(line.contains("the verifier reapplies it"), "{line}");
    // The node table is the circuit's: it ends at the logits, no Softmax row.
    assert!(
        !out.lines().any(|l| l.contains(" Softmax ")),
        "Softmax still in the node table: {out}"
    );
    assert!(out.contains("output      linear_1.tmp_1 [1, 2]"), "{out}");

    // compile goes through the same helper: it compiles the one slice.
    let o = ok(zkml(&["compile", "--registry", p(&reg), PPOCR]));
    let out = stdout(&o);
    assert!(out.lines().any(|l| l.starts_with("softmax ")), "{out}");
    assert!(out.contains("circuit digest"), "{out}");
    assert!(!out.contains("does not compile"), "{out}");
}

/// Softmax of `v` in f64, the reference for the CLI's probabilities.
fn softmax(v: &[f64]) -> Vec<f64> {
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = v.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn prove_and_verify_print_probabilities_for_a_model_ending_in_softmax() {
    // PP-OCR's head (global pool output -> Reshape -> FC -> Softmax), cut
    // out of the real model as a standalone ONNX file and registered: small
    // enough to prove in a test, and it ends in the model's own Softmax.
    let tmp = tempfile::tempdir().unwrap();
    let registry = Registry::load(registry_dir()).unwrap();
    let entry = registry.get(PPOCR).unwrap();
    let bytes = registry.read_onnx(entry).unwrap();
    let shape: Vec<usize> = entry.input_shape.iter().map(|&d| d as usize).collect();
    let full = onnx::load(&bytes, &shape).unwrap();
    let from = "pool2d_10.tmp_0";
    let head_shape = full.shape(full.tensor_by_name(from).unwrap()).to_vec();
    let to = full.tensors[full.output].name.clone();
    let head = onnx::extract_slice(&bytes, &shape, from, &to).unwrap();
    let head_path = tmp.path().join("ppocr_head.onnx");
    std::fs::write(&head_path, head).unwrap();

    let reg = tmp.path().join("reg");
    let dims: Vec<String> = head_shape.iter().map(usize::to_string).collect();
    ok(zkml(&[
        "registry",
        "add",
        "--registry",
        p(&reg),
        p(&head_path),
        "--name",
        "ppocr_head",
        "--input-shape",
        &dims.join(","),
        "--source",
        "test",
        "--licence",
        "Apache-2.0",
    ]));

    let n: usize = head_shape.iter().product();
    let x: Vec<f32> = (0..n)
        .map(|i| ((i * 29) % 97) as f32 / 40.0 - 1.0)
        .collect();
    let input = write_input(tmp.path(), &head_shape, &x);
    let proof = tmp.path().join("proof.bin");
    let o = ok(zkml(&[
        "prove",
        "--registry",
        p(&reg),
        "--model",
        "ppocr_head",
        "--input",
        p(&input),
        "--out",
        p(&proof),
        "--nonce",
        "0a0b",
    ]));
    assert!(
        stderr(&o).contains("output: probabilities"),
        "{}",
        stderr(&o)
    );
    let proved: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(proved["kind"], "probabilities", "{proved}");
    let probs = floats(&proved["data"]);
    let logits = floats(&proved["logits"]);
    assert_eq!(probs.len(), 2);
    let sum: f64 = probs.iter().sum();
    assert!((sum - 1.0).abs() < 1e-5, "{proved}");
    for (got, want) in probs.iter().zip(softmax(&logits)) {
        assert!((got - want).abs() < 1e-5, "{proved}");
    }
    // The logits are the proven tensor: the exact quantized evaluation.
    let head_graph = onnx::load(&std::fs::read(&head_path).unwrap(), &head_shape).unwrap();
    let mut circuit_graph = head_graph.clone();
    circuits::zkml::strip_trailing_softmax(&mut circuit_graph).expect("ends in Softmax");
    let q = QTensor::quantize(head_shape.clone(), entry.quant_scale_bits, &x).unwrap();
    let vals = quant::eval(&circuit_graph, entry.quant_scale_bits, &q).unwrap();
    let want = QTensor::new(
        vec![1, 2],
        entry.quant_scale_bits,
        vals[circuit_graph.output].clone(),
    )
    .unwrap()
    .dequantize();
    let want: Vec<f64> = want.iter().map(|&v| v as f64).collect();
    assert_eq!(logits, want);
    let top = probs
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap();
    assert_eq!(proved["argmax"], top);

    let o = ok(zkml(&[
        "verify",
        "--registry",
        p(&reg),
        "--proof",
        p(&proof),
        "--input",
        p(&input),
    ]));
    assert!(
        stderr(&o).contains("output: probabilities"),
        "{}",
        stderr(&o)
    );
    let verified: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(verified, proved);
}

#[test]
fn bench_takes_an_onnx_file() {
    let reg = registry_dir();
    let file = reg.join("models/digits_mlp.onnx");
    let bench = |model: &str| {
        let o = ok(zkml(&[
            "bench",
            "--registry",
            p(&reg),
            "--model",
            model,
            "--input-shape",
            "1,64",
            "--reps",
            "1",
            "--json",
        ]));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let from_file = bench(p(&file));
    let from_registry = bench("digits_mlp");
    assert_eq!(from_file["model"], "digits_mlp");
    // The same bytes compile to the same circuit and proof size.
    assert_eq!(from_file["gates"], from_registry["gates"]);
    assert_eq!(from_file["proof_bytes"], from_registry["proof_bytes"]);
    for key in ["load_s", "compile_s", "prove_s", "prove_cpu_s", "verify_s"] {
        assert!(from_file[key].is_f64(), "{key}: {from_file}");
    }

    let e = fails(zkml(&["bench", "--model", p(&file), "--reps", "1"]));
    assert!(e.contains("--input-shape"), "{e}");
}
