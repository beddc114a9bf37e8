"""Benchmark: how well cheap proxy trainings rank architectures, against a 10x longer training.

Protocol
--------
Calibration set: ``--n-archs`` (default 20) architectures at ``--scale`` (default x4): the
references IMDN, RFDN and E-RFDN, plus ``n - 3`` candidates of the default search space
(``search_spaces/lightweight_sr.yaml``). The candidates are drawn from ``--pool`` (default 300)
random points (Optuna ``RandomSampler(seed=--seed)``), deduplicated by ``arch_id`` (points that
cannot be built are dropped), limited to ``--max-params`` (default 800,000: the lightweight range,
a little above IMDN, the largest reference; the space reaches 2.7 M, whose 10x training alone
would take hours on 2 cores), and picked nearest to log-spaced parameter counts from the
smallest to the largest, so the set covers the parameter range evenly on a log scale.

Every architecture is trained by four independent units of work, each from a fresh model
(``torch.manual_seed(profile.seed)`` then ``build_model``), on the same proxy data:

* ``proxy``: the fixed proxy of ``nas search``, profile ``--proxy-profile`` (``fixed``: 60 steps);
* ``halving``: the successive-halving chain, profile ``--halving-profile`` (``halving``: one
  warm-restart cosine segment per rung, validated at 20, 60 and 180 steps in all), i.e. what a
  candidate promoted to the top rung goes through;
* ``long_s0`` / ``long_s1``: the reference training, profile ``--long-profile`` (``long``: 600
  steps = 10x the default proxy) with seed 0 and seed 1 (weight init and patch order).

Ground truth is the mean validation PSNR of the two long runs. Each predictor (the proxy PSNR,
each halving rung's PSNR, and the parameter count and Mult-Adds read as "bigger is better") is
compared with it by Spearman's rho, Kendall's tau-b and the top-10 % overlap
(``|top-k by predictor & top-k by truth| / k`` with ``k = ceil(0.1 n)``). The *noise floor* is the
agreement of the two long seeds with each other: a proxy cannot be expected to rank better than
the reference training agrees with itself.

Running
-------
Built-in photographs (scikit-image's bundled images, 4 train / 2 validation; tag ``builtin``)::

    .venv/bin/python benchmarks/fidelity.py

A DIV2K-style training folder and a Set14 validation folder (tag ``folders``)::

    .venv/bin/python benchmarks/fidelity.py --data ../shared/benchmark_data/DF2K_sample \\
        --val-data ../shared/benchmark_data/Set14

A smoke run (seconds; the numbers mean nothing)::

    .venv/bin/python benchmarks/fidelity.py --n-archs 4 --proxy-profile smoke \\
        --halving-profile smoke-halving --long-profile smoke --out-dir /tmp/fid_check --tag check

``--jobs N`` worker processes (default 2) each use ``--threads-per-job`` torch threads (default
1); the most expensive units (long runs of big architectures) go first. Every finished unit is
appended to ``<out-dir>/fidelity_<tag>.cache.jsonl``: a killed run resumes where it stopped, and a
unit already in the cache (same arch_id, protocol, profile and data source) is never trained again.

Outputs (``--out-dir``, default ``results/benchmarks``): ``fidelity_<tag>.json`` (settings,
per-architecture results, statistics), ``fidelity_<tag>.md`` (the tables) and
``fidelity_<tag>.png`` (proxy and top-rung PSNR against the long-run PSNR).

Reading the numbers
-------------------
rho / tau = 1: the predictor orders the architectures exactly as the long training does; 0: no
relation; -1: reversed. A top-10 % overlap of 1 means the predictor's best ``k`` are the long
training's best ``k``. PSNR is validation Y-PSNR in dB (BT.601, ``scale`` px border shaved, SR
quantised to 8 bit); train times are wall seconds of the training loops, with the threads stated.

Code: this file picks the calibration set, makes the units and computes the statistics; the
unit cache and the worker pool are ``_units.py`` (shared with ``zoo_fidelity.py``), Spearman /
Kendall / top-k overlap ``_stats.py``, the Markdown and the plot ``_fidelity_report.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

from _common import finite_or_none, fmt, write_atomic
from _fidelity_report import render_markdown, render_png
from _stats import TOP_FRAC, rank_stats, top_k_overlap, top_k_size  # noqa: F401 - re-exported
from _units import Cache, _psnr, _rec_key, _unit_key, run_unit, run_units  # noqa: F401 - re-exported

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_NAMES = ("imdn", "rfdn", "erfdn")
PROTOCOLS = ("proxy", "halving", "long_s0", "long_s1")
_finite_or_none = finite_or_none
_fmt = fmt


# ---------------------------------------------------------------------------------- ground truth
def ground_truth(long_s0: Sequence[float | None], long_s1: Sequence[float | None]) -> list[float]:
    """Per architecture, the mean long-run PSNR (dB) of the two seeds; NaN if either is missing."""
    out = []
    for a, b in zip(long_s0, long_s1, strict=True):
        out.append(float("nan") if a is None or b is None else (float(a) + float(b)) / 2)
    return out


# ---------------------------------------------------------------------------------- calibration set
def calibration_set(n_archs: int, scale: int, seed: int, pool: int,
                    max_params: int | None = 800_000) -> list[dict[str, Any]]:
    """The references IMDN, RFDN, E-RFDN plus ``n_archs - 3`` sampled candidates of the default space.

    ``pool`` points are drawn with Optuna's ``RandomSampler(seed=seed)``, deduplicated by
    ``arch_id`` (also against the references; points that cannot be built are dropped), sorted
    by parameter count, limited to ``max_params`` (``None``: no limit), and picked nearest to
    ``n_archs - 3`` log-spaced parameter counts, the smallest and the largest included.

    Returns:
        Dicts with ``name`` (reference name or ``cand<k>``, k in ascending params), ``arch_id``,
        ``summary``, ``params``, ``config`` (``ArchConfig.to_dict()``), ``reference`` (bool) and,
        for candidates, ``sample_trial`` (the Optuna trial number that drew it).
    """
    import optuna
    import torch

    from nas.arch import reference_config
    from nas.errors import NasError
    from nas.metrics import count_params
    from nas.models import build_model
    from nas.space import load_space

    if n_archs < len(REFERENCE_NAMES):
        raise SystemExit(f"--n-archs must be at least {len(REFERENCE_NAMES)} (the references)")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name in REFERENCE_NAMES:
        cfg = reference_config(name, scale)
        out.append({"name": name, "arch_id": cfg.arch_id, "summary": cfg.summary(), "reference": True,
                    "params": count_params(build_model(cfg)), "config": cfg.to_dict()})
        seen.add(cfg.arch_id)
    want = n_archs - len(REFERENCE_NAMES)
    if want == 0:
        return out

    space = load_space(None)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    cands: list[tuple[int, int, Any]] = []  # (params, trial number, config)
    with torch.no_grad():
        for _ in range(pool):
            trial = study.ask()
            try:
                cfg = space.suggest(trial, scale)
                if cfg.arch_id in seen:
                    continue
                params = count_params(build_model(cfg))
            except NasError:
                continue
            finally:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            seen.add(cfg.arch_id)
            if max_params is None or params <= max_params:
                cands.append((params, trial.number, cfg))
    cands.sort(key=lambda c: (c[0], c[2].arch_id))
    if len(cands) < want:
        print(f"warning: only {len(cands)} distinct buildable candidates in a pool of {pool}; "
              f"using all of them", file=sys.stderr)
        picks = list(range(len(cands)))
    elif want == 1:
        picks = [len(cands) // 2]
    else:
        # nearest unused candidate to each of `want` log-spaced parameter counts
        logs = [math.log(c[0]) for c in cands]
        lo, hi = logs[0], logs[-1]
        picks, used = [], set()
        for i in range(want):
            target = lo + (hi - lo) * i / (want - 1)
            j = min((j for j in range(len(cands)) if j not in used), key=lambda j: abs(logs[j] - target))
            used.add(j)
            picks.append(j)
        picks.sort()
    for k, i in enumerate(picks):
        params, number, cfg = cands[i]
        name = f"cand{k}"
        out.append({"name": name, "arch_id": cfg.arch_id, "summary": cfg.summary(), "reference": False,
                    "params": params, "sample_trial": number, "config": cfg.replace(name=name).to_dict()})
    return out


def add_mult_adds(archs: list[dict[str, Any]], cache: Cache) -> None:
    """Fill ``arch["mult_adds"]`` (MACs for a 1280x720 HR output, fvcore) from the cache or by
    counting (one 720p forward pass, seconds per model; appended to the cache)."""
    import torch

    from nas.arch import ArchConfig
    from nas.metrics import mult_adds
    from nas.models import build_model

    for a in archs:
        rec = cache.archs.get(a["arch_id"])
        if rec is None or rec.get("params") != a["params"]:
            cfg = ArchConfig.from_dict(a["config"])
            t = time.perf_counter()
            with torch.no_grad():
                macs = mult_adds(build_model(cfg), cfg.scale, in_channels=cfg.colors)
            rec = {"kind": "arch", "arch_id": a["arch_id"], "params": a["params"], "mult_adds": int(macs),
                   "count_s": round(time.perf_counter() - t, 3)}
            cache.append(rec)
            print(f"  Mult-Adds {a['name']:>8} {a['arch_id']}: {macs / 1e9:.2f} G ({rec['count_s']:.1f} s)", flush=True)
        a["mult_adds"] = int(rec["mult_adds"])


# ---------------------------------------------------------------------------------- units and statistics
def make_units(archs: list[dict], profiles: dict[str, Any], data_key: str) -> list[dict[str, Any]]:
    """Every (architecture, protocol) unit, most expensive first.

    Cost estimate: Mult-Adds (MACs) x steps x batch x LR-patch pixels, the long runs of the big
    architectures first, so no worker is left with one long run at the end.
    """
    units = []
    for a in archs:
        for protocol in PROTOCOLS:
            prof = profiles[protocol]
            steps = prof.rung_stops[-1] if protocol == "halving" else prof.iters
            cost = a["mult_adds"] * steps * prof.batch * prof.lr_patch ** 2
            units.append({"arch_id": a["arch_id"], "name": a["name"], "protocol": protocol,
                          "profile": prof.to_dict(), "config": a["config"], "data": data_key, "cost": cost})
    units.sort(key=lambda u: -u["cost"])
    return units


def collect(archs: list[dict], profiles: dict[str, Any], data_key: str, cache: Cache) -> None:
    """Attach each protocol's cached record to its architecture (``arch[protocol]``, None if
    missing) and the ground truth ``arch["long_mean_psnr_db"]`` (dB)."""
    for a in archs:
        for protocol in PROTOCOLS:
            rec = cache.units.get(_unit_key(a["arch_id"], protocol, profiles[protocol].to_dict(), data_key))
            a[protocol] = None if rec is None else {
                k: rec.get(k) for k in ("psnr_db", "iters", "train_s", "val_s", "unit_s", "rungs", "error",
                                        "threads", "device", "data_source", "finished") if k in rec}
        a["long_mean_psnr_db"] = ground_truth([_psnr(a, "long_s0")], [_psnr(a, "long_s1")])[0]


def predictors(archs: list[dict], profiles: dict[str, Any]) -> list[tuple[str, str, list[float | None]]]:
    """``(key, label, values)`` of every predictor, per architecture in ``archs`` order: proxy
    PSNR (dB), each halving rung's PSNR (dB), params and Mult-Adds (MACs; larger = predicted better)."""
    out = [("proxy", f"proxy `{profiles['proxy'].name}` ({profiles['proxy'].iters} it)",
            [_psnr(a, "proxy") for a in archs])]
    for r, stop in enumerate(profiles["halving"].rung_stops):
        out.append((f"halving_r{r}", f"halving `{profiles['halving'].name}` rung {r} ({stop} it)",
                    [_psnr(a, "halving", r) for a in archs]))
    out.append(("params", "params (more = better)", [float(a["params"]) for a in archs]))
    out.append(("mult_adds", "Mult-Adds (more = better)", [float(a["mult_adds"]) for a in archs]))
    return out


