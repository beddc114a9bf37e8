"""Benchmark: where a whole search's worker-seconds go, stage by stage (issue 21).

Reads finished ``nas search`` folders (any profile, any ``--jobs``) and splits their
worker-seconds (wall x jobs) into training + validation (rung 0 and every promotion) and the
overhead: training steps paused while another job timed a latency, latency timing, waiting for
the quiet gate, build + admission + Mult-Adds, sampling, trials that did not complete (pruned:
budget, duplicate, domain, limits; failed), the rest of a trial (storage writes, prediction,
bookkeeping) and the time between trials (process start-up, output rewrites, jobs idle while
the last trial finishes). Every number comes from the trials' own ``timings`` and timestamps.

``benchmarks/search_jobs.py`` runs the searches (``--jobs 1`` against ``--jobs N``) and uses
:func:`study_stats` / :func:`breakdown` for its tables; this script re-reads any search folder.
A folder's wall time is the one ``search_jobs.py`` measured when its json names the folder,
else the span from the first trial's start to the last trial's end (start-up and the final
output writes are then not counted, which the table says), and its job count is the largest
number of trials that ran at once.

Optionally (``--trainer-ratio``) the proxy trainer's it/s against a plain channels_last torch
loop (same model and batch shape, batches prepared in advance), median of ``--repeats`` runs.

Writes ``<out-dir>/trial_breakdown.{md,json}``. Run::

    .venv/bin/python benchmarks/trial_breakdown.py /tmp/nas-search-jobs/jobs1 /tmp/nas-search-jobs/jobs2
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import write_atomic  # noqa: E402

#: Stage keys of :func:`breakdown`, in table order, with their column titles.
STAGES = {"training": "training + validation", "paused": "paused for another job's timing",
          "latency": "latency timing", "gate_wait": "waiting for the gate",
          "build_count": "build + admission + Mult-Adds", "sampling": "sampling",
          "not_complete": "trials not completed", "rest_of_trial": "rest of a trial",
          "between": "between trials (start-up, outputs, idle tail)"}


def _load(out: Path):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    db = out / "study.db"
    if not db.is_file():
        raise SystemExit(f"{out}: no study.db (pass the output folder of a finished `nas search`)")
    return optuna.load_study(study_name=None, storage=f"sqlite:///{db.as_posix()}")


def study_stats(out: Path) -> dict:
    """Counts, worker-seconds by stage (s) and the final hypervolume of the study in ``out``.

    Raises:
        SystemExit: ``out`` holds no ``study.db``.
    """
    from nas.metrics.quiet import LOADED_SHARE
    from nas.report import build_report_data
    from nas.search.rungs import rung_results

    study = _load(out)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    stages = {"build_s": 0.0, "mult_adds_s": 0.0, "latency_s": 0.0, "train_s": 0.0, "validate_s": 0.0,
              "sample_s": 0.0, "paused_s": 0.0, "gate_wait_s": 0.0, "trials_wall_s": 0.0, "not_complete_wall_s": 0.0}
    for t in trials:
        for k, v in (t.user_attrs.get("timings") or {}).items():
            if k in stages:
                stages[k] += float(v)
        if t.state.name == "COMPLETE":
            stages["gate_wait_s"] += float((t.user_attrs.get("latency_load") or {}).get("wait_s") or 0.0)
        if t.datetime_start and t.datetime_complete:
            wall = (t.datetime_complete - t.datetime_start).total_seconds()
            stages["trials_wall_s"] += wall
            if t.state.name != "COMPLETE":  # pruned (budget, duplicate, domain, limits) or failed
                stages["not_complete_wall_s"] += wall
    promotions = 0
    for rec in rung_results(study.user_attrs).values():
        if "train_s" in rec:
            stages["train_s"] += float(rec["train_s"])
            stages["validate_s"] += float(rec.get("val_s", 0.0))
            stages["promotion_s"] = stages.get("promotion_s", 0.0) + float(rec["train_s"]) + float(rec.get("val_s", 0.0))
            promotions += 1
    loaded = sum(1 for t in complete
                 if ((t.user_attrs.get("latency_load") or {}).get("others_share") or 0.0) > LOADED_SHARE)
    data = build_report_data(study, out)
    return {"complete": len(complete), "trials": len(trials), "promotions": promotions,
            "stages_s": {k: round(v, 1) for k, v in stages.items()},
            "hypervolume": data.final_hypervolume, "latency_loaded_trials": loaded,
            "threads_training": study.user_attrs.get("profile", {}).get("threads"),
            "profile_resolved": study.user_attrs.get("profile", {}).get("name"),
            "threads_latency": study.user_attrs.get("latency", {}).get("threads")}


def span_and_jobs(out: Path) -> tuple[float, int]:
    """``(s, jobs)``: seconds from the first trial's start to the last trial's end, and the
    largest number of trials running at once (the search's ``--jobs``, or its worker count)."""
    trials = [t for t in _load(out).get_trials(deepcopy=False) if t.datetime_start and t.datetime_complete]
    if not trials:
        raise SystemExit(f"{out}: no finished trial")
    events = sorted([(t.datetime_start, 1) for t in trials] + [(t.datetime_complete, -1) for t in trials],
                    key=lambda e: (e[0], e[1]))
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    span = (max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)).total_seconds()
    return span, most


