"""Benchmark: `nas search` with --jobs 1 against --jobs N on this machine, in one run (issue 21).

For each job count, runs the real command (``nas search --budget B --jobs J``, default profile,
x4, built-in photographs, default references) into its own folder, then reads the study:

* wall time of the command, COMPLETE trials per hour, and the ratio to ``--jobs 1``;
* where the worker-seconds went: training + validation (rung 0 and every promotion; less the
  pauses while another job timed a latency) against everything else (build, Mult-Adds,
  latency and its gate, sampling, storage, output rewrites, promotion bookkeeping, trials that
  did not complete, waiting for the last trial): ``overhead = 1 - training / (wall x J)``, and
  a table of those stages from every trial's ``timings``;
* the final hypervolume of each front (same computation, same fidelity, ``nas.report``);
* latency agreement of the ``--jobs N`` study with a quiet re-timing of its front and its
  references after the search (deploy form, the study's thread count and input, ``--rounds``
  rounds of ``--repeats`` passes): Spearman rho and each network's coefficient of variation
  over the rounds.

Writes ``<out-dir>/search_jobs.{md,json}``. Run (about 30 min on 2 cores)::

    .venv/bin/python benchmarks/search_jobs.py --budget 200 --jobs 1,2

The searches run one after the other; nothing else should run meanwhile (the table says what
the load average was).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import write_atomic  # noqa: E402
from benchmarks.trial_breakdown import breakdown, overhead, stage_table, study_stats  # noqa: E402


def run_search(jobs: int, budget: int, out: Path, profile: str, scale: int, extra: list[str]) -> dict:
    """Run `nas search` into a new folder ``out`` and time it.

    Raises:
        SystemExit: ``out`` already holds a study (resuming a finished one would time nothing and
            overwrite the committed table with a wall time of seconds).
    """
    if (out / "study.db").exists():
        raise SystemExit(f"{out} already holds a study: delete it or pass another --runs-dir")
    cmd = [sys.executable, "-m", "nas.cli", "search", "--budget", str(budget), "--jobs", str(jobs),
           "--profile", profile, "--scale", str(scale), "--out", str(out), *extra]
    load_before = os.getloadavg()
    t = time.perf_counter()
    log = out.parent / f"{out.name}.log"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as fh:
        rc = subprocess.call(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, "NAS_JOBS": ""})
    wall = time.perf_counter() - t
    if rc != 0:
        raise SystemExit(f"nas search --jobs {jobs} failed (rc {rc}); log: {log}")
    return {"jobs": jobs, "wall_s": wall, "out": str(out), "log": str(log), "command": " ".join(cmd[2:]),
            "loadavg_before": [round(x, 2) for x in load_before], "loadavg_after": [round(x, 2) for x in os.getloadavg()]}


def latency_agreement(out: Path, rounds: int, repeats: int) -> dict:
    """Re-time the front and the references of the study in ``out`` on a quiet machine
    (``benchmarks/remeasure_latency.remeasure``): Spearman rho and the rounds' CV."""
    import pandas as pd
    import torch
    from scipy.stats import spearmanr

    from benchmarks.remeasure_latency import remeasure

    timed, lr_hw = remeasure(out, rounds, repeats, log=lambda _row: None)
    rows = [{k: r[k] for k in ("number", "study_ms", "quiet_ms", "cv")} for r in timed]
    t = pd.DataFrame(rows)
    rho = float(spearmanr(t["study_ms"], t["quiet_ms"]).statistic) if len(t) > 2 else float("nan")
    return {"n": len(t), "spearman": round(rho, 3), "cv_median": round(float(t["cv"].median()), 4),
            "cv_max": round(float(t["cv"].max()), 4),
            "median_ratio_study_to_quiet": round(float((t["study_ms"] / t["quiet_ms"]).median()), 3),
            "threads": torch.get_num_threads(), "lr_hw": list(lr_hw), "rows": rows}


