//! The ONNX loader and the float evaluator on the four registry models,
//! checked against tract's unoptimized float inference.

use circuits::model::{float, onnx, reference, Graph, Op};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const MODELS: [(&str, &[usize]); 4] = [
    ("digits_mlp", &[1, 64]),
    ("digits_cnn", &[1, 1, 8, 8]),
    ("resnet_blocks", &[1, 3, 32, 32]),
    ("ppocr_cls_mobile_v2", &[1, 3, 48, 192]),
];

fn model_bytes(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../registry/models/{name}.onnx",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn random_input(seed: u64, n: usize) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0f32..=1.0)).collect()
}

fn count(g: &Graph, name: &str) -> usize {
    g.nodes.iter().filter(|n| n.op.name() == name).count()
}

fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .expect("non-empty")
}

/// max |a - b| / max(1e-3, max |b|)
fn rel_err(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
        / scale
}

#[test]
fn registry_models_load_to_static_graphs() {
    for (name, shape) in MODELS {
        let g = onnx::load(&model_bytes(name), shape).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(g.shape(g.input), shape, "{name}");
        // nodes are topologically ordered: every input is produced earlier
        let mut ready = vec![false; g.tensors.len()];
        ready[g.input] = true;
        for n in &g.nodes {
            assert!(
                n.inputs.iter().all(|&t| ready[t]),
                "{name}: {} out of order",
                n.name
            );
            ready[n.output] = true;
        }
        assert!(ready[g.output], "{name}");
    }
}

#[test]
fn lowering_folds_what_it_should() {
    let g = onnx::load(&model_bytes("resnet_blocks"), &[1, 3, 32, 32]).unwrap();
    // every BatchNormalization follows a Conv and disappears into it
    assert_eq!(count(&g, "ChannelAffine"), 0);
    assert_eq!(count(&g, "Conv"), 13);
    assert_eq!(count(&g, "Add"), 6);
    assert!(g.tensor_by_name("block1.relu2.out").is_some());

    let g = onnx::load(&model_bytes("ppocr_cls_mobile_v2"), &[1, 3, 48, 192]).unwrap();
    assert_eq!(g.shape(g.output), [1, 2]);
    // the output is reached through Identity but keeps the model's name
    assert_eq!(g.tensors[g.output].name, "save_infer_model/scale_0.tmp_1");
    // 18 `x * Clip(x + 3, 0, 6) / 6` become HardSwish; the shape subgraph
    // and the squeeze-excite bias Adds fold away.
    assert_eq!(count(&g, "HardSwish"), 18);
    assert_eq!(count(&g, "Clip"), 0);
    assert_eq!(count(&g, "AddConst"), 0);
    assert_eq!(count(&g, "ChannelAffine"), 0);
    assert_eq!(
        count(&g, "Mul"),
        9,
        "squeeze-excite gates stay tensor*tensor"
    );
    assert_eq!(count(&g, "Dense"), 1);
    assert!(matches!(
        g.nodes.last().unwrap().op,
        Op::Softmax { axis: 1 }
    ));
}

#[test]
fn float_eval_matches_tract() {
    for (name, shape) in MODELS {
        let bytes = model_bytes(name);
        let g = onnx::load(&bytes, shape).unwrap();
        let n: usize = shape.iter().product();
        let seeds: &[u64] = if name == "ppocr_cls_mobile_v2" {
            &[1, 2, 3]
        } else {
            &[1, 2, 3, 4, 5]
        };
        for &seed in seeds {
            let x = random_input(seed, n);
            let ours = float::eval(&g, &x).unwrap();
            let ours = &ours[g.output];
            let theirs = reference::run(&bytes, shape, &x).unwrap();
            let err = rel_err(ours, &theirs);
            assert!(err < 1e-4, "{name} seed {seed}: relative error {err}");
            assert_eq!(argmax(ours), argmax(&theirs), "{name} seed {seed}");
        }
    }
}

#[test]
fn wrong_input_rank_is_a_shape_error() {
    let err = onnx::load(&model_bytes("digits_cnn"), &[1, 64]).unwrap_err();
    assert!(
        matches!(err, circuits::model::ModelError::Shape { .. }),
        "{err}"
    );
    let err = onnx::load(&model_bytes("digits_mlp"), &[1, 65]).unwrap_err();
    assert!(
        matches!(err, circuits::model::ModelError::Shape { .. }),
        "{err}"
    );
}

#[test]
fn hostile_bytes_never_panic() {
    let bytes = model_bytes("digits_cnn");
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut ok = 0;
    for i in 0..400 {
        let mut b = bytes.clone();
        if i % 2 == 0 {
            b.truncate(rng.random_range(0..bytes.len()));
        } else {
            for _ in 0..rng.random_range(1..8) {
                let at = rng.random_range(0..b.len());
                b[at] ^= 1 << rng.random_range(0..8);
            }
        }
        let r = std::panic::catch_unwind(|| onnx::load(&b, &[1, 1, 8, 8]));
        let r = r.unwrap_or_else(|_| panic!("loader panicked on mutation {i}"));
        if let Ok(g) = r {
            ok += 1;
            // a graph that loads must also evaluate without panicking
            let n = g.tensors[g.input].len();
            let _ = float::eval(&g, &vec![0.5; n]);
        }
    }
    // Most mutations must be caught; some flips land in weights and still load.
    assert!(ok < 400);
    assert!(onnx::load(&[], &[1, 1, 8, 8]).is_err());

    // the bigger model, with Constant nodes and a shape subgraph
    let bytes = model_bytes("ppocr_cls_mobile_v2");
    for i in 0..60 {
        let mut b = bytes.clone();
        if i % 3 == 0 {
            b.truncate(rng.random_range(0..bytes.len()));
        } else {
            for _ in 0..rng.random_range(1..16) {
                let at = rng.random_range(0..b.len());
                b[at] = rng.random();
            }
        }
        let r = std::panic::catch_unwind(|| onnx::load(&b, &[1, 3, 48, 192]));
        assert!(r.is_ok(), "loader panicked on PP-OCR mutation {i}");
    }
}

#[test]
fn reference_refuses_garbage() {
    let err = reference::run(b"definitely not onnx", &[1, 64], &[0.0; 64]).unwrap_err();
    assert!(
        matches!(err, circuits::model::ModelError::Reference(_)),
        "{err}"
    );
    let bytes = model_bytes("digits_mlp");
    assert!(reference::run(&bytes, &[1, 64], &[0.0; 63]).is_err());
}

/// Prints load times; run with
/// `cargo test --release -p circuits --test onnx_registry -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: prints timings"]
fn load_timing() {
    for (name, shape) in MODELS {
        let bytes = model_bytes(name);
        let runs = 20;
        let start = std::time::Instant::now();
        for _ in 0..runs {
            std::hint::black_box(onnx::load(&bytes, shape).unwrap());
        }
        let per = start.elapsed() / runs;
        let g = onnx::load(&bytes, shape).unwrap();
        let x = random_input(1, shape.iter().product());
        let start = std::time::Instant::now();
        std::hint::black_box(float::eval(&g, &x).unwrap());
        let eval = start.elapsed();
        println!(
            "{name:>22}: {:>7} bytes, {:>3} IR nodes, load {per:>10.2?}, float eval {eval:>10.2?}",
            bytes.len(),
            g.nodes.len()
        );
    }
}
