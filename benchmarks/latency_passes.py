"""Benchmark: does a time budget on the timed passes cost latency precision?

``nas search`` times every candidate's deploy form before it trains (the median of the timed
passes after 3 warm-up passes, LR 64x64, every usable core). Timing the large candidates takes
most of that (10 passes of a 30 ms network are 0.3 s, against 1-3 s of rung-0 training), so
since 2026-12-02 the timed passes stop once 3 or more took ``budget_ms`` (100 ms) together
(:func:`nas.metrics.cost.measure_latency`). This script measures what that changes, on every
x4 zoo network (deploy form) and a sample of small points of the default space:

* precision: the coefficient of variation, over ``--rounds`` rounds, of each protocol's median
  (rounds interleaved, so slow drifts of the machine hit every protocol alike);
* agreement: the Spearman correlation of each protocol's median (over the rounds) with the
  30-pass protocol's;
* cost: the mean seconds one measurement takes (warm-up included, deep copy excluded).

Writes ``<out-dir>/latency_passes.{md,json}``. Run on a quiet machine:
``.venv/bin/python benchmarks/latency_passes.py``
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import space_points, write_atomic  # noqa: E402
from nas.arch.references import REFERENCES, reference_config  # noqa: E402
from nas.metrics.cost import measure_latency  # noqa: E402
from nas.metrics.quiet import usable_cores  # noqa: E402
from nas.models.build import build_model  # noqa: E402
from nas.scoring.evaluate import deploy_form  # noqa: E402

PROTOCOLS = {
    "10 passes (before)": dict(warmup=3, repeats=10, budget_ms=0.0),
    "3-10 passes, 100 ms budget (now)": dict(warmup=3, repeats=10, budget_ms=100.0),
    "30 passes": dict(warmup=3, repeats=30, budget_ms=0.0),
}


def networks(n_space: int, seed: int) -> list[tuple[str, torch.nn.Module]]:
    """Deploy forms of the x4 zoo and ``n_space`` sampled points of the default space."""
    out = [(name, deploy_form(build_model(reference_config(name, 4)))) for name in REFERENCES
           if 4 in REFERENCES[name].scales]
    return out + [(name, deploy_form(build_model(config))) for name, config in space_points(n_space, seed)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--space-points", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=usable_cores())
    ap.add_argument("--out-dir", type=Path, default=ROOT / "results" / "benchmarks")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    nets = networks(args.space_points, args.seed)
    load_before = os.getloadavg()
    medians = {p: {n: [] for n, _ in nets} for p in PROTOCOLS}
    passes = {p: {n: [] for n, _ in nets} for p in PROTOCOLS}
    seconds = {p: [] for p in PROTOCOLS}
    t_all = time.perf_counter()
    for r in range(args.rounds):
        for name, model in nets:
            for p, kw in PROTOCOLS.items():
                t = time.perf_counter()
                res = measure_latency(model, (64, 64), in_channels=model.colors, **kw)
                seconds[p].append(time.perf_counter() - t)
                medians[p][name].append(res.median_ms)
                passes[p][name].append(res.repeats)
        print(f"round {r + 1}/{args.rounds} done ({time.perf_counter() - t_all:.0f} s)", flush=True)
    ref = "30 passes"
    rows, summary = [], {}
    for p in PROTOCOLS:
        cvs = [statistics.pstdev(v) / statistics.mean(v) for v in medians[p].values()]
        centre = [statistics.median(medians[p][n]) for n, _ in nets]
        rho = spearmanr(centre, [statistics.median(medians[ref][n]) for n, _ in nets]).statistic
        summary[p] = {"cv_median": statistics.median(cvs), "cv_max": max(cvs), "spearman_vs_30": float(rho),
                      "mean_s": statistics.mean(seconds[p]), "total_s": sum(seconds[p])}
    for name, _ in nets:
        rows.append({"network": name, **{p: {"median_ms": statistics.median(medians[p][name]),
                                             "cv": statistics.pstdev(medians[p][name]) / statistics.mean(medians[p][name]),
                                             "passes": statistics.median(passes[p][name])} for p in PROTOCOLS}})
    meta = {"rounds": args.rounds, "threads": args.threads, "lr_hw": [64, 64], "networks": len(nets),
            "torch": torch.__version__, "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
            "date": _dt.datetime.now().isoformat(timespec="seconds")}
    out = {"meta": meta, "summary": summary, "rows": rows}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out_dir / "latency_passes.json", json.dumps(out, indent=1))
    lines = [f"# Latency passes: a 100 ms budget against 10 and 30 passes ({meta['machine']})", "",
             f"{len(nets)} networks (the x4 zoo, deploy form, and {args.space_points} random points of the default "
             f"space), LR 64x64, {args.threads} threads, 3 warm-up passes, {args.rounds} interleaved rounds; "
             f"load average {load_before[0]:.2f} before, {meta['loadavg_after'][0]:.2f} after; {meta['date']}.", "",
             "| protocol | CV of the median over rounds, median / max | Spearman vs 30 passes | s per measurement |",
             "|---|---:|---:|---:|"]
    for p, v in summary.items():
        lines.append(f"| {p} | {100 * v['cv_median']:.1f} % / {100 * v['cv_max']:.1f} % | {v['spearman_vs_30']:.3f} | "
                     f"{v['mean_s']:.3f} |")
    lines += ["", "| network | " + " | ".join(f"{p}: ms (CV, passes)" for p in PROTOCOLS) + " |",
              "|---|" + "---:|" * len(PROTOCOLS)]
    for row in sorted(rows, key=lambda r: -r[ref]["median_ms"]):
        lines.append(f"| {row['network']} | " + " | ".join(
            f"{row[p]['median_ms']:.2f} ({100 * row[p]['cv']:.1f} %, {row[p]['passes']:g})" for p in PROTOCOLS) + " |")
    write_atomic(args.out_dir / "latency_passes.md", "\n".join(lines) + "\n")
    print("\n".join(lines[:9]))


if __name__ == "__main__":
    main()
