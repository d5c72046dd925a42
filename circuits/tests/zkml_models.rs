//! Whole registry models: compile, prove, verify, and match the exact
//! quantized evaluator; sliced and unsliced runs agree; the chain of slice
//! proofs cannot be reordered, swapped or altered.

use std::path::PathBuf;

use circuits::model::{onnx, quant};
use circuits::registry::Registry;
use circuits::zkml::CompiledModel;

fn registry() -> Registry {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../registry");
    Registry::load(dir).expect("registry loads")
}

fn check_model(name: &str, seeds: &[u8]) {
    let reg = registry();
    let entry = reg.get(name).unwrap().clone();
    let model = CompiledModel::from_registry(&reg, &entry).unwrap();
    let bytes = reg.read_onnx(&entry).unwrap();
    let shape: Vec<usize> = entry.input_shape.iter().map(|&d| d as usize).collect();
    let graph = onnx::load(&bytes, &shape).unwrap();
    for &seed in seeds {
        let input = model.random_input([seed; 32]);
        let nonce = [seed ^ 0x5a; 32];
        let proofs = model.prove(&input, &nonce).unwrap();
        let out = model.verify(&input, &proofs, &nonce).unwrap();
        let want = quant::eval(&graph, entry.quant_scale_bits, &input).unwrap();
        assert_eq!(
            out.values, want[graph.output],
            "{name}: circuit vs evaluator"
        );
        assert_eq!(out.shape, graph.shape(graph.output));
    }
}

#[test]
fn digits_mlp_proves_and_matches_evaluator() {
    check_model("digits_mlp", &[1, 2, 3]);
}

#[test]
fn digits_cnn_proves_and_matches_evaluator() {
    check_model("digits_cnn", &[4, 5]);
}

/// resnet_blocks with its registry slice plan (3 slices) against the same
/// graph compiled whole: identical outputs; and the chain rejects reordered,
/// swapped, altered, dropped or re-nonced slice proofs.
#[test]
fn resnet_slices_chain_and_match_unsliced() {
    let reg = registry();
    let entry = reg.get("resnet_blocks").unwrap().clone();
    assert_eq!(entry.slices.len(), 2);
    let sliced = CompiledModel::from_registry(&reg, &entry).unwrap();
    assert_eq!(sliced.slices().len(), 3);
    let bytes = reg.read_onnx(&entry).unwrap();
    let shape: Vec<usize> = entry.input_shape.iter().map(|&d| d as usize).collect();
    let graph = onnx::load(&bytes, &shape).unwrap();
    let whole =
        CompiledModel::compile(entry.id, "whole", &graph, entry.quant_scale_bits, &[]).unwrap();

    let input = sliced.random_input([9; 32]);
    let nonce = [1u8; 32];
    let proofs = sliced.prove(&input, &nonce).unwrap();
    let out = sliced.verify(&input, &proofs, &nonce).unwrap();
    let whole_proofs = whole.prove(&input, &nonce).unwrap();
    let whole_out = whole.verify(&input, &whole_proofs, &nonce).unwrap();
    assert_eq!(out, whole_out, "sliced and unsliced outputs differ");
    let want = quant::eval(&graph, entry.quant_scale_bits, &input).unwrap();
    assert_eq!(out.values, want[graph.output]);

    // Reordered.
    let mut r = proofs.clone();
    r.swap(1, 2);
    assert!(sliced.verify(&input, &r, &nonce).is_err());
    // A middle slice proved on another input (a valid proof of another statement).
    let other = sliced.random_input([10; 32]);
    let other_proofs = sliced.prove(&other, &nonce).unwrap();
    let mut s = proofs.clone();
    s[1] = other_proofs[1].clone();
    assert!(sliced.verify(&input, &s, &nonce).is_err());
    // Altered intermediate tensor.
    let mut a = proofs.clone();
    a[0].output.values[3] += 1;
    assert!(sliced.verify(&input, &a, &nonce).is_err());
    // Dropped slice.
    assert!(sliced.verify(&input, &proofs[..2], &nonce).is_err());
    // Wrong nonce, wrong challenge input.
    assert!(sliced.verify(&input, &proofs, &[2u8; 32]).is_err());
    assert!(sliced.verify(&other, &proofs, &nonce).is_err());
    // Whole-model proof presented for a slice.
    assert!(sliced
        .verify_slice(0, &input, &whole_proofs[0], &nonce)
        .is_err());
}

#[test]
fn ppocr_proves_and_matches_evaluator() {
    let reg = registry();
    let entry = reg.get("ppocr_cls_mobile_v2").unwrap().clone();
    let model = CompiledModel::from_registry(&reg, &entry).unwrap();
    assert!(model.has_trailing_softmax());
    let input = model.random_input([3; 32]);
    let proofs = model.prove(&input, b"nonce").unwrap();
    let out = model.verify(&input, &proofs, b"nonce").unwrap();
    let probs = model.finalize(&out);
    assert_eq!(probs.len(), 2);
    assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
}
