"""Benchmark: how well each proxy predictor ranks the published networks against the papers'
fully-trained PSNR (the ground truth a user of the front cares about).

Ground truth
------------
Every zoo reference (``nas/arch/references.py``) that has a published, fully-trained Y-PSNR on
``--gt-set`` (default Set5) at ``--scale`` (default x4): ``Reference.published_psnr``, each with
its source (``Reference.psnr_source``). Nothing here is measured by this project except E-RFDN's
32.16 dB (the authors' released checkpoint through their own code).

Levers
------
Each *lever* is a proxy protocol (a ``ProxyProfile``: batch, LR patch, learning rate, seed),
trained as a successive-halving chain (one warm-restart cosine segment per rung, validated at
every rung, exactly what a candidate promoted to the top rung of ``nas search`` goes through) up
to the lever's last rung. A rung's PSNR of a longer chain equals the PSNR of a shorter chain at
that rung, so one chain to 540 steps also gives the 20 / 60 / 180-step predictors.

Predictors
----------
* every lever's PSNR at every rung (dB; larger = predicted better);
* ``params``, ``mult_adds`` (deploy form, MACs for a 1280x720 output) and ``depth`` (3x3-conv
  layers on the longest path of the deploy form), read as "bigger is better";
* ``extrap@T``: the rung PSNRs of a lever fitted with PSNR(t) = a - b t^(-c) (scipy
  ``curve_fit``) and read at a horizon of T steps (:mod:`nas.proxy.curve`);
* ``ridge(...)``: a ridge regression (scikit-learn) on the named features, scored
  **leave-one-family-out** (every network of a family is predicted by a model fitted on the
  other families only), never on the networks it was fitted on.

Statistics: Spearman's rho, Kendall's tau-b, and the share of *clear pairs* (two networks whose
published PSNR differs by at least ``--clear-db``, default 0.1 dB) that the predictor orders
the same way (a tie in the predictor counts as half).

Running
-------
Built-in photographs (the default ``nas search`` data), 2 workers x 1 thread::

    .venv/bin/python benchmarks/zoo_fidelity.py

Only some levers (names in ``LEVERS``), or a smoke run::

    .venv/bin/python benchmarks/zoo_fidelity.py --levers default
    .venv/bin/python benchmarks/zoo_fidelity.py --levers smoke --out-dir /tmp/zf --tag check

Every finished unit (network x lever) is appended to ``<out-dir>/zoo_fidelity_<tag>.cache.jsonl``
(the cache of ``benchmarks/fidelity.py``, ``_units.Cache``): a killed run resumes where it stopped. Outputs:
``zoo_fidelity_<tag>.{json,md,png}`` in ``--out-dir`` (default ``results/benchmarks``).

Code: this file defines the levers and the ground-truth set and computes the predictors; the
unit cache and worker pool are ``_units.py``, the statistics ``_stats.py``, the ridge predictors
and the calibration ``_ridge.py``, the Markdown and the plot ``_zoo_report.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from _common import finite_or_none, fmt, write_atomic
from _ridge import (ARCH_FEATURES, FEATURE_SETS, feature_matrix, fit_calibration,  # noqa: F401 - re-exported
                    leave_one_family_out)
from _stats import clear_pairs, score_predictor  # noqa: F401 - re-exported
from _units import Cache, _unit_key, run_units
from _zoo_report import render_markdown, render_png

ROOT = Path(__file__).resolve().parents[1]
_fmt = fmt  # pipeline_fidelity.py formats with zf._fmt


# ---------------------------------------------------------------------------------- levers
def _levers() -> dict[str, Any]:
    from nas.proxy.profiles import PROFILES, ProxyProfile

    base = PROFILES["halving"]
    rep = dataclasses.replace
    return {
        # the protocol of nas search before issue 18 (20 / 60 / 180), continued to 540 and 1620
        "halving": rep(base, name="halving", rungs=5),
        "halving_seed1": rep(base, name="halving_seed1", seed=1, rungs=3),
        # 4x the pixels per patch: 48 px LR (192 px HR at x4, the patch IMDN and AWSRN train on)
        "patch48": rep(base, name="patch48", lr_patch=48, rungs=3),
        # a learning rate near the papers' (2e-4 .. 1e-3)
        "lr5e-4": rep(base, name="lr5e-4", lr=5e-4, rungs=4),
        # proxy only: the network learns a residual over bicubic upsampling (ProxyProfile.skip,
        # nas.proxy.train.with_skip), so the short run starts at interpolation quality, which the
        # top rung barely passes otherwise; the protocol of the `bicubic-predicted` profile
        "bicubic_skip": rep(base, name="bicubic_skip", skip="bicubic", rungs=3),
        "bicubic_skip_seed1": rep(base, name="bicubic_skip_seed1", skip="bicubic", seed=1, rungs=3),
        "smoke": ProxyProfile("smoke", iters=2, batch=2, lr_patch=16, val_max_side=96, rungs=3, eta=2),
    }


# ---------------------------------------------------------------------------------- the zoo
def ground_truth_set(scale: int, gt_set: str) -> list[dict[str, Any]]:
    """The references with a published ``gt_set`` PSNR at ``scale``, with their deploy-form costs.

    Returns:
        Dicts: ``name``, ``family``, ``published_db``, ``psnr_source``, ``arch_id``, ``summary``,
        ``params`` (deploy form), ``train_params`` (training form), ``mult_adds`` (deploy form,
        MACs for a 1280x720 output), ``depth``, ``config``, ``reference`` (True).
    """
    import torch

    from nas.arch.references import REFERENCES, reference_config
    from nas.metrics import count_params, mult_adds
    from nas.models import build_model, reparameterize_model
    from nas.models.depth import conv_depth

    out = []
    for name, ref in REFERENCES.items():
        gt = ref.published(scale, gt_set) if scale in ref.scales else None
        if gt is None:
            continue
        cfg = reference_config(name, scale)
        torch.manual_seed(0)
        model = build_model(cfg)
        deploy = reparameterize_model(model)
        with torch.no_grad():
            macs = mult_adds(deploy, scale, in_channels=cfg.colors)
        out.append({"name": name, "family": ref.family, "published_db": gt, "psnr_source": ref.psnr_source,
                    "arch_id": cfg.arch_id, "summary": cfg.summary(), "params": count_params(deploy),
                    "train_params": count_params(model), "mult_adds": int(macs),
                    "depth": conv_depth(deploy, cfg.colors), "config": cfg.to_dict(), "reference": True})
    return out


def make_units(archs: list[dict], levers: dict[str, Any], data_key: str) -> list[dict[str, Any]]:
    """Every (network, lever) unit as ``_units.run_unit`` takes it, most expensive first."""
    units = []
    for a in archs:
        for name, prof in levers.items():
            cost = a["mult_adds"] * prof.rung_stops[-1] * prof.batch * prof.lr_patch ** 2
            units.append({"arch_id": a["arch_id"], "name": a["name"], "protocol": "halving", "lever": name,
                          "profile": prof.to_dict(), "config": a["config"], "data": data_key, "cost": cost})
    units.sort(key=lambda u: -u["cost"])
    return units


def curves(archs: list[dict], levers: dict[str, Any], data_key: str, cache: Cache) -> None:
    """Attach ``arch["curves"][lever] = [(steps, dB, train_s), ...]`` from the cache (missing
    levers left out)."""
    for a in archs:
        a["curves"] = {}
        for name, prof in levers.items():
            rec = cache.units.get(_unit_key(a["arch_id"], "halving", prof.to_dict(), data_key))
            if rec and not rec.get("error"):
                a["curves"][name] = [(r["iters"], r["psnr_db"], r["train_s"]) for r in rec["rungs"]]


def predictors(archs: list[dict], levers: dict[str, Any], horizons: Sequence[int], min_gap: float) -> dict[str, Any]:
    """Every predictor's values and statistics against ``published_db`` (see the module doc)."""
    from nas.proxy.curve import fit_power_law

    truth = [a["published_db"] for a in archs]
    fams = [a["family"] for a in archs]
    preds: dict[str, dict[str, Any]] = {}

    def add(key: str, label: str, values: list[float | None], kind: str, cost_s: float | None = None) -> None:
        preds[key] = {"label": label, "kind": kind, "values": values, "train_s_per_net": cost_s,
                      **score_predictor(values, truth, min_gap)}

    for lever in levers:
        stops = levers[lever].rung_stops
        for r, stop in enumerate(stops):
            vals = [a["curves"][lever][r][1] if lever in a["curves"] else None for a in archs]
            secs = [sum(c[2] for c in a["curves"][lever][: r + 1]) for a in archs if lever in a["curves"]]
            add(f"{lever}@{stop}", f"`{lever}` PSNR at {stop} steps", vals, "rung",
                float(np.mean(secs)) if secs else None)
        for last in range(2, len(stops)):
            for horizon in horizons:
                vals = []
                for a in archs:
                    c = a["curves"].get(lever)
                    if not c:
                        vals.append(None)
                        continue
                    fit = fit_power_law([p[0] for p in c[: last + 1]], [p[1] for p in c[: last + 1]])
                    vals.append(fit.predict(horizon) if fit is not None else None)
                secs = [sum(p[2] for p in a["curves"][lever][: last + 1]) for a in archs if lever in a["curves"]]
                add(f"{lever}@{stops[last]}:extrap@{horizon:g}",
                    f"`{lever}` rungs to {stops[last]} steps, extrapolated to {horizon:g} steps", vals, "extrapolation",
                    float(np.mean(secs)) if secs else None)
    add("params", "params, deploy form (more = better)", [float(a["params"]) for a in archs], "architecture")
    add("mult_adds", "Mult-Adds, deploy form (more = better)", [float(a["mult_adds"]) for a in archs], "architecture")
    add("depth", "3x3-conv depth (more = better)", [float(a["depth"]) for a in archs], "architecture")

    # fitted predictors (ridge on the rung's PSNR and architecture features), leave-one-family-out
    y = np.array(truth, float)
    add_fit = lambda key, label, vals, cost: add(key, label, [float(v) for v in vals], "fitted (LOFO)", cost)  # noqa: E731
    arch_only = feature_matrix(archs, None, ARCH_FEATURES)
    add_fit(f"ridge[{'+'.join(ARCH_FEATURES)}]", f"ridge on {' + '.join(ARCH_FEATURES)} (no training), LOFO",
            leave_one_family_out(arch_only, y, fams), 0.0)
    for lever in levers:
        for r, stop in enumerate(levers[lever].rung_stops):
            rung_psnr = [a["curves"][lever][r][1] if lever in a["curves"] else None for a in archs]
            if any(v is None for v in rung_psnr):
                continue
            cost = preds[f"{lever}@{stop}"]["train_s_per_net"]
            for names in FEATURE_SETS:
                X = feature_matrix(archs, rung_psnr, names)
                add_fit(f"ridge[{lever}@{stop}: {'+'.join(names)}]",
                        f"ridge on `{lever}` PSNR at {stop} steps + {' + '.join(names[1:])}, LOFO",
                        leave_one_family_out(X, y, fams), cost)
    return preds