def compute_stats(archs: list[dict], profiles: dict[str, Any]) -> dict[str, Any]:
    """Rank statistics of every predictor against the ground truth, the two-seed noise floor and
    the compute per protocol (training seconds summed over the architectures)."""
    truth = [a["long_mean_psnr_db"] for a in archs]
    preds = {}
    for key, label, values in predictors(archs, profiles):
        preds[key] = {"label": label, **rank_stats(values, truth)}
    noise = rank_stats([_psnr(a, "long_s0") for a in archs], [_psnr(a, "long_s1") for a in archs])
    compute = {}
    for protocol in PROTOCOLS:
        recs = [a[protocol] for a in archs if a.get(protocol)]
        prof = profiles[protocol]
        compute[protocol] = {
            "profile": prof.name, "iters_per_arch": prof.rung_stops[-1] if protocol == "halving" else prof.iters,
            "units": len(recs), "train_s": round(sum(r["train_s"] or 0.0 for r in recs), 2),
            "val_s": round(sum(r["val_s"] or 0.0 for r in recs), 2)}
    return {"predictors": preds, "noise_floor": {"label": "long seed 0 vs long seed 1", **noise},
            "compute": compute}


# ---------------------------------------------------------------------------------- entry point
def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-archs", type=int, default=20, help="architectures, the 3 references included (default 20)")
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0, help="seed of the random sampling of candidates")
    ap.add_argument("--pool", type=int, default=300, help="random points drawn before picking the candidates")
    ap.add_argument("--max-params", type=int, default=800_000,
                    help="largest candidate drawn (parameters; 0 = no limit); the references are always in")
    ap.add_argument("--proxy-profile", default="fixed")
    ap.add_argument("--halving-profile", default="halving")
    ap.add_argument("--long-profile", default="long")
    ap.add_argument("--data", default=None, help="DIV2K-style training folder (default: built-in photographs)")
    ap.add_argument("--val-data", default=None, help="validation folder (with --data)")
    ap.add_argument("--tag", default=None, help="run name in the output file names (default builtin / folders)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes")
    ap.add_argument("--threads-per-job", type=int, default=1, help="torch threads per worker")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "results" / "benchmarks")
    args = ap.parse_args(None if argv is None else list(argv))
    if args.val_data and not args.data:
        ap.error("--val-data needs --data")
    if args.jobs < 1 or args.threads_per_job < 1:
        ap.error("--jobs and --threads-per-job must be at least 1")
    args.data = str(Path(args.data).resolve()) if args.data else None
    args.val_data = str(Path(args.val_data).resolve()) if args.val_data else None
    args.tag = args.tag or ("folders" if args.data else "builtin")
    return args


