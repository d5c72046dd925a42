//! Per-op checks on small hand-built ONNX graphs: our loader + float
//! evaluator against tract on the same bytes.

use circuits::model::{float, onnx, reference, Graph, ModelError, Op};
use prost::Message;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tract_onnx::pb::{
    attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto::dimension,
    tensor_shape_proto::Dimension, type_proto, AttributeProto, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

fn rand_vec(seed: u64, n: usize) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0f32..=1.0)).collect()
}

fn ft(name: &str, dims: &[usize], data: Vec<f32>) -> TensorProto {
    assert_eq!(dims.iter().product::<usize>(), data.len());
    TensorProto {
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        float_data: data,
        name: name.into(),
        ..Default::default()
    }
}

fn rt(name: &str, dims: &[usize], seed: u64) -> TensorProto {
    ft(name, dims, rand_vec(seed, dims.iter().product()))
}

fn it(name: &str, data: Vec<i64>) -> TensorProto {
    TensorProto {
        dims: vec![data.len() as i64],
        data_type: DataType::Int64 as i32,
        int64_data: data,
        name: name.into(),
        ..Default::default()
    }
}

enum A {
    I(i64),
    F(f32),
    Is(Vec<i64>),
    S(&'static str),
}

fn node(op: &str, inputs: &[&str], output: &str, attrs: Vec<(&str, A)>) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        name: format!("{op}_{output}"),
        op_type: op.into(),
        attribute: attrs
            .into_iter()
            .map(|(k, v)| {
                let mut a = AttributeProto {
                    name: k.into(),
                    ..Default::default()
                };
                match v {
                    A::I(i) => {
                        a.i = i;
                        a.r#type = AttributeType::Int as i32;
                    }
                    A::F(f) => {
                        a.f = f;
                        a.r#type = AttributeType::Float as i32;
                    }
                    A::Is(v) => {
                        a.ints = v;
                        a.r#type = AttributeType::Ints as i32;
                    }
                    A::S(s) => {
                        a.s = s.as_bytes().to_vec();
                        a.r#type = AttributeType::String as i32;
                    }
                }
                a
            })
            .collect(),
        ..Default::default()
    }
}

fn vi(name: &str, shape: Option<&[usize]>) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            denotation: String::new(),
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: 1,
                shape: shape.map(|s| TensorShapeProto {
                    dim: s
                        .iter()
                        .map(|&d| Dimension {
                            denotation: String::new(),
                            value: Some(dimension::Value::DimValue(d as i64)),
                        })
                        .collect(),
                }),
            })),
        }),
        doc_string: String::new(),
    }
}