def render(result: dict) -> str:
    runs = result["runs"]
    base = next((r for r in runs if r["jobs"] == 1), runs[0])
    resolved = base["stats"].get("profile_resolved")
    lines = [f"# `nas search --budget {result['budget']}` with --jobs 1 against --jobs N ({result['machine']})", "",
             f"Profile `{result['profile']}`" + (f" (resolved to `{resolved}`)" if resolved and resolved != result['profile'] else "")
             + f", x{result['scale']}, built-in photographs, default references; "
             f"{result['cores']} usable cores, torch {result['torch']}; the searches ran one after the other on a "
             f"machine otherwise idle (load averages before/after in the json). {result['date']}.", "",
             "| jobs | wall min | COMPLETE | promotions | trials / h | speed-up | train + validate (worker-s) | "
             "build + Mult-Adds + latency (worker-s) | overhead | hypervolume | latencies timed under load |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        st = r["stats"]["stages_s"]
        work = breakdown(r)["training"]
        costs = st["build_s"] + st["mult_adds_s"] + st["latency_s"]
        tph = r["stats"]["complete"] / (r["wall_s"] / 3600)
        speed = base["wall_s"] / r["wall_s"]
        hv = r["stats"]["hypervolume"]
        lines.append(f"| {r['jobs']} | {r['wall_s'] / 60:.1f} | {r['stats']['complete']} | {r['stats']['promotions']} | "
                     f"{tph:.0f} | {speed:.2f}x | {work:.0f} | {costs:.0f} | {overhead(r):.1%} | "
                     f"{'' if hv is None else f'{hv:.4f}'} | {r['stats']['latency_loaded_trials']} |")
    agr = result.get("latency")
    if agr:
        lines += ["", f"Latency of the `--jobs {agr['jobs']}` study against a quiet re-timing after the search "
                      f"({agr['n']} networks: its front and the references; deploy form, {agr['threads']} threads, "
                      f"LR {agr['lr_hw'][0]}x{agr['lr_hw'][1]}, {result['rounds']} rounds of {result['repeats']} passes): "
                      f"Spearman **{agr['spearman']:.3f}**, coefficient of variation over the rounds median "
                      f"{agr['cv_median']:.1%} / max {agr['cv_max']:.1%}, median study / quiet ratio "
                      f"{agr['median_ratio_study_to_quiet']:.2f}."]
    lines += ["", "Where the worker-seconds went (wall x jobs; each trial's stage timings, summed; "
                  "`benchmarks/trial_breakdown.py`):", "", *stage_table(runs), "",
              "Overhead: the share of the worker-seconds (wall x jobs) not spent training or validating "
                  "(a training step paused while another job times a latency is overhead too): "
                  "building, counting Mult-Adds, timing latency (and waiting for the quiet gate), sampling, "
                  "storage, output rewrites, promotion bookkeeping and jobs idle while the last trial finishes.",
              "The two searches sample different candidates (each job has its own sampler seed), so their "
              "fronts differ; the hypervolume says whether they are as good."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=200)
    ap.add_argument("--jobs", default="1,2", help="comma-separated job counts")
    ap.add_argument("--profile", default="default")
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--runs-dir", type=Path, default=Path("/tmp/nas-search-jobs"),
                    help="where the searches write (a new folder: an existing study is refused)")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "results" / "benchmarks")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--extra", default="", help="more nas search flags, e.g. '--space tiny.yaml'")
    ap.add_argument("--rerender", action="store_true",
                    help="no new search: re-read the studies of the last run (its json's folders) and rewrite the tables")
    args = ap.parse_args()
    import torch

    if args.rerender:
        result = json.loads((args.out_dir / "search_jobs.json").read_text())
        for r in result["runs"]:
            r["stats"] = study_stats(Path(r["out"]))
        write_atomic(args.out_dir / "search_jobs.json", json.dumps(result, indent=1, default=str) + "\n")
        write_atomic(args.out_dir / "search_jobs.md", render(result))
        print(render(result))
        return
    runs = []
    for jobs in [int(j) for j in args.jobs.split(",")]:
        out = args.runs_dir / f"jobs{jobs}"
        r = run_search(jobs, args.budget, out, args.profile, args.scale, args.extra.split())
        r["stats"] = study_stats(out)
        runs.append(r)
        print(json.dumps({k: v for k, v in r.items() if k != "stats"}), r["stats"], flush=True)
    top = max(runs, key=lambda r: r["jobs"])
    agr = latency_agreement(Path(top["out"]), args.rounds, args.repeats)
    agr["jobs"] = top["jobs"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    result = {"budget": args.budget, "profile": args.profile, "scale": args.scale, "runs": runs, "latency": agr,
              "rounds": args.rounds, "repeats": args.repeats, "cores": cores, "torch": torch.__version__,
              "machine": f"{platform.machine()}, {cores} cores", "date": time.strftime("%Y-%m-%dT%H:%M:%S")}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out_dir / "search_jobs.json", json.dumps(result, indent=1, default=str) + "\n")
    write_atomic(args.out_dir / "search_jobs.md", render(result))
    print(render(result))


if __name__ == "__main__":
    main()
