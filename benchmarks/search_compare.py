"""Benchmark: hypervolume of the front after ``--budget`` trials, ``nas`` default vs baselines.

Protocol
--------
Each *method* is a named set of ``nas search`` flags. The default set:

============  ======================================  =============================================
method        flags                                   what it is
============  ======================================  =============================================
``default``   ``--profile halving --sampler tpe``     the default until 2026-12-03: TPE + successive
                                                      halving (20 -> 60 -> 180 steps)
``random``    ``--profile halving --sampler random``  random search, same schedule (the baseline)
``nsga2``     ``--profile halving --sampler nsga2``   Optuna's NSGA-II, same schedule
``tpe-fixed`` ``--profile fixed --sampler tpe``       TPE with the fixed 60-step proxy
============  ======================================  =============================================

(``--method NAME="FLAGS"``, repeated, replaces the whole set.) Every method runs once per seed
(``--seeds``, default ``0,1,2``) with the same budget (``--budget``, default 200 COMPLETE trials,
the enqueued reference networks included), scale, thread count and data (the built-in
photographs unless ``--extra-args`` says otherwise). The runs go one at a time (a 2-core machine:
parallel runs would distort each other's latency objective), seed-major (all methods with seed
0, then seed 1, ...), so a partial benchmark is still balanced. Each run is the subprocess::

    nas search --budget B --seed S --scale X --out <out-dir>/runs/<method>_s<seed> [--threads T] FLAGS EXTRA

logging to ``search.log`` in its folder; its wall time (s, summed over attempts) is kept in
``benchmark_run.json`` there. A run whose study already holds ``>= budget`` COMPLETE trials and
no pending successive-halving promotion is not started again; a killed one is resumed by running
the same ``nas search`` again (Optuna study in ``study.db``). So the benchmark resumes after a kill.
A finished run made elsewhere with the same flags can be adopted: copy its ``study.db`` into the
run folder and write ``benchmark_run.json`` with ``method``, ``args``, ``extra``, ``scale``,
``seed``, ``budget``, its ``attempts`` (wall time) and a ``note`` saying where it comes from and
what differs; the note is printed under the runs table.

Score of a run (read with :func:`nas.report.build_report_data`, the same code as ``nas report``):
the hypervolume (HV) of its front, i.e. of the COMPLETE candidates at the run's top fidelity
(180 steps for the successive-halving ``default`` profile, 60 for ``fixed``), in normalised objective space with the fixed
reference point of the scale (:data:`nas.front.hypervolume.HV_REFERENCES`; x4: PSNR 10-40 dB
linear, 1 K-2 M params, 50 M-100 G Mult-Adds and 0.1-1000 ms on log axes), computed by Optuna's
exact (WFG) hypervolume code.
Also: the HV history (HV after each top-fidelity score, with the number of COMPLETE trials at that
moment), candidates at the top fidelity, front size, wall time, and how many searched candidates
dominate each reference network.

Fairness. Methods that share a schedule (``default``, ``random``, ``nsga2``: all scored at
180 steps) are compared like with like. ``tpe-fixed``'s PSNR is after 60 steps, a different
fidelity (lower PSNR for the same network), so its HV is not on the same scale. ``--rescore
PROFILE`` (e.g. ``long``: 600 steps) retrains every run's final front members with one profile
(from scratch, the same seed for all) and recomputes each run's HV with the retrained PSNR and
the run's own measured costs: that table compares all methods on one scale. Retrained results
are cached by ``arch_id`` in ``search_compare_<tag>.rescore.jsonl`` (resumable).

Running
-------
The full benchmark (12 runs of 200 trials; hours on 2 cores)::

    .venv/bin/python benchmarks/search_compare.py

then the cross-schedule comparison (retrains the fronts, 600 steps each; ``--jobs 2`` trains
two networks at a time with one thread each, the faster use of 2 cores for small networks)::

    .venv/bin/python benchmarks/search_compare.py --rescore long --jobs 2

A quick check (a minute or two; the numbers mean nothing)::

    .venv/bin/python benchmarks/search_compare.py --budget 3 --seeds 0 --threads 1 \\
        --method a="--profile smoke-halving --sampler tpe" \\
        --method b="--profile smoke-halving --sampler random" --baseline b \\
        --extra-args "--references erfdn" --out-dir /tmp/sc_check --tag check

Secondary measures (in the JSON and the Markdown): the HV in the *linear box* this benchmark
used first (:func:`linear_box_hv`: costs linear from 0; it saturates near 0.63 for any search on
x4, which is why the package moved to log-scaled costs), the HV of the *references' box*
(:func:`reference_box_hv`: ideal point to the worst reference on each objective; what a search
found beyond the published networks) and the HV at *equal wall time* (:func:`hv_at`, after the
wall time of the fastest complete run).

``--no-run`` only re-scores the runs already on disk. Outputs in ``--out-dir`` (default
``results/benchmarks/search_compare``): ``search_compare_<tag>.json`` (settings, every run with
its HV history and front, per-method summary, rescoring), ``search_compare_<tag>.md`` (tables)
and ``search_compare_<tag>.png`` (HV against COMPLETE trials and against wall time, one line per
run, one colour per method); the runs themselves in ``<out-dir>/runs/``.

Reading the numbers
-------------------
HV is dimensionless, 0..1: the fraction of the box between the ideal point (x4: 40 dB, 1 K
params, 50 M Mult-Adds, 0.1 ms) and the reference point that the front dominates, costs on log
axes; larger is better, and a
ratio of 1.2 means the front dominates 20 % more of that box. Per method: the median over seeds,
the min-max range, and the ratio of medians against ``--baseline`` (``random``); target: the
default >= 1.2x random search. Latency is an objective measured during each run on this machine,
so background load changes it (and the HV) a little; compare runs made on one machine.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from _common import finite_or_none, write_atomic

# The steps, in the order main() takes them (each module documents its part). Everything the
# tests use is importable from this script.
from _search_runs import (  # noqa: F401 - re-exported
    _NAME, DEFAULT_METHODS, RESERVED_FLAGS, ROOT, RUN_LOG, RUN_META, MethodSpec, _display_path, _log_tail,
    _read_json, check_flags, execute_run, nas_executable, parse_method, parse_methods, parse_seeds, run_name,
    run_state, search_command, storage_url)
from _search_score import (  # noqa: F401 - re-exported
    SITTING_GAP_S, active_clock, hv_at, linear_box_hv, median_or_none, ratio, reference_box_hv, schedule_groups,
    schedule_of, score_run, summarise)
from _rescore import RescoreCache, rescore_runs  # noqa: F401 - re-exported
from _search_report import (  # noqa: F401 - re-exported
    TARGET_METHOD, TARGET_RATIO, fairness_text, render_markdown, render_png, target_text)

_jsonable = finite_or_none


# ---------------------------------------------------------------------------------- entry point
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", action="append", metavar='NAME="FLAGS"',
                    help="a method: name and its `nas search` flags; repeat; replaces the default set "
                         f"({', '.join(f'{k}={v!r}' for k, v in DEFAULT_METHODS.items())})")
    ap.add_argument("--budget", type=int, default=200, help="COMPLETE trials per run, references included (default 200)")
    ap.add_argument("--seeds", default="0,1,2", help="sampler seeds, comma-separated (default 0,1,2)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads of each run (0: not passed; default 2)")
    ap.add_argument("--scale", type=int, default=4, help="upscaling factor (default 4)")
    ap.add_argument("--extra-args", default="", help='flags appended to every run, e.g. "--references none"')
    ap.add_argument("--baseline", default="random", help="method the ratios are taken against (default random)")
    ap.add_argument("--rescore", default=None, metavar="PROFILE",
                    help="retrain every final front with this proxy profile (e.g. long) and recompute the HV")
    ap.add_argument("--device", default="auto", help="device of the --rescore trainings (default auto)")
    ap.add_argument("--jobs", type=int, default=1,
                    help="worker processes of the --rescore trainings, each with --threads // jobs torch threads "
                         "(default 1; 2 on a 2-core machine trains small networks nearly twice as fast)")
    ap.add_argument("--no-run", action="store_true", help="start no search; score the runs already on disk")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "results" / "benchmarks" / "search_compare")
    ap.add_argument("--tag", default=None, help="name in the output files (default: builtin, or 'custom' "
                                                "when the methods or --extra-args are not the defaults)")
    args = ap.parse_args(None if argv is None else list(argv))
    try:
        args.methods = parse_methods(args.method)
        args.seed_list = parse_seeds(args.seeds)
        args.extra = shlex.split(args.extra_args)
        check_flags(args.extra, "--extra-args")
    except ValueError as err:
        ap.error(str(err))
    if args.budget < 1:
        ap.error("--budget must be at least 1")
    if args.threads < 0:
        ap.error("--threads must be >= 0")
    if args.jobs < 1:
        ap.error("--jobs must be >= 1")
    if args.tag is None:
        args.tag = "builtin" if not args.method and not args.extra else "custom"
    if not _NAME.match(args.tag):
        ap.error("--tag: letters, digits, '_', '.' or '-'")
    args.out_dir = args.out_dir.resolve()
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)

    def _term(signum, frame):  # noqa: ARG001 - SIGTERM like Ctrl-C: stop the run cleanly
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    t_start = time.perf_counter()
    runs_dir = args.out_dir / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    nas = nas_executable()
    names = [m.name for m in args.methods]
    if args.baseline not in names:
        print(f"note: baseline {args.baseline!r} is not among the methods: no ratios", flush=True)
    plan = [(m, s) for s in args.seed_list for m in args.methods]
    records: list[dict[str, Any]] = []
    for i, (m, seed) in enumerate(plan, 1):
        rd = runs_dir / run_name(m.name, seed)
        cmd = search_command(m, seed, args.budget, args.scale, args.threads, args.extra, rd, nas)
        shown = shlex.join(search_command(m, seed, args.budget, args.scale, args.threads, args.extra,
                                          _display_path(rd)))
        meta = _read_json(rd / RUN_META) or {}
        want = {"method": m.name, "args": list(m.args), "extra": list(args.extra), "scale": args.scale}
        if meta and any(meta.get(k) != v for k, v in want.items()):
            print(f"error: {rd} holds a run made with other flags ({ {k: meta.get(k) for k in want} }); "
                  "use another --out-dir or remove that folder", file=sys.stderr)
            return 2
        meta = {**meta, **want, "seed": seed}
        state = run_state(rd, args.budget)
        status = "skipped"
        if not state["done"] and not args.no_run:
            print(f"[{i}/{len(plan)}] {m.name} seed {seed}: {state['reason']}; running `{shown}`", flush=True)
            meta["budget"] = args.budget
            attempt = execute_run(cmd, rd, meta)
            state = run_state(rd, args.budget)
            status = "ran" if state["done"] else "failed"
            print(f"    rc {attempt['rc']}, {attempt['wall_s']:.0f} s; {state['reason']}", flush=True)
            if not state["done"]:
                print(_log_tail(rd), flush=True)
        elif not state["done"]:
            status = "incomplete"
            print(f"[{i}/{len(plan)}] {m.name} seed {seed}: {state['reason']} (--no-run)", flush=True)
        else:
            print(f"[{i}/{len(plan)}] {m.name} seed {seed}: {state['reason']}, not rerun", flush=True)
        rec: dict[str, Any] = {"method": m.name, "seed": seed, "run_dir": _display_path(rd).as_posix(),
                               "command": shown, "status": status, "state": state}
        attempts = meta.get("attempts") or []
        rec["wall_s"] = round(sum(a.get("wall_s") or 0.0 for a in attempts), 1) if attempts else None
        rec["attempts"] = len(attempts)
        if meta.get("note"):  # e.g. a run adopted from elsewhere: where from, what differs
            rec["note"] = str(meta["note"])
        if state["n_complete"] > 0:
            scored_run = score_run(rd)
            scored_run["study_seed"] = scored_run.pop("seed", None)  # the sampler seed the study recorded
            rec.update(scored_run)
            # The attempts' sum misses a sitting whose bookkeeping was lost (a hard kill); the study's
            # active time (pauses > SITTING_GAP_S left out) misses only process start-up: take the larger.
            rec["wall_s"] = max(rec["wall_s"] or 0.0, rec.get("active_s") or 0.0) or rec.get("study_wall_s")
            if rec["n_complete"] > args.budget:
                print(f"    note: {rec['n_complete']} COMPLETE trials, more than --budget {args.budget}", flush=True)
        if status in ("failed", "incomplete"):  # scored for the record, not counted in the medians
            rec["partial_hv"] = rec.pop("final_hv", None)
            rec["final_hv"] = None
        records.append(rec)

    from nas.front.hypervolume import hv_reference

    ref = hv_reference(args.scale)
    sources = sorted({r["data_source"] for r in records if r.get("data_source")})
    settings = {
        "tag": args.tag, "budget": args.budget, "seeds": args.seed_list, "scale": args.scale,
        "threads": args.threads, "extra_args": shlex.join(args.extra), "baseline": args.baseline,
        "methods": [{"name": m.name, "args": m.args_text} for m in args.methods],
        "rescore_profile": args.rescore, "data_source": "; ".join(sources),
        "runs_dir": _display_path(runs_dir).as_posix(), "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(), "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "command": ".venv/bin/python benchmarks/search_compare.py "
                   + shlex.join(sys.argv[1:] if argv is None else list(argv)),
    }
    result: dict[str, Any] = {
        "settings": settings,
        "hv_reference": ref.describe(),
        "hv_reference_point": {"psnr_ideal_db": ref.psnr_ideal_db, "psnr_ref_db": ref.psnr_ref_db,
                               "params": ref.params, "mult_adds": ref.mult_adds, "latency_ms": ref.latency_ms,
                               "params_ideal": ref.params_ideal, "mult_adds_ideal": ref.mult_adds_ideal,
                               "latency_ideal_ms": ref.latency_ideal_ms, "cost_axes": "log"},
        "runs": records,
        "summary": summarise(records, names, args.baseline),
        "schedule_groups": schedule_groups(records, names),
        "target": {"method": TARGET_METHOD, "baseline": args.baseline, "ratio": TARGET_RATIO},
    }
    if args.rescore:
        scored = [r for r in records if r.get("final_hv") is not None]
        cache = RescoreCache(args.out_dir / f"search_compare_{args.tag}.rescore.jsonl")
        result["rescore"] = rescore_runs(scored, args.rescore, args.scale, args.threads, args.device, cache,
                                          jobs=args.jobs)
        for r in records:
            r["rescored_hv"] = (r.get("rescored") or {}).get("hypervolume")
        result["rescore_summary"] = summarise(records, names, args.baseline, key="rescored_hv")
    # Secondary measures (the fixed box saturates, see render_markdown): the references' box, and
    # HV at equal wall time (the shortest complete run's), both over the scored runs.
    scored_runs = [r for r in records if r.get("final_hv") is not None]
    t_equal = min((r["wall_s"] for r in scored_runs if r.get("wall_s")), default=None)
    for r in records:
        r["hv_at_equal_time"] = hv_at(r, t_equal) if t_equal and r.get("final_hv") is not None else None
    result["equal_time_s"] = t_equal
    result["ref_box_summary"] = summarise(scored_runs, names, args.baseline, key="ref_box_hv")
    result["equal_time_summary"] = summarise(scored_runs, names, args.baseline, key="hv_at_equal_time")
    result["linear_box_summary"] = summarise(scored_runs, names, args.baseline, key="linear_box_hv")
    result["notes"] = {"fairness": fairness_text(result), "target": target_text(result)}
    settings["wall_s"] = round(time.perf_counter() - t_start, 1)

    for r in records:  # configs stay in the studies; the JSON names arch_ids
        for p in r.get("front") or []:
            p.pop("config", None)
    tag = args.tag
    write_atomic(args.out_dir / f"search_compare_{tag}.json", json.dumps(_jsonable(result), indent=1) + "\n")
    write_atomic(args.out_dir / f"search_compare_{tag}.md", render_markdown(result))
    render_png(result, args.out_dir / f"search_compare_{tag}.png")
    print(render_markdown(result).split("## Reference point")[0].rstrip())
    print(f"\nwrote {args.out_dir}/search_compare_{tag}.{{json,md,png}}", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        sys.exit(130)
