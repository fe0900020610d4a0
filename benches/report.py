#!/usr/bin/env python3
"""Prints the tables of BENCHMARKS.md from criterion's saved estimates.

    python3 benches/report.py DIR...

Each DIR is a criterion output directory (`$CARGO_TARGET_DIR/criterion`): the one
of `cargo bench --bench workloads` and the one of the candle benchmark
(`benches/candle/`). Medians are criterion's median of the per-iteration sample
times; GFLOP/s are each group's model flop count (its throughput) over the median.
Standard library only.
"""

import json
import pathlib
import sys

WORKLOADS = [
    ("two_layer", "‖tanh(X W1) W2 − Y‖², wrt (W1, W2); n×d×h×k"),
    ("mlp", "MLP classifier 64 → 128 → 10 with biases, softmax CE, wrt (w1, b1, w2, b2); batch×64×128×10"),
    ("least_squares", "‖X w − y‖², wrt w; n×d"),
    ("logistic", "Σ softplus(−y ⊙ X w) + λ‖w‖², wrt w; n×d"),
    ("trace_axb", "tr(A X B), wrt X"),
    ("ln_det", "ln det X − tr(S X), wrt X (X SPD)"),
    ("dictionary", "‖X − D R‖² + λ‖R‖², wrt (D, R); p×k×m"),
]
SIZES = ["small", "medium", "large"]
TIMES = ["generated", "generated_into", "expert", "expert_mg", "expert_literal", "naive", "candle_1thread", "candle_default"]


def load(dirs):
    """{(group, function): (label, median ns, flops)}"""
    out = {}
    for d in dirs:
        for bench in pathlib.Path(d).glob("**/new/benchmark.json"):
            meta = json.loads(bench.read_text())
            est = json.loads(bench.with_name("estimates.json").read_text())
            thr = meta.get("throughput") or {}
            flops = thr.get("Elements") or thr.get("Elements".lower())
            out[(meta["group_id"], meta["function_id"])] = (
                meta.get("value_str") or "",
                est["median"]["point_estimate"],
                flops,
            )
    return out


def fmt_time(ns):
    if ns is None:
        return "—"
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.3g} µs"
    return f"{ns / 1e6:.3g} ms"


def ratio(a, b):
    return "—" if a is None or b is None else f"{a / b:.2f}"


def main(dirs):
    data = load(dirs)
    rate = data.get(("gemm_rate", "matrixmultiply_dgemm"))
    if rate:
        label, ns, flops = rate
        peak = flops / ns
        print(f"GEMM rate, matrixmultiply dgemm {label}³, 1 thread: {fmt_time(ns)} = {peak:.1f} GFLOP/s")
        for f, what in [("matrixmultiply_dgemm_tn", "matrixmultiply, Aᵀ through swapped strides"),
                        ("matgrad_gemm_nn", "matgrad-runtime gemm_nn")]:
            v = data.get(("gemm_rate", f))
            if v:
                print(f"  {what}: {fmt_time(v[1])} = {v[2] / v[1]:.1f} GFLOP/s")
        print()
    else:
        peak = None
    for name, title in WORKLOADS:
        present = [f for f in TIMES if any((f"{name}/{s}", f) in data for s in SIZES)]
        if not present:
            continue
        print(f"### {name}: {title}\n")
        head = ["size"] + present + ["gen/best", "into/best"]
        if "expert_mg" in present:
            head += ["into/expert_mg"]
        head += ["naive/best"]
        if "candle_1thread" in present:
            head += ["candle 1t/gen"]
        if "candle_default" in present:
            head += ["candle default/gen"]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        large = None
        for s in SIZES:
            row = {f: data.get((f"{name}/{s}", f)) for f in present}
            label = next((v[0] for v in row.values() if v), "")
            t = {f: (v[1] if v else None) for f, v in row.items()}
            experts = [t.get(f) for f in ("expert", "expert_mg") if t.get(f) is not None]
            best = min(experts) if experts else None
            cells = [f"{s} {label}"] + [fmt_time(t[f]) for f in present]
            cells += [ratio(t.get("generated"), best), ratio(t.get("generated_into"), best)]
            if "expert_mg" in present:
                cells.append(ratio(t.get("generated_into"), t.get("expert_mg")))
            cells.append(ratio(t.get("naive"), best))
            if "candle_1thread" in present:
                cells.append(ratio(t.get("candle_1thread"), t.get("generated")))
            if "candle_default" in present:
                cells.append(ratio(t.get("candle_default"), t.get("generated")))
            print("| " + " | ".join(cells) + " |")
            if s == "large":
                large = row
        if large:
            parts = []
            for f in present:
                v = large.get(f)
                if v and v[2]:
                    g = v[2] / v[1]
                    pct = f" ({100 * g / peak:.0f} %)" if peak else ""
                    parts.append(f"{f} {g:.1f}{pct}")
            print(f"\nGFLOP/s at the large size (of the GEMM rate): " + ", ".join(parts) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:] or ["target-bench/criterion"])