def seed_noise(archs: list[dict], lever: str, other: str, q: float = 75.0) -> dict[int, float]:
    """``{steps: dB}``: the ``q``-th percentile over the networks of ``|PSNR(seed 0) - PSNR(seed 1)|``
    between two levers that differ only in their seed (``halving`` and ``halving_seed1``), at every
    rung both reached: the margin within which three quarters of seed pairs stay, so two networks
    each trained once are not called different for less (``PSNR_NOISE_DB``). A percentile, not an
    RMS: one run that collapses (ECBSR-M16C64 at 5 dB with one seed, 27.7 with the other) would
    otherwise set the margin for every network."""
    out: dict[int, list[float]] = {}
    for a in archs:
        c0, c1 = a["curves"].get(lever), a["curves"].get(other)
        if not c0 or not c1:
            continue
        for (s0, p0, _), (s1, p1, _) in zip(c0, c1):
            if s0 == s1:
                out.setdefault(s0, []).append(abs(p0 - p1))
    return {s: float(np.percentile(d, q)) for s, d in sorted(out.items()) if len(d) >= 3}


# ---------------------------------------------------------------------------------- entry point
def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--gt-set", default="Set5", help="published test set of the ground truth (default Set5)")
    ap.add_argument("--levers", default="halving,halving_seed1,patch48,lr5e-4,bicubic_skip,bicubic_skip_seed1",
                    help="comma-separated lever names (see LEVERS in this file)")
    ap.add_argument("--horizons", default="1e4,1e6", help="extrapolation horizons in steps")
    ap.add_argument("--clear-db", type=float, default=0.1, help="published gap (dB) that makes a pair clear")
    ap.add_argument("--data", default=None, help="DIV2K-style training folder (default: built-in photographs)")
    ap.add_argument("--val-data", default=None, help="validation folder")
    ap.add_argument("--tag", default=None, help="run name in the output file names (default builtin / folders)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes")
    ap.add_argument("--threads-per-job", type=int, default=1, help="torch threads per worker")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    ap.add_argument("--no-train", action="store_true", help="only tabulate what the cache holds")
    ap.add_argument("--write-calibration", default=None, metavar="LEVER:FEATURES",
                    help="fit the predictor of nas search on every network (e.g. halving:psnr+log10_params+depth) "
                         "and write it to nas/proxy/calibrations.json as <--calibration-name>-x<scale>")
    ap.add_argument("--calibration-name", default="zoo",
                    help="predictor name the calibration is written for (a profile's `predictor`; default zoo: "
                         "the `predicted` profile; zoo-skip: `bicubic-predicted`, from a bicubic_skip lever)")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "results" / "benchmarks")
    args = ap.parse_args(None if argv is None else list(argv))
    known = _levers()
    args.lever_names = [n.strip() for n in args.levers.split(",") if n.strip()]
    bad = [n for n in args.lever_names if n not in known]
    if bad or not args.lever_names:
        ap.error(f"unknown lever(s) {', '.join(bad) or '(none)'}; known: {', '.join(known)}")
    try:
        args.horizon_list = [int(float(h)) for h in args.horizons.split(",") if h.strip()]
    except ValueError:
        ap.error(f"--horizons must be numbers, got {args.horizons!r}")
    if args.jobs < 1 or args.threads_per_job < 1:
        ap.error("--jobs and --threads-per-job must be at least 1")
    args.data = str(Path(args.data).resolve()) if args.data else None
    args.val_data = str(Path(args.val_data).resolve()) if args.val_data else None
    args.tag = args.tag or ("folders" if args.data or args.val_data else "builtin")
    return args


