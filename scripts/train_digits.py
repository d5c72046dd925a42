#!/usr/bin/env python3
"""Train the registry's digits classifiers (MLP and CNN) and export them to ONNX.

Why numpy and hand-written ONNX: the PyPI torch wheel drags in gigabytes of
CUDA libraries, and we want a tiny, fully deterministic, offline pipeline whose
graphs use only ops the ONNX->GKR compiler supports. The dataset is
scikit-learn's bundled 8x8 digits (no download), scaled to [0, 1].

Outputs (default: registry/models/):
  digits_mlp.onnx  input "input" [1,64]      Gemm-Relu-Gemm-Relu-Gemm
  digits_cnn.onnx  input "input" [1,1,8,8]   Conv-Relu-MaxPool-Conv-Relu-AveragePool-Flatten-Gemm

Usage: python scripts/train_digits.py [--out-dir registry/models]
"""

import os

# Single-threaded BLAS: multi-threaded reductions may sum in a different order
# from run to run, which would change the trained weights and so the model id.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

SEED = 20241123
OPSET = 13


# ---------------------------------------------------------------- data

def load_data():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # pixel values are 0..16
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)


# ---------------------------------------------------------------- layers

def softmax_xent(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    n = logits.shape[0]
    loss = -np.log(p[np.arange(n), y] + 1e-12).mean()
    grad = p.copy()
    grad[np.arange(n), y] -= 1.0
    return loss, grad / n


def im2col(x, k, pad):
    """[N,C,H,W] -> [N*H*W, C*k*k] for a stride-1 'same' convolution."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((n, c, k, k, h, w), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i:i + h, j:j + w]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * h * w, c * k * k)


def col2im(cols, shape, k, pad):
    n, c, h, w = shape
    cols = cols.reshape(n, h, w, c, k, k).transpose(0, 3, 4, 5, 1, 2)
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for i in range(k):
        for j in range(k):
            xp[:, :, i:i + h, j:j + w] += cols[:, :, i, j]
    return xp[:, :, pad:pad + h, pad:pad + w]


def conv_fwd(x, w, b):
    n, _, h, wd = x.shape
    co, _, k, _ = w.shape
    cols = im2col(x, k, k // 2)
    out = cols @ w.reshape(co, -1).T + b
    return out.reshape(n, h, wd, co).transpose(0, 3, 1, 2), cols


def conv_bwd(dout, x_shape, cols, w):
    co, _, k, _ = w.shape
    d = dout.transpose(0, 2, 3, 1).reshape(-1, co)
    dw = (d.T @ cols).reshape(w.shape)
    db = d.sum(axis=0)
    dx = col2im(d @ w.reshape(co, -1), x_shape, k, k // 2)
    return dx, dw, db


def maxpool2_fwd(x):
    n, c, h, w = x.shape
    r = x.reshape(n, c, h // 2, 2, w // 2, 2)
    out = r.max(axis=(3, 5))
    mask = r == out[:, :, :, None, :, None]
    # break ties so exactly one input per window receives the gradient
    flat = mask.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    first = np.zeros_like(flat)
    idx = flat.argmax(axis=-1)
    np.put_along_axis(first, idx[..., None], True, axis=-1)
    mask = first.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
    return out, mask


def maxpool2_bwd(dout, mask):
    return (mask * dout[:, :, :, None, :, None]).reshape(
        mask.shape[0], mask.shape[1], mask.shape[2] * 2, mask.shape[4] * 2)


def avgpool2_fwd(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def avgpool2_bwd(dout):
    return np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3) / 4.0


# ---------------------------------------------------------------- models

def he(rng, shape, fan_in):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


class Mlp:
    """64 -> 64 -> 32 -> 10 with ReLU."""

    def __init__(self, rng):
        self.p = {
            "w1": he(rng, (64, 64), 64), "b1": np.zeros(64, np.float32),
            "w2": he(rng, (32, 64), 64), "b2": np.zeros(32, np.float32),
            "w3": he(rng, (10, 32), 32), "b3": np.zeros(10, np.float32),
        }

    def forward(self, x, cache=None):
        p = self.p
        h1 = x @ p["w1"].T + p["b1"]
        a1 = np.maximum(h1, 0)
        h2 = a1 @ p["w2"].T + p["b2"]
        a2 = np.maximum(h2, 0)
        out = a2 @ p["w3"].T + p["b3"]
        if cache is not None:
            cache.update(x=x, h1=h1, a1=a1, h2=h2, a2=a2)
        return out

    def backward(self, dout, c):
        p = self.p
        g = {"w3": dout.T @ c["a2"], "b3": dout.sum(0)}
        d2 = (dout @ p["w3"]) * (c["h2"] > 0)
        g["w2"], g["b2"] = d2.T @ c["a1"], d2.sum(0)
        d1 = (d2 @ p["w2"]) * (c["h1"] > 0)
        g["w1"], g["b1"] = d1.T @ c["x"], d1.sum(0)
        return g


class Cnn:
    """[1,8,8] conv3x3(8) relu maxpool2 conv3x3(16) relu avgpool2 flatten gemm(10)."""

    def __init__(self, rng):
        self.p = {
            "c1w": he(rng, (8, 1, 3, 3), 9), "c1b": np.zeros(8, np.float32),
            "c2w": he(rng, (16, 8, 3, 3), 72), "c2b": np.zeros(16, np.float32),
            "fw": he(rng, (10, 64), 64), "fb": np.zeros(10, np.float32),
        }

    def forward(self, x, cache=None):
        p = self.p
        x = x.reshape(-1, 1, 8, 8)
        h1, cols1 = conv_fwd(x, p["c1w"], p["c1b"])
        a1 = np.maximum(h1, 0)
        m1, mask = maxpool2_fwd(a1)
        h2, cols2 = conv_fwd(m1, p["c2w"], p["c2b"])
        a2 = np.maximum(h2, 0)
        q2 = avgpool2_fwd(a2)
        f = q2.reshape(q2.shape[0], -1)
        out = f @ p["fw"].T + p["fb"]
        if cache is not None:
            cache.update(x=x, h1=h1, cols1=cols1, mask=mask, m1=m1, h2=h2,
                         cols2=cols2, q2=q2, f=f)
        return out

    def backward(self, dout, c):
        p = self.p
        g = {"fw": dout.T @ c["f"], "fb": dout.sum(0)}
        df = (dout @ p["fw"]).reshape(c["q2"].shape)
        da2 = avgpool2_bwd(df) * (c["h2"] > 0)
        dm1, g["c2w"], g["c2b"] = conv_bwd(da2, c["m1"].shape, c["cols2"], p["c2w"])
        da1 = maxpool2_bwd(dm1, c["mask"]) * (c["h1"] > 0)
        _, g["c1w"], g["c1b"] = conv_bwd(da1, c["x"].shape, c["cols1"], p["c1w"])
        return g


def train(model, x, y, rng, epochs, lr=3e-3, batch=32, wd=1e-4):
    """Adam with a cosine learning-rate decay and light L2 weight decay."""
    m = {k: np.zeros_like(v) for k, v in model.p.items()}
    v = {k: np.zeros_like(v) for k, v in model.p.items()}
    t = 0
    steps = epochs * ((len(x) + batch - 1) // batch)
    for ep in range(epochs):
        perm = rng.permutation(len(x))
        total = 0.0
        for s in range(0, len(x), batch):
            idx = perm[s:s + batch]
            cache = {}
            logits = model.forward(x[idx], cache)
            loss, dl = softmax_xent(logits, y[idx])
            total += loss * len(idx)
            grads = model.backward(dl.astype(np.float32), cache)
            t += 1
            cur = lr * 0.5 * (1 + np.cos(np.pi * t / steps))
            for k in model.p:
                gk = grads[k] + wd * model.p[k]
                m[k] = 0.9 * m[k] + 0.1 * gk
                v[k] = 0.999 * v[k] + 0.001 * gk * gk
                mh = m[k] / (1 - 0.9 ** t)
                vh = v[k] / (1 - 0.999 ** t)
                model.p[k] = (model.p[k] - cur * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
        if (ep + 1) % 10 == 0:
            print(f"    epoch {ep + 1:3d}  loss {total / len(x):.4f}")


def accuracy(model, x, y):
    return float((model.forward(x).argmax(1) == y).mean())


# ---------------------------------------------------------------- ONNX export

def init(name, arr):
    return numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name)


def finish(nodes, inits, in_shape, name, doc):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="subnet-registry/train_digits.py",
                              producer_version="1")
    model.ir_version = 8
    model.doc_string = doc
    onnx.checker.check_model(model, full_check=True)
    return model


def export_mlp(mlp):
    p = mlp.p
    nodes = [
        helper.make_node("Gemm", ["input", "w1", "b1"], ["h1"], transB=1, name="fc1"),
        helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
        helper.make_node("Gemm", ["a1", "w2", "b2"], ["h2"], transB=1, name="fc2"),
        helper.make_node("Relu", ["h2"], ["a2"], name="relu2"),
        helper.make_node("Gemm", ["a2", "w3", "b3"], ["logits"], transB=1, name="fc3"),
    ]
    inits = [init(k, p[k]) for k in ("w1", "b1", "w2", "b2", "w3", "b3")]
    return finish(nodes, inits, [1, 64], "digits_mlp",
                  "sklearn 8x8 digits MLP 64-64-32-10, input pixels/16 in [0,1]")


def export_cnn(cnn):
    p = cnn.p
    nodes = [
        helper.make_node("Conv", ["input", "c1w", "c1b"], ["h1"], kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[1, 1], name="conv1"),
        helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
        helper.make_node("MaxPool", ["a1"], ["m1"], kernel_shape=[2, 2], strides=[2, 2],
                         name="maxpool1"),
        helper.make_node("Conv", ["m1", "c2w", "c2b"], ["h2"], kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[1, 1], name="conv2"),
        helper.make_node("Relu", ["h2"], ["a2"], name="relu2"),
        helper.make_node("AveragePool", ["a2"], ["q2"], kernel_shape=[2, 2], strides=[2, 2],
                         name="avgpool2"),
        helper.make_node("Flatten", ["q2"], ["f"], axis=1, name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["logits"], transB=1, name="fc"),
    ]
    inits = [init(k, p[k]) for k in ("c1w", "c1b", "c2w", "c2b", "fw", "fb")]
    return finish(nodes, inits, [1, 1, 8, 8], "digits_cnn",
                  "sklearn 8x8 digits CNN, NCHW [1,1,8,8], input pixels/16 in [0,1]")


def check_onnx(path, model, x, shape):
    """The exported graph must reproduce the numpy model on every test sample."""
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    ort_out = np.concatenate([sess.run(None, {"input": xi.reshape(shape)})[0] for xi in x])
    ref = model.forward(x)
    err = float(np.abs(ort_out - ref).max())
    agree = float((ort_out.argmax(1) == ref.argmax(1)).mean())
    assert err < 1e-3, f"{path}: onnxruntime differs from numpy by {err}"
    assert agree == 1.0, f"{path}: argmax agreement only {agree}"
    return err, ort_out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=os.path.normpath(os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "registry", "models")))
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    xtr, xte, ytr, yte = load_data()
    print(f"digits: {len(xtr)} train / {len(xte)} test samples")

    for name, cls, epochs, export, shape in (
        ("digits_mlp", Mlp, 60, export_mlp, (1, 64)),
        ("digits_cnn", Cnn, 40, export_cnn, (1, 1, 8, 8)),
    ):
        rng = np.random.default_rng(SEED)
        model = cls(rng)
        print(f"training {name}")
        train(model, xtr, ytr, rng, epochs)
        tr_acc, te_acc = accuracy(model, xtr, ytr), accuracy(model, xte, yte)
        path = os.path.join(args.out_dir, f"{name}.onnx")
        onnx.save(export(model), path)
        err, ort_out = check_onnx(path, model, xte, shape)
        ort_acc = float((ort_out.argmax(1) == yte).mean())
        print(f"{name}: train acc {tr_acc:.4f}  test acc {te_acc:.4f}  "
              f"onnxruntime test acc {ort_acc:.4f}  max |ort-numpy| {err:.2e}  -> {path}")


if __name__ == "__main__":
    main()
