#!/usr/bin/env python3
"""Write a ResNet-style benchmark model with fixed, seeded random weights.

Why: the digits models are too small to say anything about prover speed, and
the PP-OCR classifier is one fixed shape. This graph is a parametric, several-
million-MAC stack of the ops the compiler targets (Conv, BatchNormalization
left unfolded, Relu, residual Add, AveragePool, Flatten, Gemm), so
prover benchmarks have a realistic, reproducible workload.

Architecture (defaults): input "input" [1,3,32,32]
  stem: Conv 3x3 stride 2 (3->16) - BN - Relu            -> [1,16,16,16]
  N x block: Conv3x3-BN-Relu-Conv3x3-BN, Add(skip), Relu  -> [1,16,16,16]
  AveragePool 4x4 - Flatten - Gemm(256->10)              -> "logits" [1,10]

Usage: python scripts/make_resnet_blocks.py [--blocks 6] [--width 16] [--out PATH]
"""

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 7
OPSET = 13


def build(blocks, width, seed):
    rng = np.random.default_rng(seed)
    inits, nodes = [], []
    macs = 0

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name))
        return name

    def conv(x, cin, cout, stride, name, hw_out):
        nonlocal macs
        w = rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(2.0 / (cin * 9))
        nodes.append(helper.make_node(
            "Conv", [x, const(f"{name}.w", w)], [f"{name}.out"], kernel_shape=[3, 3],
            pads=[1, 1, 1, 1], strides=[stride, stride], name=name))
        macs += hw_out * hw_out * cout * cin * 9
        return f"{name}.out"

    def bn(x, c, name, gamma_scale=1.0):
        # Non-trivial running statistics so the BN is not an identity the
        # compiler could get away with ignoring.
        gamma = gamma_scale * rng.uniform(0.8, 1.2, c)
        beta = rng.uniform(-0.1, 0.1, c)
        mean = rng.uniform(-0.2, 0.2, c)
        var = rng.uniform(0.5, 1.5, c)
        nodes.append(helper.make_node(
            "BatchNormalization",
            [x, const(f"{name}.gamma", gamma), const(f"{name}.beta", beta),
             const(f"{name}.mean", mean), const(f"{name}.var", var)],
            [f"{name}.out"], epsilon=1e-5, name=name))
        return f"{name}.out"

    def relu(x, name):
        nodes.append(helper.make_node("Relu", [x], [f"{name}.out"], name=name))
        return f"{name}.out"

    hw = 16
    x = conv("input", 3, width, 2, "stem.conv", hw)
    x = relu(bn(x, width, "stem.bn"), "stem.relu")
    for i in range(blocks):
        p = f"block{i}"
        h = relu(bn(conv(x, width, width, 1, f"{p}.conv1", hw), width, f"{p}.bn1"), f"{p}.relu1")
        # A damped second BN keeps the residual stream from growing block by
        # block, so activations stay in a range fixed-point can represent.
        h = bn(conv(h, width, width, 1, f"{p}.conv2", hw), width, f"{p}.bn2", gamma_scale=0.5)
        nodes.append(helper.make_node("Add", [h, x], [f"{p}.add"], name=f"{p}.add"))
        x = relu(f"{p}.add", f"{p}.relu2")
    # Head: a 4x4 average pool keeps a 4x4 spatial map, so the logits depend
    # on where features are, not only on their global mean. With a global
    # average pool the logits of random inputs nearly tie (law of large
    # numbers), and fixed-point rounding then flips the argmax too often to
    # be a fair accuracy benchmark.
    nodes.append(helper.make_node("AveragePool", [x], ["pool"], kernel_shape=[4, 4],
                                  strides=[4, 4], name="pool"))
    nodes.append(helper.make_node("Flatten", ["pool"], ["flat"], axis=1, name="flatten"))
    feat = width * 4 * 4
    fw = rng.standard_normal((10, feat)) * np.sqrt(1.0 / feat) * 8.0
    fb = rng.uniform(-0.05, 0.05, 10)
    nodes.append(helper.make_node("Gemm", ["flat", const("fc.w", fw), const("fc.b", fb)],
                                  ["logits"], transB=1, name="fc"))
    macs += 10 * feat

    graph = helper.make_graph(
        nodes, f"resnet_blocks{blocks}_w{width}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="subnet-registry/make_resnet_blocks.py",
                              producer_version="1")
    model.ir_version = 8
    model.doc_string = (f"ResNet-style benchmark: {blocks} residual blocks, width {width}, "
                        f"seeded random weights (seed {seed}); not trained")
    onnx.checker.check_model(model, full_check=True)
    return model, macs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", default=os.path.normpath(os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "registry", "models",
        "resnet_blocks.onnx")))
    args = ap.parse_args()
    model, macs = build(args.blocks, args.width, args.seed)
    onnx.save(model, args.out)
    print(f"wrote {args.out}: {args.blocks} blocks, width {args.width}, {macs:,} MACs")

    # The benchmark is only useful if the logits depend on the input: check
    # that random inputs do not all land on the same class.
    import onnxruntime as ort

    sess = ort.InferenceSession(args.out, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    preds = [int(sess.run(None, {"input": rng.uniform(0, 1, (1, 3, 32, 32)).astype(np.float32)})
                 [0].argmax()) for _ in range(200)]
    hist = np.bincount(preds, minlength=10)
    print(f"argmax histogram over 200 uniform[0,1) inputs: {hist.tolist()}")


if __name__ == "__main__":
    main()