def main(argv: Iterable[str] | None = None) -> int:
    args = parse_args(argv)
    t_start = time.perf_counter()
    import torch

    levers = {n: _levers()[n] for n in args.lever_names}
    data_key = f"scale={args.scale}|" + ("builtin" if args.data is None else f"{args.data}") + \
        (f"|val={args.val_data}" if args.val_data else "")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    cache = Cache(args.out_dir / f"zoo_fidelity_{args.tag}.cache.jsonl")
    torch.set_num_threads(max(1, min(os.cpu_count() or 1, args.jobs * args.threads_per_job)))

    archs = ground_truth_set(args.scale, args.gt_set)
    if len(archs) < 3:
        raise SystemExit(f"only {len(archs)} references have a published {args.gt_set} PSNR at x{args.scale}")
    for a in archs:
        print(f"  {a['name']:>12} {a['published_db']:.2f} dB {a['params']:>9,} params {a['mult_adds'] / 1e9:7.2f} G "
              f"depth {a['depth']:>3}  {a['summary']}", flush=True)
    units = make_units(archs, levers, data_key)
    pending = [u for u in units if _unit_key(u["arch_id"], u["protocol"], u["profile"], data_key) not in cache.units]
    print(f"{len(units)} units: {len(units) - len(pending)} cached in {cache.path}, {len(pending)} to train", flush=True)
    failed = 0
    if pending and not args.no_train:
        failed = run_units(pending, cache, args, len(units), t_start)

    curves(archs, levers, data_key, cache)
    sources = sorted({rec["data_source"] for rec in cache.units.values() if rec.get("data") == data_key
                      and rec.get("data_source")})
    settings = {
        "scale": args.scale, "gt_set": args.gt_set, "tag": args.tag, "clear_db": args.clear_db,
        "data_source": "; ".join(sources) or data_key, "data_key": data_key,
        "levers": {n: {**p.to_dict(), "rung_stops": p.rung_stops} for n, p in levers.items()},
        "horizons": args.horizon_list, "jobs": args.jobs, "threads_per_job": args.threads_per_job,
        "device": args.device, "wall_s": round(time.perf_counter() - t_start, 1),
        "date": _dt.datetime.now().isoformat(timespec="seconds"), "torch": torch.__version__,
        "python": platform.python_version(), "cpu_count": os.cpu_count(),
        "command": ".venv/bin/python benchmarks/zoo_fidelity.py " + " ".join(sys.argv[1:] if argv is None else list(argv)),
    }
    result = {"settings": settings, "archs": archs,
              "predictors": predictors(archs, levers, args.horizon_list, args.clear_db),
              "seed_noise_db": seed_noise(archs, "halving", "halving_seed1") if {"halving", "halving_seed1"} <= set(levers)
              else {}}
    if args.write_calibration:
        lever, _, feats = args.write_calibration.partition(":")
        names = tuple(f for f in feats.split("+") if f)
        if lever not in levers or not names or names[0] != "psnr":
            raise SystemExit(f"--write-calibration {args.write_calibration!r}: need LEVER:psnr+... with a lever of this run")
        from nas.proxy.predict import CALIBRATION_FILE

        cal = fit_calibration(archs, lever, levers[lever], names, settings["data_source"], args.scale, args.gt_set)
        existing = json.loads(CALIBRATION_FILE.read_text()) if CALIBRATION_FILE.is_file() else {}
        key = f"{args.calibration_name}-x{args.scale}"
        existing[key] = finite_or_none(cal)
        write_atomic(CALIBRATION_FILE, json.dumps(existing, indent=1) + "\n")
        result["calibration"] = cal
        print(f"wrote {key} to {CALIBRATION_FILE}")
    result = finite_or_none(result)
    stem = args.out_dir / f"zoo_fidelity_{args.tag}"
    write_atomic(stem.with_name(stem.name + ".json"), json.dumps(result, indent=1) + "\n")
    md = render_markdown(result)
    write_atomic(stem.with_name(stem.name + ".md"), md)
    first = next(iter(levers))
    top = levers[first].rung_stops[min(2, levers[first].rungs - 1)]
    render_png(result, stem.with_name(stem.name + ".png"),
               [f"{first}@{top}", "params", f"ridge[{first}@{top}: psnr+log10_params+depth]"])
    print(md)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
