#!/usr/bin/env python3
"""Medians and ratios over several runs of a criterion benchmark (BENCHMARKS.md,
"Algebra (issue 9)").

    cargo bench --bench algebra && python3 benches/runs.py save target/criterion algebra_ run1.json
    ... (once per run) ...
    python3 benches/runs.py table run1.json run2.json run3.json

`save` keeps criterion's median (`median.point_estimate`, ns) of every function of the
groups whose names start with the prefix; `table` prints, per group and size, the
median over the runs of each function's median, and for each function the median
and range of its per-run ratio to `expert`. Standard library only.
"""

import glob
import json
import statistics
import sys


def save(root, prefix, out):
    res = {}
    for f in glob.glob(f"{root}/{prefix}*/*/*/new/estimates.json"):
        key = "/".join(f[len(root) + 1 :].split("/")[:3])
        res[key] = json.load(open(f))["median"]["point_estimate"]
    json.dump(res, open(out, "w"), indent=1, sort_keys=True)
    print(f"{len(res)} functions saved to {out}")


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.3g} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3g} µs"
    return f"{ns:.3g} ns"


def table(files):
    runs = [json.load(open(f)) for f in files]
    keys = set.intersection(*(set(r) for r in runs))
    groups = sorted({(k.split("/")[0], k.split("/")[2]) for k in keys})
    for grp, size in groups:
        fns = sorted(k.split("/")[1] for k in keys if k.startswith(grp + "/") and k.endswith("/" + size))
        med = {f: statistics.median(r[f"{grp}/{f}/{size}"] for r in runs) for f in fns}
        print(f"{grp} {size}: " + ", ".join(f"{f} {fmt(med[f])}" for f in fns))
        if "expert" not in fns:
            continue
        for f in fns:
            if f == "expert":
                continue
            ratios = [r[f"{grp}/{f}/{size}"] / r[f"{grp}/expert/{size}"] for r in runs]
            print(
                f"    {f}/expert: {statistics.median(ratios):.3f} ({min(ratios):.3f}–{max(ratios):.3f})"
            )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "save":
        save(*sys.argv[2:])
    elif len(sys.argv) >= 3 and sys.argv[1] == "table":
        table(sys.argv[2:])
    else:
        sys.exit(__doc__)
