#!/usr/bin/env python3
"""Summarise an ONNX file: opsets, inputs/outputs, op histogram, MAC estimate.

Why: before a model goes into the registry we need its id (blake3 of the
bytes), whether the circuit compiler can handle every op in it, and roughly
how big the circuit will be. The MAC count (multiply-accumulates of Conv/Gemm/MatMul) is the
dominant term of the circuit size, so it is what we report for benchmarks.

Usage: python scripts/onnx_ops.py MODEL.onnx [MODEL2.onnx ...]
           [--json] [--run] [--input-shape NAME=D0,D1,..]
"""

import argparse
import json
import sys
from collections import Counter

import onnx
from onnx import numpy_helper, shape_inference

# The ops the ONNX→GKR compiler is planned to support (issue 3).
SUPPORTED_OPS = {
    "Gemm", "MatMul", "Conv", "Relu", "MaxPool", "AveragePool",
    "GlobalAveragePool", "Add", "Sub", "Mul", "BatchNormalization",
    "Flatten", "Reshape", "Clip", "Identity", "HardSigmoid", "HardSwish",
}


def _dims(value_info):
    """Static dims of a value_info, or None where a dim is symbolic."""
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return None
    out = []
    for d in t.shape.dim:
        # ONNX writes unknown batch dims as 0 or -1 in some exporters
        out.append(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None)
    return out


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def _fix_inputs(model, overrides):
    """Pin dynamic input dims (e.g. PP-OCR's [-1,3,?,?]) so shapes and MACs can be inferred."""
    for inp in model.graph.input:
        if inp.name in overrides:
            dims = inp.type.tensor_type.shape.dim
            new = overrides[inp.name]
            if len(dims) != len(new):
                raise SystemExit(f"--input-shape {inp.name}: rank {len(new)} != model rank {len(dims)}")
            for d, v in zip(dims, new):
                d.ClearField("dim_param")
                d.dim_value = v


def summarise(path, overrides=None):
    model = onnx.load(path)
    _fix_inputs(model, overrides or {})
    inferred = shape_inference.infer_shapes(model)
    g = inferred.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    shapes = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        shapes[vi.name] = _dims(vi)
    for name, arr in inits.items():
        shapes[name] = list(arr.shape)

    hist = Counter(n.op_type for n in g.node)
    macs = 0
    unknown_mac_nodes = []
    for n in g.node:
        out_shape = shapes.get(n.output[0])
        if n.op_type == "Conv":
            w = shapes.get(n.input[1])
            if out_shape is None or w is None or None in out_shape:
                unknown_mac_nodes.append(n.name)
                continue
            # each output element is a dot product over (C_in/groups)*kh*kw
            macs += _prod(out_shape) * _prod(w[1:])
        elif n.op_type in ("Gemm", "MatMul"):
            a = shapes.get(n.input[0])
            if out_shape is None or a is None or None in out_shape or None in a:
                unknown_mac_nodes.append(n.name)
                continue
            trans_a = any(at.name == "transA" and at.i == 1 for at in n.attribute)
            k = a[-2] if trans_a else a[-1]
            macs += _prod(out_shape) * k

    params = sum(int(a.size) for a in inits.values())
    # Some exporters (PaddlePaddle) store weights as Constant nodes instead.
    for n in g.node:
        if n.op_type == "Constant":
            for at in n.attribute:
                if at.name == "value":
                    params += int(numpy_helper.to_array(at.t).size)
    import blake3

    with open(path, "rb") as f:
        registry_id = blake3.blake3(f.read()).hexdigest()
    return {
        "file": path,
        "id": registry_id,
        "ir_version": model.ir_version,
        "opsets": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "inputs": {i.name: _dims(i) for i in g.input if i.name not in inits},
        "outputs": {o.name: _dims(o) for o in g.output},
        "nodes": len(g.node),
        "params": params,
        "ops": dict(sorted(hist.items())),
        "unsupported_ops": sorted(op for op in hist if op not in SUPPORTED_OPS),
        "macs": macs,
        "macs_unknown_nodes": unknown_mac_nodes,
    }


def fixed_input(shape):
    """A reproducible input in [0, 1] that needs no RNG (same on every numpy)."""
    import numpy as np

    n = _prod(shape)
    return (np.arange(n, dtype=np.int64) * 37 % 101 / 100.0).astype(np.float32).reshape(shape)


def run_fixed(path, report):
    """Run onnxruntime on fixed_input so a model's output can be recorded and compared."""
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {}
    for name, dims in report["inputs"].items():
        if dims is None or None in dims:
            raise SystemExit(f"{path}: input {name} has dynamic dims {dims}; pass --input-shape")
        feeds[name] = fixed_input(dims)
    return [o.reshape(-1).tolist() for o in sess.run(None, feeds)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,..",
                    help="pin an input's dims, e.g. x=1,3,48,192 (repeatable)")
    ap.add_argument("--run", action="store_true",
                    help="also run onnxruntime on a fixed input and print the outputs")
    args = ap.parse_args()
    overrides = {}
    for spec in args.input_shape:
        name, _, dims = spec.partition("=")
        overrides[name] = [int(d) for d in dims.split(",")]
    reports = [summarise(p, overrides) for p in args.models]
    if args.run:
        for r in reports:
            r["fixed_input_outputs"] = run_fixed(r["file"], r)
    if args.json:
        json.dump(reports, sys.stdout, indent=2)
        print()
        return
    for r in reports:
        print(f"== {r['file']}")
        print(f"  id (blake3, registry.toml) {r['id']}")
        print(f"  ir_version {r['ir_version']}  opsets {r['opsets']}  producer '{r['producer']}'")
        print(f"  inputs  {r['inputs']}")
        print(f"  outputs {r['outputs']}")
        print(f"  nodes {r['nodes']}  params {r['params']}  MACs {r['macs']:,}")
        for op, c in r["ops"].items():
            mark = "" if op in SUPPORTED_OPS else "   <-- not in compiler op list"
            print(f"    {op:<22}{c:>5}{mark}")
        if r["macs_unknown_nodes"]:
            print(f"  MACs unknown for: {r['macs_unknown_nodes']}")
        for i, out in enumerate(r.get("fixed_input_outputs", [])):
            print(f"  fixed-input output {i}: [{', '.join(f'{v:.6f}' for v in out)}]")


if __name__ == "__main__":
    main()
