//! Slicing: clean cut points, split graphs chained against the whole graph,
//! greedy plans, and standalone ONNX slices run by tract.

use circuits::model::{float, onnx, reference, slice, Graph};
use circuits::registry::Registry;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn registry() -> Registry {
    Registry::load(format!("{}/../registry", env!("CARGO_MANIFEST_DIR"))).expect("registry loads")
}

fn model(name: &str) -> (Vec<u8>, Vec<usize>, Vec<String>) {
    let reg = registry();
    let e = reg.get(name).expect("model in registry").clone();
    let bytes = reg.read_onnx(&e).expect("model bytes");
    let shape = e.input_shape.iter().map(|&d| d as usize).collect();
    (bytes, shape, e.slices)
}

fn random_input(seed: u64, n: usize) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0f32..=1.0)).collect()
}

/// Evaluate slices one after the other, each fed the previous one's output.
fn chain(slices: &[Graph], input: &[f32]) -> Vec<f32> {
    let mut x = input.to_vec();
    for s in slices {
        x = float::eval(s, &x).expect("slice evaluates")[s.output].clone();
    }
    x
}

fn macs(g: &Graph) -> u64 {
    use circuits::model::Op;
    g.nodes
        .iter()
        .map(|n| match &n.op {
            Op::Dense { weight, .. } => {
                (weight.len() * g.tensors[n.output].len() / weight.shape[0]) as u64
            }
            Op::Conv(c) => (g.tensors[n.output].len() * c.weight.len() / c.weight.shape[0]) as u64,
            _ => g.tensors[n.output].len() as u64,
        })
        .sum()
}

#[test]
fn manifest_cuts_are_clean_and_split_chains_exactly() {
    for name in ["resnet_blocks", "ppocr_cls_mobile_v2", "digits_cnn"] {
        let (bytes, shape, names) = model(name);
        let g = onnx::load(&bytes, &shape).unwrap();
        let clean = slice::clean_cuts(&g);
        assert!(!clean.is_empty(), "{name} has clean cut points");
        let cuts = if names.is_empty() {
            // every other clean point
            clean.iter().copied().step_by(2).collect()
        } else {
            slice::cuts_by_name(&g, &names).unwrap()
        };
        for c in &cuts {
            assert!(
                clean.contains(c),
                "{name}: {} is a clean cut",
                g.tensors[*c].name
            );
        }
        let parts = slice::split(&g, &cuts).unwrap();
        assert_eq!(parts.len(), cuts.len() + 1);
        assert_eq!(
            parts.iter().map(|p| p.nodes.len()).sum::<usize>(),
            g.nodes.len()
        );
        for (k, p) in parts.iter().enumerate() {
            let want_out = cuts.get(k).copied().unwrap_or(g.output);
            assert_eq!(p.tensors[p.output].name, g.tensors[want_out].name);
        }
        let x = random_input(7, shape.iter().product());
        let whole = float::eval(&g, &x).unwrap()[g.output].clone();
        assert_eq!(
            chain(&parts, &x),
            whole,
            "{name}: chained slices equal the whole graph"
        );
    }
}

#[test]
fn residual_interiors_are_not_clean() {
    let (bytes, shape, _) = model("resnet_blocks");
    let g = onnx::load(&bytes, &shape).unwrap();
    let clean = slice::clean_cuts(&g);
    // inside a residual block the skip connection crosses every cut
    let inner = g.tensor_by_name("block2.relu1.out").or_else(|| {
        g.nodes
            .iter()
            .map(|n| n.output)
            .find(|t| !clean.contains(t) && *t != g.output)
    });
    let inner = inner.expect("a non-clean tensor");
    assert!(!clean.contains(&inner));
    assert!(slice::split(&g, &[inner]).is_err());
    // out of order and unknown cuts
    let names = ["block1.relu2.out", "block3.relu2.out"];
    let cuts = slice::cuts_by_name(&g, &names).unwrap();
    assert!(slice::split(&g, &[cuts[1], cuts[0]]).is_err());
    assert!(slice::split(&g, &[cuts[0], cuts[0]]).is_err());
    assert!(slice::split(&g, &[g.tensors.len()]).is_err());
    assert!(slice::split(&g, &[g.input]).is_err());
    assert!(slice::cuts_by_name(&g, &["no.such.tensor"]).is_err());
}

#[test]
fn auto_plan_respects_the_budget_greedily() {
    let (bytes, shape, _) = model("resnet_blocks");
    let g = onnx::load(&bytes, &shape).unwrap();
    let total = macs(&g);
    for budget in [total / 5, total / 3, total / 2, total] {
        let cuts = slice::auto_plan(&g, macs, budget).unwrap();
        let parts = slice::split(&g, &cuts).unwrap();
        let clean = slice::clean_cuts(&g);
        for (k, p) in parts.iter().enumerate() {
            let c = macs(p);
            // a slice over budget must be one that no clean point can shorten
            if c > budget {
                let lo_pos = if k == 0 { None } else { Some(cuts[k - 1]) };
                let inner_clean = p.nodes[..p.nodes.len() - 1].iter().any(|n| {
                    clean
                        .iter()
                        .any(|&t| g.tensors[t].name == p.tensors[n.output].name)
                });
                assert!(
                    !inner_clean,
                    "budget {budget}: slice {k} ({lo_pos:?}) could be cut"
                );
            }
            // greedy: the slice plus the next one would exceed the budget
            if k + 1 < parts.len() {
                let both = slice::split(&g, &[&cuts[..k], &cuts[k + 1..]].concat()).unwrap();
                assert!(
                    macs(&both[k]) > budget,
                    "budget {budget}: slices {k} and {} fit together",
                    k + 1
                );
            }
        }
        if budget >= total {
            assert!(cuts.is_empty());
        }
    }
}

