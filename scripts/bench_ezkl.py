#!/usr/bin/env python3
"""Peer benchmark: EZKL (Halo2/KZG) on the registry models, and the merged table.

Why this exists: issue 3 asks how our GKR prover compares with a real peer on
the same models and the same machine. EZKL is the most widely used ONNX-to-proof
system, so this script drives its Python API through the whole pipeline
(settings, calibration, compile, SRS, key setup, witness, prove, verify) and
records time, CPU time and peak RSS of every step.

Every heavy EZKL call runs in its own child process so that
  * its peak RSS is that step's alone (wait4 rusage of that child),
  * a step that runs too long, or grows past the memory limit, can be killed
    without losing the numbers already measured for the other steps/models.

Sub-commands:
  run    run EZKL on models from the registry and write a results JSON
  step   (internal) one EZKL call, executed in a child process by `run`
  table  print the markdown table (EZKL alone, or merged with our prover's JSON)

The SRS is generated locally with ezkl.gen_srs: a locally generated SRS is
insecure (whoever ran it could keep the toxic waste), which is irrelevant for
timing. It is cached per logrows because generating it is a one-off cost that a
real deployment downloads instead.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import tomllib
from pathlib import Path

# Models whose registry inputs are pixel/16 in [0, 1]; every other model is fed
# seeded uniform [-1, 1], like RapidOCR's normalised input.
UNIT_RANGE_MODELS = {"digits_mlp", "digits_cnn"}

STEPS = ["settings", "compile", "srs", "setup", "witness", "prove", "verify"]

MIB = 1024 * 1024


def srs_bytes(logrows: int) -> int:
    """Size of an EZKL/halo2 KZG SRS file (raw format): k, g and g_lagrange in G1, two G2 points."""
    return 4 + 2 * (1 << logrows) * 64 + 2 * 128


# ---------------------------------------------------------------- child side


def step_main(step: str, args: dict) -> None:
    """Runs exactly one EZKL call; the parent measures this process."""
    import ezkl  # imported here so the parent never loads EZKL's native code

    out: dict = {}
    t0 = time.perf_counter()
    if step == "settings":
        ra = ezkl.PyRunArgs()
        ra.input_visibility = "public"
        ra.output_visibility = "public"
        ra.param_visibility = "fixed"
        if not ezkl.gen_settings(args["model"], args["settings"], py_run_args=ra):
            raise RuntimeError("gen_settings returned false")
        t1 = time.perf_counter()
        ok = ezkl.calibrate_settings(
            args["calibration"],
            args["model"],
            args["settings"],
            "resources",
        )
        if not ok:
            raise RuntimeError("calibrate_settings returned false")
        out["gen_settings_s"] = t1 - t0
    elif step == "compile":
        if not ezkl.compile_circuit(args["model"], args["compiled"], args["settings"]):
            raise RuntimeError("compile_circuit returned false")
    elif step == "srs":
        ezkl.gen_srs(args["srs"], args["logrows"])
    elif step == "setup":
        if not ezkl.setup(args["compiled"], args["vk"], args["pk"], args["srs"]):
            raise RuntimeError("setup returned false")
    elif step == "witness":
        ezkl.gen_witness(args["input"], args["compiled"], args["witness"])
    elif step == "prove":
        ezkl.prove(args["witness"], args["compiled"], args["pk"], args["proof"], args["srs"])
    elif step == "verify":
        if not ezkl.verify(args["proof"], args["settings"], args["vk"], args["srs"]):
            raise RuntimeError("verify returned false: proof rejected")
    else:
        raise ValueError(f"unknown step {step!r}")
    out["call_s"] = time.perf_counter() - t0
    Path(args["result"]).write_text(json.dumps(out))


# --------------------------------------------------------------- parent side


def read_vm_rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def run_step(step: str, args: dict, work: Path, timeout_s: float, mem_limit: int) -> dict:
    """Runs `step` in a child process with a wall-clock and an RSS limit."""
    result_file = work / f"{step}.result.json"
    result_file.unlink(missing_ok=True)
    args = dict(args, result=str(result_file))
    log = open(work / f"{step}.log", "w")
    cmd = [sys.executable, os.path.abspath(__file__), "step", step, json.dumps(args)]
    import subprocess

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    killed_for = None
    peak_seen = 0
    try:
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid != 0:
                break
            elapsed = time.perf_counter() - t0
            rss = read_vm_rss(proc.pid)
            peak_seen = max(peak_seen, rss)
            if killed_for is None and rss > mem_limit:
                killed_for = "oom"
                os.killpg(proc.pid, signal.SIGKILL)
            elif killed_for is None and elapsed > timeout_s:
                killed_for = "timeout"
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.2)
    except BaseException:
        # The child has its own session, so an interrupted run must not leave it behind.
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    log.close()
    rec = {
        "step": step,
        # The machine is shared: the 1-minute load at the end says how contended the step was.
        "loadavg_1m": os.getloadavg()[0],
        "wall_s": round(wall, 3),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
        "peak_rss_bytes": max(ru.ru_maxrss * 1024, peak_seen),
    }
    if killed_for == "timeout":
        rec["status"] = "timeout"
        rec["error"] = f"did not finish in {timeout_s / 60:g} min"
    elif killed_for == "oom":
        rec["status"] = "oom"
        rec["error"] = f"RSS passed the {mem_limit / 2**30:g} GiB limit"
    elif proc.returncode != 0:
        tail = (work / f"{step}.log").read_text(errors="replace").strip().splitlines()[-3:]
        rec["status"] = "killed" if proc.returncode < 0 else "failed"
        sig = f"signal {-proc.returncode} (SIGKILL: likely the kernel OOM killer)" if proc.returncode == -9 else None
        rec["error"] = sig or f"exit {proc.returncode}: " + " | ".join(tail)
    else:
        rec["status"] = "ok"
        rec.update(json.loads(result_file.read_text()))
        # Time inside the EZKL call, without the child's interpreter start-up.
        rec["time_s"] = round(rec.pop("call_s"), 3)
    return rec


def fixed_shape_model(src: Path, dst: Path, shape: list[int]) -> Path:
    """Returns a copy of `src` whose graph input has exactly `shape`.

    PP-OCR's graph input is [-1, 3, ?, ?]; EZKL needs static shapes, so the
    copy pins the registry's input shape and re-runs ONNX shape inference.
    Models that are already static are used as they are.
    """
    import onnx

    model = onnx.load(str(src))
    if len(model.graph.input) != 1:
        raise SystemExit(f"{src}: expected one graph input, found {len(model.graph.input)}")
    dims = model.graph.input[0].type.tensor_type.shape.dim
    current = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    if current == shape:
        return src
    if len(dims) != len(shape):
        raise SystemExit(f"{src}: input rank {len(dims)} but the registry says {shape}")
    for d, v in zip(dims, shape):
        d.Clear()
        d.dim_value = v
    for out in model.graph.output:
        odims = out.type.tensor_type.shape.dim
        if odims and not (odims[0].HasField("dim_value") and odims[0].dim_value > 0):
            odims[0].Clear()
            odims[0].dim_value = shape[0]
    del model.graph.value_info[:]
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return dst


def uncalibrated_rows(settings: Path, res: dict) -> None:
    """Keeps the circuit size from gen_settings when calibration did not finish.

    gen_settings writes the settings (at EZKL's default scales) before
    calibration starts, so a timed-out calibration still tells how many rows
    the circuit needs, and so the smallest logrows and SRS it could use.
    """
    try:
        rows = int(json.loads(settings.read_text())["num_rows"])
    except (OSError, ValueError, KeyError, TypeError):
        return
    k = max(rows - 1, 1).bit_length()
    res["uncalibrated_num_rows"] = rows
    res["uncalibrated_min_logrows"] = k
    res["failure"] += f"; at default scales the circuit has {rows} rows: logrows >= {k}, SRS >= {srs_bytes(k) / 2**30:.2f} GiB"


def ezkl_version() -> str:
    from importlib.metadata import version

    return version("ezkl")


def bench_model(entry: dict, registry: Path, root: Path, srs_dir: Path, opts) -> dict:
    import numpy as np

    name = entry["name"]
    shape = [int(x) for x in entry["input_shape"]]
    work = root / name
    work.mkdir(parents=True, exist_ok=True)
    res: dict = {"model": name, "input_shape": shape, "steps": {}}
    model = fixed_shape_model(registry / entry["file"], work / "model_fixed.onnx", shape)
    res["onnx"] = str(model)

    n = int(np.prod(shape))
    lo = 0.0 if name in UNIT_RANGE_MODELS else -1.0
    rng = np.random.default_rng(opts.seed)
    x = rng.uniform(lo, 1.0, n)
    cal = rng.uniform(lo, 1.0, n * opts.calib_samples)
    (work / "input.json").write_text(json.dumps({"input_data": [x.tolist()]}))
    (work / "calibration.json").write_text(json.dumps({"input_data": [cal.tolist()]}))

    p = {
        "model": str(model),
        "settings": str(work / "settings.json"),
        "calibration": str(work / "calibration.json"),
        "compiled": str(work / "network.ezkl"),
        "vk": str(work / "vk.key"),
        "pk": str(work / "pk.key"),
        "input": str(work / "input.json"),
        "witness": str(work / "witness.json"),
        "proof": str(work / "proof.json"),
    }
    limit = opts.mem_limit_gib * 2**30
    tmo = opts.step_timeout_min * 60

    def step(name_: str) -> bool:
        print(f"[ezkl] {name}: {name_} ...", file=sys.stderr, flush=True)
        rec = run_step(name_, p, work, tmo, limit)
        res["steps"][name_] = rec
        msg = f"{rec['wall_s']:.1f} s, peak RSS {rec['peak_rss_bytes'] / MIB:.0f} MiB"
        print(f"[ezkl] {name}: {name_} {rec['status']} ({msg}) {rec.get('error', '')}", file=sys.stderr, flush=True)
        if rec["status"] != "ok":
            res["failed_at"] = name_
            res["failure"] = rec["error"]
        return rec["status"] == "ok"

    if not step("settings"):
        uncalibrated_rows(Path(p["settings"]), res)
        return res
    settings = json.loads(Path(p["settings"]).read_text())
    k = int(settings["run_args"]["logrows"])
    res["logrows"] = k
    res["num_rows"] = settings.get("num_rows")
    res["total_assignments"] = settings.get("total_assignments")
    res["input_scale"] = settings["run_args"].get("input_scale")
    res["param_scale"] = settings["run_args"].get("param_scale")
    res["srs_bytes"] = srs_bytes(k)
    if k > opts.max_logrows:
        res["failed_at"] = "srs"
        res["failure"] = (
            f"skipped: logrows {k} > --max-logrows {opts.max_logrows} "
            f"(SRS would be {srs_bytes(k) / 2**30:.1f} GiB)"
        )
        return res
    if not step("compile"):
        return res

    srs = srs_dir / f"kzg{k}.srs"
    p["srs"] = str(srs)
    p["logrows"] = k
    if srs.exists() and srs.stat().st_size == srs_bytes(k):
        res["srs_cached"] = True
    else:
        p["srs"] = str(srs) + ".partial"
        if not step("srs"):
            return res
        os.replace(p["srs"], srs)
        p["srs"] = str(srs)
        res["srs_cached"] = False

    for s in ("setup", "witness", "prove", "verify"):
        if not step(s):
            return res
    res["pk_bytes"] = Path(p["pk"]).stat().st_size
    res["vk_bytes"] = Path(p["vk"]).stat().st_size
    proof = json.loads(Path(p["proof"]).read_text())
    res["proof_bytes"] = len(proof["proof"])
    # The proof files are large and the models are small: keep only what the table needs.
    for f in ("pk.key", "witness.json"):
        (work / f).unlink(missing_ok=True)
    return res


def run_main(opts) -> None:
    registry = Path(opts.registry)
    manifest = tomllib.loads((registry / "registry.toml").read_text())
    by_name = {m["name"]: m for m in manifest.get("models", [])}
    names = opts.models.split(",") if opts.models else list(by_name)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown model(s) {unknown}; the registry has {sorted(by_name)}")
    root = Path(opts.work)
    root.mkdir(parents=True, exist_ok=True)
    srs_dir = Path(opts.srs_cache)
    srs_dir.mkdir(parents=True, exist_ok=True)
    out = {
        "ezkl_version": ezkl_version(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "options": {
            "step_timeout_min": opts.step_timeout_min,
            "mem_limit_gib": opts.mem_limit_gib,
            "max_logrows": opts.max_logrows,
            "calib_samples": opts.calib_samples,
            "seed": opts.seed,
        },
        "srs_note": "SRS generated locally with ezkl.gen_srs: insecure, fine for timing only",
        "models": [],
    }
    for name in names:
        res = bench_model(by_name[name], registry, root, srs_dir, opts)
        out["models"].append(res)
        # Written after every model so that a long run always leaves numbers behind.
        Path(opts.out).write_text(json.dumps(out, indent=2))
    out["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    Path(opts.out).write_text(json.dumps(out, indent=2))


# --------------------------------------------------------------------- table


def fmt_s(v) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def fmt_mib(v) -> str:
    return "–" if v is None else f"{v / MIB:.0f}"


def ratio(theirs, ours) -> str:
    if theirs is None or ours is None or ours <= 0:
        return "–"
    r = theirs / ours
    return f"{r:.0f}×" if r >= 10 else f"{r:.2f}×"


def ezkl_summary(m: dict) -> dict:
    """Collapses the per-step records into the columns of the table."""
    st = m.get("steps", {})

    def t(name):
        r = st.get(name)
        return r["time_s"] if r and r["status"] == "ok" else None

    def cpu(name):
        r = st.get(name)
        return r["cpu_s"] if r and r["status"] == "ok" else None

    def add(*xs):
        return None if any(x is None for x in xs) else sum(xs)

    def rss(*names):
        vals = [st[n]["peak_rss_bytes"] for n in names if n in st]
        return max(vals) if vals else None

    return {
        "calibrate_s": t("settings"),
        "compile_s": t("compile"),
        "srs_s": t("srs"),
        "setup_s": t("setup"),
        # Our prove time includes evaluating the circuit, so EZKL's includes its witness generation.
        "prove_s": add(t("witness"), t("prove")),
        "prove_cpu_s": add(cpu("witness"), cpu("prove")),
        "verify_s": t("verify"),
        "setup_rss": rss("compile", "setup"),
        "prove_rss": rss("witness", "prove"),
        "proof_bytes": m.get("proof_bytes"),
    }


def load_ours(path: Path | None) -> dict:
    if path is None or not path.exists():
        return {}
    data = json.loads(path.read_text())
    if isinstance(data, dict) and "models" in data:
        data = data["models"]
    if isinstance(data, dict):
        data = [data]
    return {d.get("model") or d.get("name"): d for d in data}


def table_main(opts) -> None:
    ez = json.loads(Path(opts.ezkl).read_text())
    ours = load_ours(Path(opts.ours) if opts.ours else None)
    print(f"EZKL {ez['ezkl_version']}, run started {ez['started']}, {ez['cpus']} CPUs; {ez['srs_note']}.")
    o = ez["options"]
    print(
        f"Limits per step: {o['step_timeout_min']:g} min wall, {o['mem_limit_gib']:g} GiB RSS; "
        f"max logrows {o['max_logrows']}; calibration on {o['calib_samples']} seeded samples (resources mode)."
    )
    print()
    print(
        "| model | logrows | calibrate (s) | compile (s) | key setup (s) | prove incl. witness (s) | prove CPU (s) "
        "| verify (s) | setup peak RSS (MiB) | prove peak RSS (MiB) | proof (bytes) | SRS gen (s, one-off) | status |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for m in ez["models"]:
        s = ezkl_summary(m)
        srs = "cached" if m.get("srs_cached") else fmt_s(s["srs_s"])
        status = "ok" if "failed_at" not in m else f"{m['failed_at']}: {m['failure']}"
        print(
            f"| {m['model']} | {m.get('logrows', '–')} | {fmt_s(s['calibrate_s'])} | {fmt_s(s['compile_s'])} "
            f"| {fmt_s(s['setup_s'])} | {fmt_s(s['prove_s'])} | {fmt_s(s['prove_cpu_s'])} | {fmt_s(s['verify_s'])} "
            f"| {fmt_mib(s['setup_rss'])} | {fmt_mib(s['prove_rss'])} | {s['proof_bytes'] or '–'} | {srs} | {status} |"
        )
    if not ours:
        print()
        print("Our prover: no results (the `zkml bench` CLI was not available in this run).")
        return
    print()
    print("Ours vs EZKL (ratio = EZKL / ours, so > 1 means ours is smaller or faster):")
    print()
    print(
        "| model | ours compile (s) | EZKL compile+setup (s) | ratio | ours prove (s) | EZKL prove (s) | ratio "
        "| ours prove CPU (s) | EZKL prove CPU (s) | ratio "
        "| ours verify (s) | EZKL verify (s) | ratio | ours RSS (MiB) | EZKL prove RSS (MiB) | ratio "
        "| ours proof (bytes) | EZKL proof (bytes) | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for m in ez["models"]:
        s = ezkl_summary(m)
        u = ours.get(m["model"], {})
        setup = None if s["compile_s"] is None or s["setup_s"] is None else s["compile_s"] + s["setup_s"]
        print(
            f"| {m['model']} | {fmt_s(u.get('compile_s'))} | {fmt_s(setup)} | {ratio(setup, u.get('compile_s'))} "
            f"| {fmt_s(u.get('prove_s'))} | {fmt_s(s['prove_s'])} | {ratio(s['prove_s'], u.get('prove_s'))} "
            f"| {fmt_s(u.get('prove_cpu_s'))} | {fmt_s(s['prove_cpu_s'])} | {ratio(s['prove_cpu_s'], u.get('prove_cpu_s'))} "
            f"| {fmt_s(u.get('verify_s'))} | {fmt_s(s['verify_s'])} | {ratio(s['verify_s'], u.get('verify_s'))} "
            f"| {fmt_mib(u.get('peak_rss_bytes'))} | {fmt_mib(s['prove_rss'])} "
            f"| {ratio(s['prove_rss'], u.get('peak_rss_bytes'))} "
            f"| {u.get('proof_bytes', '–')} | {s['proof_bytes'] or '–'} | {ratio(s['proof_bytes'], u.get('proof_bytes'))} |"
        )


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "step":
        if len(sys.argv) != 4:
            raise SystemExit("usage: bench_ezkl.py step STEP ARGS_JSON")
        step_main(sys.argv[2], json.loads(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run EZKL on registry models")
    r.add_argument("--registry", default="registry")
    r.add_argument("--models", default="", help="comma-separated names (default: all, in registry order)")
    r.add_argument("--work", required=True, help="directory for EZKL's artifacts and per-step logs")
    r.add_argument("--srs-cache", required=True, help="directory for locally generated SRS files")
    r.add_argument("--out", required=True, help="results JSON")
    r.add_argument("--step-timeout-min", type=float, default=20.0)
    r.add_argument("--mem-limit-gib", type=float, default=20.0)
    r.add_argument("--max-logrows", type=int, default=24)
    r.add_argument("--calib-samples", type=int, default=4)
    r.add_argument("--seed", type=int, default=20241123)
    t = sub.add_parser("table", help="print the markdown table")
    t.add_argument("--ezkl", required=True, help="results JSON of `run`")
    t.add_argument("--ours", help="JSON list of our prover's `zkml bench --json` results")
    opts = ap.parse_args()
    if opts.cmd == "run":
        if opts.max_logrows < 1 or opts.calib_samples < 1 or opts.step_timeout_min <= 0 or opts.mem_limit_gib <= 0:
            raise SystemExit("limits must be positive")
        run_main(opts)
    else:
        table_main(opts)


if __name__ == "__main__":
    main()
