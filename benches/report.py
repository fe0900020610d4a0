#!/usr/bin/env python3
"""Prints the tables of BENCHMARKS.md from criterion's saved estimates, and writes
the README's benchmark highlights from them.

    python3 benches/report.py DIR...
    python3 benches/report.py --readme README.md --note "2026-12-06, commit abc1234, ..." DIR...

The second form replaces the text between the `<!-- report.py:begin -->` and
`<!-- report.py:end -->` lines of README.md with bullets computed from the same
estimates (the ratios of the `workloads` groups found in DIR), so that the
README's numbers are never typed by hand; `--note` says which run they come from.

Each DIR is a criterion output directory (`$CARGO_TARGET_DIR/criterion`): the one
of `cargo bench --bench workloads` (and `--bench jacobian`, whose groups get tables
of their own, and `--bench hessian`, whose dense-Hessian tables come first, with the
accuracy it records in `hessian_accuracy.json`) and the one of the candle benchmark
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
    ("low_rank", "‖U Vᵀ − M‖² + λ(‖U‖² + ‖V‖²), wrt (U, V); rows×cols×rank"),
    ("rnn", "tanh RNN over T steps, a run-time loop (`generated`) and unrolled at T = 10; batch×hidden×T"),
]
SIZES = ["small", "medium", "large"]
# Workloads timed at other points than the three sizes.
SIZES_OF = {"rnn": ["T10", "T100"]}
# benches/jacobian.rs (issue 18): `generated` is the mode the costs choose, the
# forced modes beside it; `expert` the fastest Jacobian we could write by hand.
JACOBIANS = [
    ("jacobian_exp", "r_i = p₀ e^{−p₁ t_i} + p₂ / (1 + p₃ t_i) − y_i, wrt p (4 parameters)"),
    ("jacobian_dense", "r = tanh(X w) − y, wrt w (40 parameters)"),
]
JACOBIAN_TIMES = ["generated", "generated_forward", "generated_reverse", "expert"]
TIMES = ["generated", "generated_into", "generated_unrolled_into", "expert", "expert_mg", "expert_sweep4", "expert_mm", "expert_old",
         "expert_literal", "naive", "candle_1thread", "candle_default"]
# The hand-written gradients that compute the same thing; `best` is the fastest of
# them in each group. (`expert_literal` ignores the algebra on purpose: not a candidate.)
EXPERTS = ["expert", "expert_mg", "expert_sweep4", "expert_mm", "expert_old"]


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


def best_expert(times):
    """(name, ns) of the fastest hand-written gradient among `times`."""
    cands = [(times[f], f) for f in EXPERTS if times.get(f) is not None]
    if not cands:
        return None, None
    ns, name = min(cands)
    return name, ns


def rows(data, name):
    """[(size, label, gen/best, into/best, gen − best in ns, best name)] of a workload."""
    out = []
    for s in SIZES_OF.get(name, SIZES):
        t = {f: v[1] for (g, f), v in data.items() if g == f"{name}/{s}"}
        label = next((v[0] for (g, f), v in data.items() if g == f"{name}/{s}"), "")
        best_is, best = best_expert(t)
        if best is None or "generated" not in t:
            continue
        out.append((s, label, t["generated"] / best, t.get("generated_into", t["generated"]) / best,
                    t["generated"] - best, best_is))
    return out


def fmt_signed_time(ns):
    return ("−" if ns < 0 else "") + fmt_time(abs(ns))


README_NAMES = {
    "two_layer": "a two-layer network",
    "mlp": "an MLP classifier",
    "least_squares": "least squares",
    "logistic": "logistic regression",
    "trace_axb": "`tr(A X B)`",
    "ln_det": "`ln det X − tr(S X)`",
    "dictionary": "dictionary learning",
    "low_rank": "a low-rank factorisation",
    "rnn": "a tanh RNN (run-time loop)",
}


def highlights(data, note):
    """The README's benchmark bullets, from `data`."""
    lines = ["In its latest run", f"({note}),", "ratios are `_grad` ÷ the fastest hand-written gradient of the same group, then",
             "`_grad_into` ÷ the same, by size small / medium / large (the RNN: T = 10 / 100); below 1 is faster:", ""]
    worst = []
    gaps = []
    for name, _ in WORKLOADS:
        r = rows(data, name)
        if not r:
            continue
        gen = " / ".join(f"{x[2]:.2f}" for x in r)
        into = " / ".join(f"{x[3]:.2f}" for x in r)
        lines.append(f"- {README_NAMES[name]} ({', '.join(x[1] for x in r)}): {gen} (`_grad_into` {into});")
        worst += [(x[3], name, x[0]) for x in r]
        # The fixed cost per call shows at the three sizes' smallest (not in a long RNN).
        gaps += [(x[4], name) for x in r if x[0] == "small"]
    if gaps:
        lo, hi = min(gaps), max(gaps)
        lines.append(f"- at the small sizes `_grad` costs {fmt_signed_time(lo[0])} ({README_NAMES[lo[1]]}) "
                     f"to {fmt_signed_time(hi[0])} ({README_NAMES[hi[1]]}) per call more than the expert;")
    if worst:
        within = [w for w in worst if w[0] <= 1.05]
        top = max(worst)
        lines.append(f"- `_grad_into` is within 1.05× its expert at {len(within)} of {len(worst)} workload sizes; "
                     f"the worst is {top[0]:.2f}× ({README_NAMES[top[1]]}, {top[2]}).")
    return "\n".join(lines) + "\n"


