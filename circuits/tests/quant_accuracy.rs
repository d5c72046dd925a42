//! Quantization accuracy against the float reference, per registry model:
//! argmax agreement on seeded random inputs (uniform in [-1, 1]) and the
//! worst error relative to the output's magnitude. Prints the numbers that
//! docs/BENCHMARKS.md records.

use std::path::PathBuf;

use circuits::model::{float, onnx, quant, QTensor};
use circuits::registry::Registry;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn accuracy(name: &str, samples: usize) -> (f64, f64) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../registry");
    let reg = Registry::load(dir).unwrap();
    let entry = reg.get(name).unwrap().clone();
    let bytes = reg.read_onnx(&entry).unwrap();
    let shape: Vec<usize> = entry.input_shape.iter().map(|&d| d as usize).collect();
    let mut graph = onnx::load(&bytes, &shape).unwrap();
    // Compare logits: a trailing Softmax is applied outside the proof.
    if let Some(last) = graph.nodes.last() {
        if matches!(last.op, circuits::model::Op::Softmax { .. }) {
            graph.output = last.inputs[0];
            graph.nodes.pop();
        }
    }
    let s = entry.quant_scale_bits;
    let n: usize = shape.iter().product();
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let (mut agree, mut worst) = (0usize, 0f64);
    for _ in 0..samples {
        let x: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..=1.0)).collect();
        let qx = QTensor::quantize(shape.clone(), s, &x).unwrap();
        let f = float::eval(&graph, &qx.dequantize()).unwrap();
        let q = quant::eval(&graph, s, &qx).unwrap();
        let fo = &f[graph.output];
        let qo: Vec<f64> = q[graph.output]
            .iter()
            .map(|&v| v as f64 / (1u64 << s) as f64)
            .collect();
        let argmax = |v: &mut dyn Iterator<Item = f64>| {
            v.enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |b, (i, x)| if x > b.1 { (i, x) } else { b },
                )
                .0
        };
        if argmax(&mut fo.iter().map(|&v| v as f64)) == argmax(&mut qo.iter().copied()) {
            agree += 1;
        }
        let mag = fo
            .iter()
            .map(|v| v.abs() as f64)
            .fold(0.0, f64::max)
            .max(1e-6);
        let err = fo
            .iter()
            .zip(&qo)
            .map(|(&a, &b)| (a as f64 - b).abs())
            .fold(0.0, f64::max);
        worst = worst.max(err / mag);
    }
    let rate = agree as f64 / samples as f64;
    println!(
        "{name}: argmax agreement {:.1}% over {samples}, max relative error {:.2e}",
        rate * 100.0,
        worst
    );
    (rate, worst)
}

#[test]
fn digits_models_agree_with_float() {
    for name in ["digits_mlp", "digits_cnn"] {
        let (rate, worst) = accuracy(name, 300);
        assert!(rate >= 0.99, "{name}: argmax agreement {rate}");
        assert!(worst < 0.05, "{name}: relative error {worst}");
    }
}

#[test]
fn ppocr_agrees_with_float() {
    let (rate, worst) = accuracy("ppocr_cls_mobile_v2", 40);
    assert!(rate >= 0.95, "argmax agreement {rate}");
    assert!(worst < 0.1, "relative error {worst}");
}

#[test]
fn resnet_blocks_error_is_bounded() {
    let (_, worst) = accuracy("resnet_blocks", 20);
    assert!(worst < 0.05, "relative error {worst}");
}
