#!/usr/bin/env python3
"""Write the 784-128-10 MLP that issue 3's compile and memory goals are stated for.

Why: issue 3 asks for circuit compile under 1 s and prover peak RSS under
256 MB "for a model the size of a 784-128-10 MLP" (an MNIST-sized classifier).
The registry's digits MLP is 64-64-32-10, so this script writes a model of
exactly the stated size, with fixed, seeded random weights (not trained: it is
a prover workload), for scripts/bench-mlp784.sh to load through the same ONNX
path as registry models.

Graph: input "input" [1,784] -> Gemm(784->128, transB) -> Relu
       -> Gemm(128->10, transB) -> "logits" [1,10]; opset 13.
Weights are He-scaled normals, so activations of inputs in [-1, 1] stay O(1)
and far inside the fixed-point range.

Usage: python scripts/make_mlp784.py --out PATH [--seed 784]
Needs numpy and onnx (scripts/requirements-bench.txt has both).
"""

import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 784
OPSET = 13
SIZES = (784, 128, 10)


def build(seed):
    rng = np.random.default_rng(seed)
    inits, nodes = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name))
        return name

    x = "input"
    layers = list(zip(SIZES[:-1], SIZES[1:]))
    for i, (fan_in, fan_out) in enumerate(layers):
        w = rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)
        b = rng.uniform(-0.05, 0.05, fan_out)
        last = i == len(layers) - 1
        out = "logits" if last else f"fc{i}.out"
        nodes.append(helper.make_node(
            "Gemm", [x, const(f"fc{i}.w", w), const(f"fc{i}.b", b)], [out],
            transB=1, name=f"fc{i}"))
        x = out
        if not last:
            nodes.append(helper.make_node("Relu", [x], [f"relu{i}.out"], name=f"relu{i}"))
            x = f"relu{i}.out"

    graph = helper.make_graph(
        nodes, "mlp_784_128_10",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, SIZES[0]])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, SIZES[-1]])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="subnet-bench/make_mlp784.py",
                              producer_version="1")
    model.ir_version = 8
    model.doc_string = f"784-128-10 MLP benchmark, seeded random weights (seed {seed}); not trained"
    onnx.checker.check_model(model, full_check=True)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    model = build(args.seed)
    onnx.save(model, args.out)
    params = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    print(f"wrote {args.out}: MLP {'-'.join(map(str, SIZES))}, {params:,} parameters, seed {args.seed}")


if __name__ == "__main__":
    main()