/// A model with graph input "x" of `shape` and output "y".
fn model(opset: i64, shape: &[usize], nodes: Vec<NodeProto>, inits: Vec<TensorProto>) -> Vec<u8> {
    ModelProto {
        ir_version: 7,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        graph: Some(GraphProto {
            node: nodes,
            name: "t".into(),
            initializer: inits,
            input: vec![vi("x", Some(shape))],
            output: vec![vi("y", None)],
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

/// Load, evaluate, compare with tract; return the graph for structural checks.
fn check(bytes: &[u8], shape: &[usize]) -> Graph {
    let g = onnx::load(bytes, shape).unwrap_or_else(|e| panic!("load: {e}"));
    for seed in 0..3 {
        let x = rand_vec(100 + seed, shape.iter().product());
        let ours = float::eval(&g, &x).unwrap()[g.output].clone();
        let theirs = reference::run(bytes, shape, &x).unwrap_or_else(|e| panic!("tract: {e}"));
        assert_eq!(ours.len(), theirs.len());
        let scale = theirs.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
        let err = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(
            err / scale < 1e-5,
            "max error {err} (scale {scale})\nours {ours:?}\ntract {theirs:?}"
        );
    }
    g
}

fn ops(g: &Graph) -> Vec<&'static str> {
    g.nodes.iter().map(|n| n.op.name()).collect()
}

#[test]
fn conv_strides_pads_dilations_groups() {
    let shape = [1, 4, 9, 11];
    let n = node(
        "Conv",
        &["x", "w", "b"],
        "y",
        vec![
            ("group", A::I(2)),
            ("strides", A::Is(vec![2, 1])),
            ("pads", A::Is(vec![1, 0, 2, 1])),
            ("dilations", A::Is(vec![2, 1])),
        ],
    );
    let b = model(
        13,
        &shape,
        vec![n],
        vec![rt("w", &[6, 2, 3, 2], 1), rt("b", &[6], 2)],
    );
    let g = check(&b, &shape);
    // H: (9 + 1 + 2 - 5) / 2 + 1, W: (11 + 0 + 1 - 2) / 1 + 1
    assert_eq!(g.shape(g.output), [1, 6, 4, 11]);

    for auto in ["SAME_UPPER", "SAME_LOWER", "VALID"] {
        let n = node(
            "Conv",
            &["x", "w"],
            "y",
            vec![("auto_pad", A::S(auto)), ("strides", A::Is(vec![2, 2]))],
        );
        let b = model(13, &shape, vec![n], vec![rt("w", &[3, 4, 4, 3], 3)]);
        check(&b, &shape);
    }
}

#[test]
fn batchnorm_folds_into_conv_or_becomes_channel_affine() {
    let shape = [1, 3, 6, 6];
    let bn = |i: &str, o: &str| {
        node(
            "BatchNormalization",
            &[i, "s", "bb", "m", "v"],
            o,
            vec![("epsilon", A::F(1e-3))],
        )
    };
    let var = ft("v", &[4], vec![0.5, 1.5, 2.0, 0.1]);
    let params = || {
        vec![
            rt("w", &[4, 3, 3, 3], 1),
            rt("s", &[4], 2),
            rt("bb", &[4], 3),
            rt("m", &[4], 4),
            var.clone(),
        ]
    };
    let b = model(
        13,
        &shape,
        vec![node("Conv", &["x", "w"], "c", vec![]), bn("c", "y")],
        params(),
    );
    assert_eq!(ops(&check(&b, &shape)), ["Conv"]);

    // the conv output has a second reader: no fold
    let b = model(
        13,
        &shape,
        vec![
            node("Conv", &["x", "w"], "c", vec![]),
            bn("c", "d"),
            node("Add", &["c", "d"], "y", vec![]),
        ],
        params(),
    );
    assert_eq!(ops(&check(&b, &shape)), ["Conv", "ChannelAffine", "Add"]);
}

#[test]
fn pools_with_padding() {
    let shape = [1, 2, 7, 8];
    for (op, extra) in [
        ("MaxPool", None),
        ("AveragePool", Some(0)),
        ("AveragePool", Some(1)),
    ] {
        let mut attrs = vec![
            ("kernel_shape", A::Is(vec![3, 2])),
            ("strides", A::Is(vec![2, 3])),
            ("pads", A::Is(vec![1, 1, 2, 0])),
        ];
        if let Some(c) = extra {
            attrs.push(("count_include_pad", A::I(c)));
        }
        let b = model(13, &shape, vec![node(op, &["x"], "y", attrs)], vec![]);
        check(&b, &shape);
    }
    let b = model(
        13,
        &shape,
        vec![node("GlobalAveragePool", &["x"], "y", vec![])],
        vec![],
    );
    check(&b, &shape);

    let ceil = node(
        "MaxPool",
        &["x"],
        "y",
        vec![("kernel_shape", A::Is(vec![2, 2])), ("ceil_mode", A::I(1))],
    );
    let err = onnx::load(&model(13, &shape, vec![ceil], vec![]), &shape).unwrap_err();
    assert!(
        matches!(err, ModelError::Unsupported { ref node, .. } if node == "MaxPool_y"),
        "{err}"
    );
}

#[test]
fn gemm_and_matmul() {
    let shape = [1, 5];
    let n = node(
        "Gemm",
        &["x", "b", "c"],
        "y",
        vec![
            ("transB", A::I(1)),
            ("alpha", A::F(0.5)),
            ("beta", A::F(2.0)),
        ],
    );
    let b = model(
        13,
        &shape,
        vec![n],
        vec![rt("b", &[3, 5], 1), rt("c", &[3], 2)],
    );
    assert_eq!(ops(&check(&b, &shape)), ["Dense"]);
    let n = node("Gemm", &["x", "b", "c"], "y", vec![]);
    let b = model(
        13,
        &shape,
        vec![n],
        vec![rt("b", &[5, 4], 3), rt("c", &[1, 4], 4)],
    );
    check(&b, &shape);
    // MatMul then a bias Add folds into one Dense
    let b = model(
        13,
        &[2, 3, 5],
        vec![
            node("MatMul", &["x", "w"], "m", vec![]),
            node("Add", &["m", "c"], "y", vec![]),
        ],
        vec![rt("w", &[5, 4], 5), rt("c", &[4], 6)],
    );
    assert_eq!(ops(&check(&b, &[2, 3, 5])), ["Dense"]);
    let n = node("Gemm", &["x", "b"], "y", vec![("transA", A::I(1))]);
    let err = onnx::load(
        &model(13, &shape, vec![n], vec![rt("b", &[1, 4], 3)]),
        &shape,
    )
    .unwrap_err();
    assert!(matches!(err, ModelError::Unsupported { .. }), "{err}");
}

#[test]
fn broadcasting_binary_ops() {
    let shape = [1, 3, 4, 5];
    // tensor (op) tensor with broadcasting through a [1,3,1,1] pooled tensor
    for op in ["Add", "Sub", "Mul"] {
        let b = model(
            13,
            &shape,
            vec![
                node("GlobalAveragePool", &["x"], "p", vec![]),
                node(op, &["p", "x"], "y", vec![]),
            ],
            vec![],
        );
        assert_eq!(ops(&check(&b, &shape))[1], op);
    }
    // tensor (op) constant, constant on either side
    for op in ["Add", "Sub", "Mul", "Div"] {
        let b = model(
            13,
            &shape,
            vec![node(op, &["x", "c"], "y", vec![])],
            vec![rt("c", &[4, 1], 7)],
        );
        check(&b, &shape);
        if op != "Div" {
            let b = model(
                13,
                &shape,
                vec![node(op, &["c", "x"], "y", vec![])],
                vec![rt("c", &[3, 1, 5], 8)],
            );
            check(&b, &shape);
        }
    }
    let b = model(
        13,
        &shape,
        vec![node("Div", &["c", "x"], "y", vec![])],
        vec![rt("c", &[1], 9)],
    );
    assert!(matches!(
        onnx::load(&b, &shape),
        Err(ModelError::Unsupported { .. })
    ));
}

#[test]
fn clip_hardsigmoid_hardswish() {
    let shape = [2, 7];
    let scalar = |n: &str, v: f32| ft(n, &[], vec![v]);
    let b = model(
        11,
        &shape,
        vec![node("Clip", &["x", "lo", "hi"], "y", vec![])],
        vec![scalar("lo", -0.5), scalar("hi", 0.7)],
    );
    assert_eq!(ops(&check(&b, &shape)), ["Clip"]);
    let b = model(
        6,
        &shape,
        vec![node(
            "Clip",
            &["x"],
            "y",
            vec![("min", A::F(-0.2)), ("max", A::F(0.3))],
        )],
        vec![],
    );
    assert_eq!(ops(&check(&b, &shape)), ["Clip"]);
    let b = model(
        11,
        &shape,
        vec![node("Clip", &["x", "lo"], "y", vec![])],
        vec![scalar("lo", 0.0)],
    );
    assert_eq!(ops(&check(&b, &shape)), ["Relu"]);
    let b = model(
        11,
        &shape,
        vec![node("Clip", &["x", "", "hi"], "y", vec![])],
        vec![scalar("hi", 1.0)],
    );
    assert!(matches!(
        onnx::load(&b, &shape),
        Err(ModelError::Unsupported { .. })
    ));

    let b = model(
        13,
        &shape,
        vec![node(
            "HardSigmoid",
            &["x"],
            "y",
            vec![("alpha", A::F(0.3)), ("beta", A::F(0.4))],
        )],
        vec![],
    );
    assert_eq!(ops(&check(&b, &shape)), ["HardSigmoid"]);
    // x * HardSigmoid(x) with 1/6, 1/2 is HardSwish; other constants are not
    for (alpha, want) in [
        (1.0 / 6.0, vec!["HardSwish"]),
        (0.2, vec!["HardSigmoid", "Mul"]),
    ] {
        let b = model(
            13,
            &shape,
            vec![
                node(
                    "HardSigmoid",
                    &["x"],
                    "h",
                    vec![("alpha", A::F(alpha)), ("beta", A::F(0.5))],
                ),
                node("Mul", &["x", "h"], "y", vec![]),
            ],
            vec![],
        );
        assert_eq!(ops(&check(&b, &shape)), want);
    }
    // the HardSwish op itself (opset 14), and Identity/Dropout vanish
    let b = model(
        14,
        &shape,
        vec![
            node("Identity", &["x"], "i", vec![]),
            node("Dropout", &["i"], "d", vec![]),
            node("HardSwish", &["d"], "y", vec![]),
        ],
        vec![],
    );
    assert_eq!(ops(&check(&b, &shape)), ["HardSwish"]);

    // x * Clip(x + 3, 0, 6) / 6, as PaddlePaddle writes it
    let b = model(
        11,
        &shape,
        vec![
            node("Add", &["x", "three"], "a", vec![]),
            node("Clip", &["a", "zero", "six"], "c", vec![]),
            node("Mul", &["x", "c"], "m", vec![]),
            node("Div", &["m", "six"], "y", vec![]),
        ],
        vec![
            scalar("three", 3.0),
            scalar("zero", 0.0),
            scalar("six", 6.0),
        ],
    );
    assert_eq!(ops(&check(&b, &[2, 7])), ["HardSwish"]);
    // stretch the inputs so that both clip bounds are hit
    let g = onnx::load(&b, &shape).unwrap();
    let x: Vec<f32> = (0..14).map(|i| i as f32 - 7.0).collect();
    let ours = float::eval(&g, &x).unwrap()[g.output].clone();
    let theirs = reference::run(&b, &shape, &x).unwrap();
    for (a, t) in ours.iter().zip(&theirs) {
        assert!((a - t).abs() < 1e-5, "{ours:?} vs {theirs:?}");
    }
}

#[test]
fn shapes_fold_and_reshapes_lower() {
    let shape = [2, 3, 4, 5];
    // Reshape with a shape computed from Shape/Gather/Concat, using 0 and -1
    let nodes = vec![
        node("Shape", &["x"], "s", vec![]),
        node("Gather", &["s", "i0"], "d0", vec![("axis", A::I(0))]),
        node("Concat", &["d0", "m1"], "target", vec![("axis", A::I(0))]),
        node("Cast", &["target"], "target64", vec![("to", A::I(7))]),
        node("Reshape", &["x", "target64"], "r", vec![]),
        node("Unsqueeze", &["r", "ax"], "u", vec![]),
        node("Relu", &["u"], "ru", vec![]),
        node("Squeeze", &["ru", "ax"], "sq", vec![]),
        node("Reshape", &["sq", "zero_m1"], "r2", vec![]),
        node("Flatten", &["r2"], "f", vec![("axis", A::I(1))]),
        node("Softmax", &["f"], "y", vec![("axis", A::I(1))]),
    ];
    let inits = vec![
        it("i0", vec![0]),
        it("m1", vec![-1]),
        it("ax", vec![1]),
        it("zero_m1", vec![0, -1]),
    ];
    let b = model(13, &shape, nodes, inits);
    let g = check(&b, &shape);
    assert_eq!(g.shape(g.output), [2, 60]);
    assert!(g
        .nodes
        .iter()
        .all(|n| matches!(n.op, Op::Reshape | Op::Relu | Op::Softmax { .. })));

    // opset 11: Squeeze/Unsqueeze axes are attributes; chained reshapes
    // collapse into one
    let nodes = vec![
        node("Unsqueeze", &["x"], "u", vec![("axes", A::Is(vec![0, 3]))]),
        node("Squeeze", &["u"], "s", vec![("axes", A::Is(vec![0]))]),
        node("Flatten", &["s"], "f", vec![("axis", A::I(2))]),
        node("HardSigmoid", &["f"], "y", vec![]),
    ];
    let b = model(11, &shape, nodes, vec![]);
    let g = check(&b, &shape);
    assert_eq!(ops(&g), ["Reshape", "HardSigmoid"]);
    assert_eq!(g.shape(g.output), [6, 20]);

    // opset 11 Softmax flattens at `axis`, which differs from per-axis softmax
    let shape = [2, 3, 4];
    let b = model(
        11,
        &shape,
        vec![node("Softmax", &["x"], "y", vec![("axis", A::I(1))])],
        vec![],
    );
    check(&b, &shape);
}

#[test]
fn unsupported_ops_name_the_node() {
    let shape = [1, 4];
    let b = model(
        13,
        &shape,
        vec![
            node("Relu", &["x"], "r", vec![]),
            node("Tanh", &["r"], "y", vec![]),
        ],
        vec![],
    );
    match onnx::load(&b, &shape) {
        Err(ModelError::Unsupported { node, op }) => {
            assert_eq!(node, "Tanh_y");
            assert_eq!(op, "Tanh");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
    // every node is lowered (an unsupported one is refused even when dead),
    // and supported dead nodes are dropped afterwards
    let b = model(
        13,
        &shape,
        vec![
            node("Relu", &["x"], "dead", vec![]),
            node("Relu", &["x"], "y", vec![]),
        ],
        vec![],
    );
    assert_eq!(ops(&check(&b, &shape)), ["Relu"]);
}