def write_readme(path, data, note):
    text = pathlib.Path(path).read_text()
    begin, end = "<!-- report.py:begin -->\n", "<!-- report.py:end -->"
    i, j = text.index(begin) + len(begin), text.index(end)
    pathlib.Path(path).write_text(text[:i] + highlights(data, note) + text[j:])


HESSIANS = [
    ("hessian_logistic", "Σ softplus(−y ⊙ X w) + λ‖w‖², wrt w: Xᵀ diag(σ(1 − σ)) X + 2λI; n×d"),
    ("hessian_least_squares", "‖X w − y‖², wrt w: 2XᵀX; n×d"),
    ("hessian_quadratic", "xᵀ A x, wrt x: A + Aᵀ"),
    ("hessian_kronecker", "‖A X B − C‖², wrt X: 2 (BBᵀ) ⊗ (AᵀA); A m×p, X p×q, B q×r"),
]
HESSIAN_TIMES = ["generated", "expert", "expert_owned", "hvp_columns", "num_dual", "finite_diff"]


def load_accuracy(dirs):
    """{group: {method: max entry error against the expert}} from `benches/hessian.rs`."""
    out = {}
    for d in dirs:
        for f in pathlib.Path(d).glob("**/hessian_accuracy.json"):
            out.update(json.loads(f.read_text()))
    return out


def fmt_error(e):
    return "—" if e is None else ("0" if e == 0 else f"{e:.0e}")


def hessian_tables(data, accuracy):
    """The dense-Hessian tables of `cargo bench --bench hessian` (value, gradient and
    Hessian in every time), with each method's entry error against the expert."""
    for name, title in HESSIANS:
        if not any(g == f"{name}/{s}" for (g, _) in data for s in SIZES):
            continue
        print(f"### {name}: {title}\n")
        head = (["size"] + HESSIAN_TIMES
                + ["gen/expert", "gen/expert_owned", "hvp_columns/gen", "num_dual/gen", "finite_diff/gen"]
                + ["error gen", "error num_dual", "error finite_diff"])
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for s in SIZES:
            group = f"{name}/{s}"
            row = {f: data.get((group, f)) for f in HESSIAN_TIMES}
            if not any(row.values()):
                continue
            label = next((v[0] for v in row.values() if v), "")
            t = {f: (v[1] if v else None) for f, v in row.items()}
            acc = accuracy.get(group, {})
            cells = [f"{s} {label}"] + [fmt_time(t[f]) for f in HESSIAN_TIMES]
            cells += [ratio(t["generated"], t["expert"]), ratio(t["generated"], t["expert_owned"]),
                      ratio(t["hvp_columns"], t["generated"]),
                      ratio(t["num_dual"], t["generated"]), ratio(t["finite_diff"], t["generated"])]
            cells += [fmt_error(acc.get("generated")), fmt_error(acc.get("num_dual")),
                      fmt_error(acc.get("finite_diff"))]
            print("| " + " | ".join(cells) + " |")
        print()


