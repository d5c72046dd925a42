//! Per-op agreement: for every supported op, the compiled circuit's output
//! (proved and verified) equals the exact quantized evaluator on random
//! inputs, including negative values, padding, strides, groups, dilation,
//! broadcasting and odd shapes.

use circuits::model::ir::{Const, Conv2d, Graph, Node, Op, Pool2d, TensorInfo};
use circuits::model::{quant, QTensor};
use circuits::registry::ModelId;
use circuits::zkml::CompiledModel;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const S: u8 = 12;

fn rand_const(rng: &mut ChaCha8Rng, shape: &[usize], scale: f32) -> Const {
    let n = shape.iter().product();
    Const::new(
        shape.to_vec(),
        (0..n).map(|_| rng.random_range(-scale..scale)).collect(),
    )
}

/// A chain of single-input nodes (plus optional second inputs) from `input`.
struct G {
    g: Graph,
}

impl G {
    fn new(shape: &[usize]) -> Self {
        G {
            g: Graph {
                tensors: vec![TensorInfo {
                    name: "x".into(),
                    shape: shape.to_vec(),
                }],
                nodes: vec![],
                input: 0,
                output: 0,
            },
        }
    }
    fn node(&mut self, op: Op, inputs: &[usize], out_shape: &[usize]) -> usize {
        let t = self.g.tensors.len();
        self.g.tensors.push(TensorInfo {
            name: format!("t{t}"),
            shape: out_shape.to_vec(),
        });
        self.g.nodes.push(Node {
            name: format!("{}@{}", op.name(), self.g.nodes.len()),
            op,
            inputs: inputs.to_vec(),
            output: t,
        });
        self.g.output = t;
        t
    }
}

/// Proves the graph on several random inputs and compares with `quant::eval`.
fn agree(g: &Graph, seed: u64) {
    let model = CompiledModel::compile(ModelId([7; 32]), "op", g, S, &[]).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for round in 0..3 {
        let n: usize = g.tensors[g.input].shape.iter().product();
        let values = (0..n)
            .map(|_| rng.random_range(-(3i64 << S)..=(3i64 << S)))
            .collect();
        let input = QTensor::new(g.tensors[g.input].shape.clone(), S, values).unwrap();
        let nonce = [round as u8; 32];
        let proofs = model.prove(&input, &nonce).unwrap();
        let out = model.verify(&input, &proofs, &nonce).unwrap();
        let want = quant::eval(g, S, &input).unwrap();
        assert_eq!(out.values, want[g.output], "round {round}");
    }
}

#[test]
fn dense_with_and_without_bias_then_relu() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut g = G::new(&[2, 7]);
    let w = rand_const(&mut rng, &[5, 7], 1.0);
    let b = rand_const(&mut rng, &[5], 1.0);
    let d = g.node(
        Op::Dense {
            weight: w,
            bias: Some(b),
        },
        &[0],
        &[2, 5],
    );
    let r = g.node(Op::Relu, &[d], &[2, 5]);
    let w2 = rand_const(&mut rng, &[3, 5], 1.0);
    g.node(
        Op::Dense {
            weight: w2,
            bias: None,
        },
        &[r],
        &[2, 3],
    );
    agree(&g.g, 10);
}

#[allow(clippy::too_many_arguments)]
fn conv(
    rng: &mut ChaCha8Rng,
    oc: usize,
    icpg: usize,
    k: [usize; 2],
    strides: [usize; 2],
    pads: [usize; 4],
    dil: [usize; 2],
    groups: usize,
) -> Conv2d {
    Conv2d {
        weight: rand_const(rng, &[oc, icpg, k[0], k[1]], 0.5),
        bias: Some(rand_const(rng, &[oc], 0.5)),
        strides,
        pads,
        dilations: dil,
        groups,
    }
}

#[test]
fn conv_stride_padding_groups_dilation() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    // 4 input channels, 5x7 (odd), stride 2x1, asymmetric padding.
    let mut g = G::new(&[1, 4, 5, 7]);
    let c1 = conv(&mut rng, 6, 2, [3, 3], [2, 1], [1, 0, 1, 2], [1, 1], 2);
    // out h = (5+2-3)/2+1 = 3, w = (7+2-3)/1+1 = 7
    let a = g.node(Op::Conv(c1), &[0], &[1, 6, 3, 7]);
    let r = g.node(Op::Relu, &[a], &[1, 6, 3, 7]);
    // depthwise, dilation 2, no bias
    let mut c2 = conv(&mut rng, 6, 1, [2, 2], [1, 1], [1, 1, 1, 1], [2, 2], 6);
    c2.bias = None;
    // out h = (3+2-3)/1+1 = 3, w = (7+2-3)+1 = 7
    g.node(Op::Conv(c2), &[r], &[1, 6, 3, 7]);
    agree(&g.g, 20);
}