def breakdown(run: dict) -> dict[str, float]:
    """Worker-seconds of one run by stage (keys of :data:`STAGES`); they add up to wall x jobs.

    ``run``: ``{"wall_s", "jobs", "stats": study_stats(...)}``. Training is train + validate of
    the completed trials and the promotions, less the pauses for other jobs' timings.
    """
    st = run["stats"]["stages_s"]
    total = run["wall_s"] * run["jobs"]
    paused = st.get("paused_s", 0.0)
    wait = st.get("gate_wait_s", 0.0)
    parts = {"training": st["train_s"] + st["validate_s"] - paused, "paused": paused,
             "latency": st["latency_s"] - wait, "gate_wait": wait,
             "build_count": st["build_s"] + st["mult_adds_s"], "sampling": st.get("sample_s", 0.0),
             "not_complete": st.get("not_complete_wall_s", 0.0)}
    in_trials = st.get("trials_wall_s", 0.0)
    promotion = st.get("promotion_s", 0.0)  # promotions train outside any trial's wall time
    parts["rest_of_trial"] = max(0.0, in_trials - parts["not_complete"] + promotion - sum(
        v for k, v in parts.items() if k != "not_complete"))
    parts["between"] = max(0.0, total - in_trials - promotion)
    return parts


def overhead(run: dict) -> float:
    """Share of the worker-seconds not spent training or validating (0-1)."""
    return 1.0 - breakdown(run)["training"] / (run["wall_s"] * run["jobs"])


def stage_table(runs: list[dict], label: str = "jobs") -> list[str]:
    """Markdown rows: one per run, each stage in worker-seconds and share, then the overhead."""
    lines = [f"| {label} | " + " | ".join(STAGES.values()) + " | overhead |",
             "|---|" + "---:|" * (len(STAGES) + 1)]
    for r in runs:
        total = r["wall_s"] * r["jobs"]
        lines.append(f"| {r.get('label', r['jobs'])} | "
                     + " | ".join(f"{v:.0f} s ({v / total:.1%})" for v in breakdown(r).values())
                     + f" | **{overhead(r):.1%}** |")
    return lines


def plain_loop_its(config, data, profile, iters: int) -> float:
    """A plain channels_last training loop (no data pipeline): the ceiling for the trainer. Same
    network as the trainer's (with the profile's proxy-only skip) and the same thread count."""
    import torch
    from torch import nn

    from nas.models import build_model
    from nas.proxy.train import torch_threads, with_skip

    torch.manual_seed(0)
    model = with_skip(build_model(config), getattr(profile, "skip", "none"), data.scale)
    model = model.to(memory_format=torch.channels_last).train()
    opt = torch.optim.Adam(model.parameters(), lr=profile.lr)
    batches = [data.batch(i, profile.batch, profile.lr_patch, profile.seed) for i in range(iters)]
    batches = [(lr.contiguous(memory_format=torch.channels_last), hr.contiguous(memory_format=torch.channels_last))
               for lr, hr in batches]
    loss_fn = nn.L1Loss()
    with torch_threads(getattr(profile, "threads", None)):
        t = time.perf_counter()
        for lr, hr in batches:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(lr), hr)
            loss.backward()
            opt.step()
        return iters / (time.perf_counter() - t)


def proxy_its(config, data, profile, iters: int) -> float:
    """The proxy trainer's it/s on the same model (``nas.proxy.train.train_proxy``)."""
    import torch

    from nas.models import build_model
    from nas.proxy.train import train_proxy

    torch.manual_seed(0)
    res = train_proxy(build_model(config), data, profile.with_iters(iters))
    return iters / res.train_s


