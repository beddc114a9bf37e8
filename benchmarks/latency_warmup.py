"""Benchmark: how many warm-up passes does a latency of a network never run before need?

``nas search`` times every candidate's deploy form once, in a process that has never run that
network (a new width, new kernels to pick), after ``warmup`` untimed passes (3 since the start)
and 3-10 timed passes under a 100 ms budget. At one job the timing is about 5 % of a search's
worker-seconds (``results/benchmarks/search_jobs.md``), the warm-up about a third of it.

For each network (the x4 zoo's deploy forms and ``--space-points`` random points of the
default space) and each of ``--rounds`` rounds, a *fresh process* builds it and records the time
of every one of ``--passes`` consecutive forward passes (LR 64x64, channels_last, the usable
cores' threads, ``torch.inference_mode``): the first passes pay for the kernels' set-up, as a
search's first passes do. Each warm-up count ``w`` is then scored on the same traces: the median
of the passes after the first ``w`` under the search's budget rule (at least 3, at most 10, stop
once they took 100 ms), against the median of the last 20 passes (the settled latency):

* bias: the median ratio of the ``w`` protocol to the settled latency;
* precision: the coefficient of variation over the rounds, median / max over the networks;
* agreement: Spearman of the ``w`` protocol's round-median with the settled latency's.

Writes ``<out-dir>/latency_warmup.{md,json}``. Run on a quiet machine (about 5 min on 2 cores):
``.venv/bin/python benchmarks/latency_warmup.py``
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import space_points, write_atomic  # noqa: E402

WARMUPS = (0, 1, 2, 3)
SETTLED = 20  # the last this many passes give the settled latency


def _child(spec: str, passes: int, threads: int) -> None:
    """In a fresh process: build one network and print the time (ms) of each of ``passes`` passes."""
    import torch

    from nas.arch.references import reference_config
    from nas.models.build import build_model
    from nas.scoring.evaluate import deploy_form

    torch.set_num_threads(threads)
    if spec.startswith("{"):
        from nas.arch import ArchConfig

        config = ArchConfig.from_dict(json.loads(spec))
    else:
        config = reference_config(spec, 4)
    model = deploy_form(build_model(config)).eval().to(memory_format=torch.channels_last)
    x = torch.rand(1, config.colors, 64, 64).contiguous(memory_format=torch.channels_last)
    times = []
    with torch.inference_mode():
        for _ in range(passes):
            t = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t) * 1000.0)
    print(json.dumps(times))


def specs(n_space: int, seed: int) -> list[tuple[str, str]]:
    """(name, spec) of the x4 zoo and ``n_space`` buildable random points of the default space
    (a spec is a reference name or a config's JSON, for the child process)."""
    from nas.arch.references import REFERENCES

    out = [(name, name) for name in REFERENCES if 4 in REFERENCES[name].scales]
    return out + [(name, json.dumps(config.to_dict())) for name, config in space_points(n_space, seed)]


def protocol_timed(times: list[float], warmup: int, budget_ms: float = 100.0, repeats: int = 10,
                   floor: int = 3) -> list[float]:
    """The passes the search's budget rule times in a trace after ``warmup`` untimed ones
    (``nas.metrics.cost.measure_latency``: at least ``floor``, at most ``repeats``, stop once
    they took ``budget_ms``)."""
    timed: list[float] = []
    for t in times[warmup:]:
        timed.append(t)
        if len(timed) >= repeats or (len(timed) >= floor and sum(timed) >= budget_ms):
            break
    return timed


def protocol_median(times: list[float], warmup: int) -> float:
    """The latency (ms) the search would record from a trace with ``warmup`` warm-up passes."""
    return statistics.median(protocol_timed(times, warmup))


def main() -> None:
    from scipy.stats import spearmanr

    from nas.metrics.quiet import usable_cores

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--space-points", type=int, default=10)
    ap.add_argument("--passes", type=int, default=36)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=usable_cores())
    ap.add_argument("--out-dir", type=Path, default=ROOT / "results" / "benchmarks")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        _child(args.child, args.passes, args.threads)
        return
    nets = specs(args.space_points, args.seed)
    load_before = os.getloadavg()
    traces: dict[str, list[list[float]]] = {name: [] for name, _ in nets}
    t0 = time.perf_counter()
    for r in range(args.rounds):
        for name, spec in nets:
            out = subprocess.run([sys.executable, __file__, "--child", spec, "--passes", str(args.passes),
                                  "--threads", str(args.threads)], capture_output=True, text=True, check=True)
            traces[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"round {r + 1}/{args.rounds} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    settled = {n: statistics.median(statistics.median(tr[-SETTLED:]) for tr in trs) for n, trs in traces.items()}
    summary, rows = {}, []
    for w in WARMUPS:
        per = {n: [protocol_median(tr, w) for tr in trs] for n, trs in traces.items()}
        cvs = [statistics.pstdev(v) / statistics.mean(v) for v in per.values()]
        centre = {n: statistics.median(v) for n, v in per.items()}
        ratios = [centre[n] / settled[n] for n in traces]
        rho = spearmanr([centre[n] for n in traces], [settled[n] for n in traces]).statistic
        passes_cost = statistics.mean(sum(tr[:w]) + sum(protocol_timed(tr, w)) for trs in traces.values() for tr in trs)
        summary[w] = {"median_ratio_to_settled": statistics.median(ratios), "max_ratio_to_settled": max(ratios),
                      "cv_median": statistics.median(cvs), "cv_max": max(cvs), "spearman_vs_settled": float(rho),
                      "mean_ms_of_passes": passes_cost}
    for n, trs in traces.items():
        rows.append({"network": n, "settled_ms": settled[n],
                     "first_pass_ms": statistics.median(tr[0] for tr in trs),
                     "second_pass_ms": statistics.median(tr[1] for tr in trs),
                     **{f"w{w}_ms": statistics.median(protocol_median(tr, w) for tr in trs) for w in WARMUPS}})
    meta = {"rounds": args.rounds, "passes": args.passes, "threads": args.threads, "networks": len(nets),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores", "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(), "date": _dt.datetime.now().isoformat(timespec="seconds")}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out_dir / "latency_warmup.json",
                 json.dumps({"meta": meta, "summary": summary, "rows": rows, "traces": traces}, indent=1))
    lines = [f"# Latency warm-up passes on networks never run before ({meta['machine']})", "",
             f"{len(nets)} networks (the x4 zoo, deploy form, and {args.space_points} random points of the default "
             f"space), each built and timed in a fresh process, {args.rounds} rounds, {args.passes} consecutive passes, "
             f"LR 64x64, channels_last, {args.threads} threads; the warm-up counts are scored on the same traces with "
             f"the search's budget rule (3-10 timed passes, 100 ms), against the median of the last {SETTLED} passes; "
             f"load average {load_before[0]:.2f} before, {meta['loadavg_after'][0]:.2f} after; {meta['date']}.", "",
             "| warm-up passes | median / max ratio to the settled latency | CV over rounds, median / max | "
             "Spearman vs settled | ms of passes per measurement (warm-up + timed) |",
             "|---:|---:|---:|---:|---:|"]
    for w, v in summary.items():
        lines.append(f"| {w} | {v['median_ratio_to_settled']:.3f} / {v['max_ratio_to_settled']:.2f} | "
                     f"{100 * v['cv_median']:.1f} % / {100 * v['cv_max']:.1f} % | {v['spearman_vs_settled']:.3f} | "
                     f"{v['mean_ms_of_passes']:.0f} |")
    lines += ["", "| network | settled ms | 1st pass ms | 2nd pass ms | " + " | ".join(f"w={w} ms" for w in WARMUPS) + " |",
              "|---|" + "---:|" * (3 + len(WARMUPS))]
    for row in sorted(rows, key=lambda r: -r["settled_ms"]):
        lines.append(f"| {row['network']} | {row['settled_ms']:.2f} | {row['first_pass_ms']:.1f} | "
                     f"{row['second_pass_ms']:.1f} | " + " | ".join(f"{row[f'w{w}_ms']:.2f}" for w in WARMUPS) + " |")
    write_atomic(args.out_dir / "latency_warmup.md", "\n".join(lines) + "\n")
    print("\n".join(lines[:10]))


if __name__ == "__main__":
    main()