#[test]
fn pools_with_padding_and_global_average() {
    let mut g = G::new(&[1, 3, 5, 5]);
    let mp = Pool2d {
        kernel: [3, 3],
        strides: [2, 2],
        pads: [1, 1, 1, 1],
        count_include_pad: false,
    };
    let a = g.node(Op::MaxPool(mp), &[0], &[1, 3, 3, 3]);
    let ap = Pool2d {
        kernel: [2, 2],
        strides: [1, 1],
        pads: [0, 0, 1, 1],
        count_include_pad: false,
    };
    let b = g.node(Op::AveragePool(ap.clone()), &[a], &[1, 3, 3, 3]);
    let c = g.node(
        Op::AveragePool(Pool2d {
            count_include_pad: true,
            ..ap
        }),
        &[b],
        &[1, 3, 3, 3],
    );
    g.node(Op::GlobalAveragePool, &[c], &[1, 3, 1, 1]);
    agree(&g.g, 30);
}

#[test]
fn elementwise_broadcast_and_constants() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut g = G::new(&[1, 3, 2, 2]);
    let a = g.node(
        Op::MulConst {
            c: rand_const(&mut rng, &[3, 1, 1], 2.0),
        },
        &[0],
        &[1, 3, 2, 2],
    );
    let b = g.node(
        Op::AddConst {
            c: rand_const(&mut rng, &[2], 2.0),
        },
        &[a],
        &[1, 3, 2, 2],
    );
    let gap = g.node(Op::GlobalAveragePool, &[b], &[1, 3, 1, 1]);
    // squeeze-excite style gating: b * broadcast(gap)
    let m = g.node(Op::Mul, &[b, gap], &[1, 3, 2, 2]);
    let s = g.node(Op::Sub, &[m, 0], &[1, 3, 2, 2]);
    let ad = g.node(Op::Add, &[s, a], &[1, 3, 2, 2]);
    let ca = g.node(
        Op::ChannelAffine {
            scale: rand_const(&mut rng, &[3], 1.5),
            shift: rand_const(&mut rng, &[3], 1.5),
        },
        &[ad],
        &[1, 3, 2, 2],
    );
    g.node(Op::Reshape, &[ca], &[1, 12]);
    agree(&g.g, 40);
}

#[test]
fn clip_hardsigmoid_hardswish() {
    let mut g = G::new(&[2, 9]);
    let a = g.node(Op::Clip { lo: -1.5, hi: 2.25 }, &[0], &[2, 9]);
    let b = g.node(Op::HardSwish, &[a], &[2, 9]);
    let c = g.node(Op::Add, &[b, 0], &[2, 9]);
    g.node(
        Op::HardSigmoid {
            alpha: 0.2,
            beta: 0.5,
        },
        &[c],
        &[2, 9],
    );
    agree(&g.g, 50);
}

#[test]
fn relu_shared_with_another_consumer_is_not_fused() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let mut g = G::new(&[1, 4]);
    let d = g.node(
        Op::Dense {
            weight: rand_const(&mut rng, &[4, 4], 1.0),
            bias: None,
        },
        &[0],
        &[1, 4],
    );
    let r = g.node(Op::Relu, &[d], &[1, 4]);
    g.node(Op::Sub, &[r, d], &[1, 4]);
    agree(&g.g, 60);
}

#[test]
fn overflow_is_an_error_not_a_wrong_proof() {
    let mut g = G::new(&[1, 2]);
    let w = Const::new(vec![1, 2], vec![1000.0, 1000.0]);
    g.node(
        Op::Dense {
            weight: w,
            bias: None,
        },
        &[0],
        &[1, 1],
    );
    let model = CompiledModel::compile(ModelId([7; 32]), "op", &g.g, S, &[]).unwrap();
    let big = 1i64 << 30;
    let input = QTensor::new(vec![1, 2], S, vec![big, big]).unwrap();
    assert!(quant::eval(&g.g, S, &input).is_err());
    let err = model.prove(&input, b"n").unwrap_err().to_string();
    assert!(err.contains("range"), "{err}");
}