def main(dirs):
    data = load(dirs)
    hessian_tables(data, load_accuracy(dirs))
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
        sizes = SIZES_OF.get(name, SIZES)
        present = [f for f in TIMES if any((f"{name}/{s}", f) in data for s in sizes)]
        if not present:
            continue
        print(f"### {name}: {title}\n")
        head = ["size"] + present + ["best is", "gen/best", "into/best"]
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
        for s in sizes:
            row = {f: data.get((f"{name}/{s}", f)) for f in present}
            label = next((v[0] for v in row.values() if v), "")
            t = {f: (v[1] if v else None) for f, v in row.items()}
            best_is, best = best_expert(t)
            cells = [f"{s} {label}"] + [fmt_time(t[f]) for f in present]
            cells += [best_is or "—", ratio(t.get("generated"), best), ratio(t.get("generated_into"), best)]
            if "expert_mg" in present:
                cells.append(ratio(t.get("generated_into"), t.get("expert_mg")))
            cells.append(ratio(t.get("naive"), best))
            if "candle_1thread" in present:
                cells.append(ratio(t.get("candle_1thread"), t.get("generated")))
            if "candle_default" in present:
                cells.append(ratio(t.get("candle_default"), t.get("generated")))
            print("| " + " | ".join(cells) + " |")
            if s == sizes[-1]:
                large = row
        if large:
            parts = []
            for f in present:
                v = large.get(f)
                if v and v[2]:
                    g = v[2] / v[1]
                    pct = f" ({100 * g / peak:.0f} %)" if peak else ""
                    parts.append(f"{f} {g:.1f}{pct}")
            print(f"\nGFLOP/s at the {sizes[-1]} size (of the GEMM rate): " + ", ".join(parts) + "\n")


def jacobian_tables(data):
    """One table per Jacobian workload: the times, and each ÷ the expert's."""
    for name, title in JACOBIANS:
        present = [f for f in JACOBIAN_TIMES if any((f"{name}/{s}", f) in data for s in SIZES)]
        if not present:
            continue
        print(f"### {name}: {title}\n")
        others = [f for f in present if f != "expert"]
        head = ["size"] + present + [f"{f}/expert" for f in others]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for s in SIZES:
            row = {f: data.get((f"{name}/{s}", f)) for f in present}
            if not any(row.values()):
                continue
            label = next((v[0] for v in row.values() if v), "")
            t = {f: (v[1] if v else None) for f, v in row.items()}
            cells = [f"{s} {label}"] + [fmt_time(t[f]) for f in present]
            cells += [ratio(t.get(f), t.get("expert")) for f in others]
            print("| " + " | ".join(cells) + " |")
        print()


def fixed_cost_tables(data):
    """benches/fixed_cost.rs: generated and hand-written at 1×1, 2×2, 4×4, and the
    difference, the fixed cost per call."""
    sizes = ["1x1", "2x2", "4x4"]
    if not any((f"fixed_cost/{s}", "least_squares generated") in data for s in sizes):
        return
    print("### fixed_cost: one `_grad_into` call at tiny sizes (benches/fixed_cost.rs)\n")
    print("| size | function | generated | hand | generated − hand | generated/hand |")
    print("|---|---|---|---|---|---|")
    for s in sizes:
        for f in ["least_squares", "eight"]:
            g = data.get((f"fixed_cost/{s}", f"{f} generated"))
            h = data.get((f"fixed_cost/{s}", f"{f} hand"))
            if not (g and h):
                continue
            print(f"| {s} | {f} | {fmt_time(g[1])} | {fmt_time(h[1])} | "
                  f"{fmt_time(g[1] - h[1])} | {ratio(g[1], h[1])} |")
    print()


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--readme"]:
        if len(args) < 5 or args[2] != "--note":
            sys.exit(__doc__)
        write_readme(args[1], load(args[4:]), args[3])
    else:
        main(args or ["target/criterion"])
        jacobian_tables(load(args or ["target/criterion"]))
        fixed_cost_tables(load(args or ["target/criterion"]))