def main(argv: Iterable[str] | None = None) -> int:
    args = parse_args(argv)
    t_start = time.perf_counter()

    import torch

    from nas.proxy import get_profile

    profiles = {"proxy": get_profile(args.proxy_profile), "halving": get_profile(args.halving_profile)}
    long = get_profile(args.long_profile)
    profiles["long_s0"] = dataclasses.replace(long, seed=0)
    profiles["long_s1"] = dataclasses.replace(long, seed=1)
    if not profiles["halving"].multi_fidelity:
        print(f"note: --halving-profile {args.halving_profile!r} has a single rung", file=sys.stderr)
    data_key = f"scale={args.scale}|" + ("builtin" if args.data is None else f"{args.data}|val={args.val_data}")

    args.out_dir.mkdir(parents=True, exist_ok=True)
    cache = Cache(args.out_dir / f"fidelity_{args.tag}.cache.jsonl")
    # the main process builds models and counts Mult-Adds before the workers start
    torch.set_num_threads(max(1, min(os.cpu_count() or 1, args.jobs * args.threads_per_job)))

    print(f"calibration set: {args.n_archs} architectures x{args.scale} (pool {args.pool}, seed {args.seed})", flush=True)
    archs = calibration_set(args.n_archs, args.scale, args.seed, args.pool,
                            args.max_params if args.max_params > 0 else None)
    add_mult_adds(archs, cache)
    for a in archs:
        print(f"  {a['name']:>8} {a['arch_id']} {a['params']:>9,} params {a['mult_adds'] / 1e9:7.2f} G  {a['summary']}")

    units = make_units(archs, profiles, data_key)
    pending = [u for u in units if _unit_key(u["arch_id"], u["protocol"], u["profile"], data_key) not in cache.units]
    print(f"{len(units)} units: {len(units) - len(pending)} in the cache {cache.path}, {len(pending)} to train "
          f"on {args.jobs} worker(s) x {args.threads_per_job} thread(s)", flush=True)
    failed = run_units(pending, cache, args, len(units), t_start) if pending else 0

    collect(archs, profiles, data_key, cache)
    sources = sorted({a[p]["data_source"] for a in archs for p in PROTOCOLS if a.get(p) and a[p].get("data_source")})
    settings = {
        "tag": args.tag, "scale": args.scale, "n_archs": len(archs), "seed": args.seed, "pool": args.pool,
        "data": args.data, "val_data": args.val_data, "data_key": data_key,
        "data_source": "; ".join(sources) or data_key,
        "profiles": {p: {**profiles[p].to_dict(), "rung_stops": profiles[p].rung_stops} for p in PROTOCOLS},
        "jobs": args.jobs, "threads_per_job": args.threads_per_job, "device": args.device,
        "wall_s": round(time.perf_counter() - t_start, 1), "units_trained": len(pending) - failed,
        "units_cached": len(units) - len(pending), "units_failed": failed,
        "date": _dt.datetime.now().isoformat(timespec="seconds"), "torch": torch.__version__,
        "python": platform.python_version(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
        "command": ".venv/bin/python benchmarks/fidelity.py " + " ".join(sys.argv[1:] if argv is None else list(argv)),
    }
    result = {"settings": settings, "archs": archs}
    result["stats"] = compute_stats(archs, profiles)
    result = _finite_or_none(result)

    stem = args.out_dir / f"fidelity_{args.tag}"
    write_atomic(stem.with_name(stem.name + ".json"), json.dumps(result, indent=2) + "\n")
    md = render_markdown(result)
    write_atomic(stem.with_name(stem.name + ".md"), md)
    render_png(result, stem.with_name(stem.name + ".png"))
    print(md)
    print(f"wrote {stem}.json, .md, .png in {settings['wall_s']:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