#[test]
fn extracted_onnx_slices_run_in_tract_and_chain() {
    let (bytes, shape, names) = model("resnet_blocks");
    let g = onnx::load(&bytes, &shape).unwrap();
    let input_name = g.tensors[g.input].name.clone();
    let output_name = g.tensors[g.output].name.clone();
    let mut bounds = vec![input_name];
    bounds.extend(names.iter().cloned());
    bounds.push(output_name);

    let x = random_input(11, shape.iter().product());
    let whole = reference::run(&bytes, &shape, &x).unwrap();
    let mut cur = x.clone();
    let mut cur_shape = shape.clone();
    for w in bounds.windows(2) {
        let part = onnx::extract_slice(&bytes, &shape, &w[0], &w[1]).unwrap();
        assert!(
            part.len() < bytes.len(),
            "only the needed initializers are kept"
        );
        // our loader reads the standalone slice too
        let sg = onnx::load(&part, &cur_shape).unwrap();
        let ours = float::eval(&sg, &cur).unwrap()[sg.output].clone();
        cur = reference::run(&part, &cur_shape, &cur).unwrap();
        let scale = cur.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
        let err = ours
            .iter()
            .zip(&cur)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err / scale < 1e-4, "slice {w:?}: ours vs tract {err}");
        cur_shape = sg.shape(sg.output).to_vec();
    }
    let scale = whole.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
    let err = whole
        .iter()
        .zip(&cur)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(
        err / scale < 1e-4,
        "chained tract slices vs whole model: {err}"
    );

    // a slice starting inside a residual block also needs the skip tensor
    assert!(onnx::extract_slice(&bytes, &shape, "block1.relu2.out", "block2.relu1.out").is_ok());
    assert!(onnx::extract_slice(&bytes, &shape, "block2.relu1.out", "block2.add").is_err());
    assert!(onnx::extract_slice(&bytes, &shape, "block1.relu2.out", "no.such").is_err());
}

#[test]
fn extracted_ppocr_tail_keeps_its_shape_subgraph() {
    let (bytes, shape, _) = model("ppocr_cls_mobile_v2");
    let g = onnx::load(&bytes, &shape).unwrap();
    let clean = slice::clean_cuts(&g);
    // the last clean point before the pooling head: the tail contains the
    // Shape/Slice/Cast/Concat → Reshape chain that must travel with it
    let cut = *clean
        .iter()
        .rev()
        .find(|&&t| g.shape(t).len() == 4 && g.shape(t)[2] > 1)
        .expect("a spatial clean cut");
    let from = g.tensors[cut].name.clone();
    let to = g.tensors[g.output].name.clone();
    let head = onnx::extract_slice(&bytes, &shape, &g.tensors[g.input].name, &from).unwrap();
    let tail = onnx::extract_slice(&bytes, &shape, &from, &to).unwrap();

    let x = random_input(5, shape.iter().product());
    let whole = reference::run(&bytes, &shape, &x).unwrap();
    let mid = reference::run(&head, &shape, &x).unwrap();
    let out = reference::run(&tail, g.shape(cut), &mid).unwrap();
    let err = whole
        .iter()
        .zip(&out)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(err < 1e-5, "head+tail vs whole: {err}");

    // and our loader reads the tail with the boundary as its input
    let tg = onnx::load(&tail, g.shape(cut)).unwrap();
    let ours = float::eval(&tg, &mid).unwrap()[tg.output].clone();
    let err = ours
        .iter()
        .zip(&out)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(err < 1e-5, "our tail vs tract tail: {err}");
}

#[test]
fn slice_from_a_folded_tensor_keeps_its_batchnorm() {
    let (bytes, shape, _) = model("resnet_blocks");
    // "stem.conv.out" disappears from the loaded graph (its BatchNorm is
    // folded into the Conv), but it is still a valid slice boundary
    let g = onnx::load(&bytes, &shape).unwrap();
    assert!(g.tensor_by_name("stem.conv.out").is_none());
    let part = onnx::extract_slice(&bytes, &shape, "stem.conv.out", "block0.relu2.out").unwrap();
    let in_shape = [1, 16, 16, 16];
    let sg = onnx::load(&part, &in_shape).unwrap();
    assert_eq!(sg.nodes[0].op.name(), "ChannelAffine");
    let x = random_input(3, in_shape.iter().product());
    let ours = float::eval(&sg, &x).unwrap()[sg.output].clone();
    let theirs = reference::run(&part, &in_shape, &x).unwrap();
    let scale = theirs.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
    let err = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(err / scale < 1e-5, "{err}");
    assert!(onnx::extract_slice(&bytes, &shape, "stem.bn.gamma", "block0.relu2.out").is_err());
}