def trainer_ratio(repeats: int, iters: int, profile_name: str) -> list[dict]:
    """Proxy trainer against a plain loop on E-RFDN and IMDN (x4, built-in data)."""
    from nas.arch import reference_config
    from nas.proxy import get_profile
    from nas.proxy.data import load_proxy_data

    profile = get_profile(profile_name)
    data = load_proxy_data(4, profile)
    rows = []
    for name in ("erfdn", "imdn"):
        cfg = reference_config(name, 4)
        plain = [plain_loop_its(cfg, data, profile, iters) for _ in range(repeats)]
        proxy = [proxy_its(cfg, data, profile, iters) for _ in range(repeats)]
        rows.append({"model": name, "plain_it_s": round(statistics.median(plain), 2),
                     "proxy_it_s": round(statistics.median(proxy), 2),
                     "ratio": round(statistics.median(proxy) / statistics.median(plain), 3)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def measured_walls(path: Path) -> dict[str, dict]:
    """``{folder: run}`` of the runs ``search_jobs.py`` timed (its json), or ``{}``."""
    if not path.is_file():
        return {}
    return {str(Path(r["out"]).resolve()): r for r in json.loads(path.read_text()).get("runs", [])}


def render(result: dict) -> str:
    lines = [f"# Where a search's worker-seconds go, stage by stage ({result['machine']})", "",
             "Each row is one finished `nas search`; worker-seconds are wall x jobs. Wall: "
             + ("the command's own, timed by `benchmarks/search_jobs.py`" if all(r["wall_from"] == "command" for r in result["runs"])
                else "the command's own where `search_jobs.py` timed it, else first trial start to last trial end "
                     "(start-up and the final output writes not counted)") + f". {result['date']}.", "",
             "| run | profile | jobs | wall min | COMPLETE | trials | promotions |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in result["runs"]:
        st = r["stats"]
        lines.append(f"| {r['label']} | {st.get('profile_resolved') or '?'} | {r['jobs']} | {r['wall_s'] / 60:.1f} | "
                     f"{st['complete']} | {st['trials']} | {st['promotions']} |")
    lines += ["", *stage_table(result["runs"], "run"), "",
              "Overhead: everything but training and validation (a training step paused while another job "
              "times a latency counts as overhead): building, counting Mult-Adds, timing latency and waiting "
              "for the quiet gate, sampling, storage writes, output rewrites, promotion bookkeeping, trials "
              "pruned or failed, and jobs idle while the last trial finishes."]
    ratio = result.get("trainer_ratio")
    if ratio:
        lines += ["", f"## Proxy trainer against a plain channels_last loop (profile `{result.get('ratio_profile', '?')}`, "
                      f"{result['ratio_iters']} iters, median of {result['repeats']}; both with the profile's skip "
                      "and training threads)", "", "| model | plain it/s | proxy it/s | ratio |",
                  "|---|---:|---:|---:|"]
        lines += [f"| {r['model']} | {r['plain_it_s']} | {r['proxy_it_s']} | {r['ratio']} |" for r in ratio]
        lines += ["", "The plain loop gets its batches prepared in advance; the proxy trainer crops, augments and "
                      "converts each batch inside the timed loop (target ratio >= 0.95)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path, help="output folders of finished `nas search` runs")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "results" / "benchmarks")
    ap.add_argument("--trainer-ratio", action="store_true", help="also time the proxy trainer against a plain loop")
    ap.add_argument("--profile", default="bicubic-predicted", help="profile of the trainer ratio")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ratio-iters", type=int, default=30)
    args = ap.parse_args()
    import os

    import torch

    timed = measured_walls(args.out_dir / "search_jobs.json")
    runs = []
    for out in args.runs:
        span, jobs = span_and_jobs(out)
        known = timed.get(str(out.resolve()))
        run = {"label": out.name, "out": str(out), "jobs": int(known["jobs"]) if known else jobs,
               "wall_s": float(known["wall_s"]) if known else span, "wall_from": "command" if known else "trials"}
        run["stats"] = study_stats(out)
        runs.append(run)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    result = {"runs": runs, "machine": f"{platform.machine()}, {cores} cores, torch {torch.__version__}",
              "date": time.strftime("%Y-%m-%dT%H:%M:%S")}
    if args.trainer_ratio:
        result.update(trainer_ratio=trainer_ratio(args.repeats, args.ratio_iters, args.profile),
                      repeats=args.repeats, ratio_iters=args.ratio_iters, ratio_profile=args.profile)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out_dir / "trial_breakdown.json", json.dumps(result, indent=1, default=str) + "\n")
    write_atomic(args.out_dir / "trial_breakdown.md", render(result))
    print(render(result))


if __name__ == "__main__":
    main()
