"""Benchmark: does a proxy on cheap data rank architectures like a long training on real SR data?

``benchmarks/fidelity.py`` measures each data set against its *own* long run, so its two tables
(built-in photographs; DF2K_sample + Set14) answer "how well does the short training agree with a
longer one on the same data", not "does the small built-in set pick the architectures that do
well on the real data". This script answers the second question from two finished fidelity runs
over the same calibration set (matched by ``arch_id``; no training):

* ground truth: the *target* run's long-run PSNR (mean of its two seeds), e.g. DF2K_sample
  training, Set14 validation;
* predictors from the *source* run (e.g. the built-in photographs): its fixed-proxy PSNR, each
  successive-halving rung's PSNR and its own long-run PSNR; the same predictors of the target
  run and the free ones (params, Mult-Adds) beside them for comparison;
* the target's noise floor (its long seed 0 vs seed 1).

Each row: Spearman rho, Kendall tau-b and the top-10 % overlap against the ground truth, as in
``fidelity.py`` (:func:`fidelity.rank_stats`). If the source's top rung ranks the target's long
run as well as the target's own top rung, the small source data costs no ranking quality.

Running (after both fidelity runs)::

    .venv/bin/python benchmarks/fidelity_transfer.py \\
        --source results/benchmarks/fidelity_builtin.json \\
        --target results/benchmarks/fidelity_folders.json

Outputs: ``<out-dir>/fidelity_transfer_<source tag>_to_<target tag>.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterable

from _common import finite_or_none, write_atomic
from fidelity import _psnr, rank_stats

ROOT = Path(__file__).resolve().parents[1]


def run_predictors(run: dict[str, Any], archs: list[dict[str, Any]]) -> list[tuple[str, str, list[float | None]]]:
    """``(key, label, values)`` of one fidelity run's PSNR predictors for ``archs`` (its records,
    in the caller's order): fixed proxy, every halving rung, and the run's own long-run mean (dB)."""
    prof = run["settings"]["profiles"]
    out = [("proxy", f"fixed proxy ({prof['proxy']['iters']} it)",
            [_psnr(a, "proxy") for a in archs])]
    for r, stop in enumerate(prof["halving"]["rung_stops"]):
        out.append((f"halving_r{r}", f"halving rung {r} ({stop} it)", [_psnr(a, "halving", r) for a in archs]))
    out.append(("long", f"long run ({prof['long_s0']['iters']} it, mean of 2 seeds)",
                [a.get("long_mean_psnr_db") for a in archs]))
    return out


def transfer(source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """Rank statistics of the source run's predictors (and, for comparison, the target's own
    predictors and the free params / Mult-Adds) against the target's long-run PSNR.

    Raises:
        ValueError: the two runs have fewer than 3 architectures in common or differ in scale.
    """
    if source["settings"].get("scale") != target["settings"].get("scale"):
        raise ValueError(f"the runs differ in scale: x{source['settings'].get('scale')} vs "
                         f"x{target['settings'].get('scale')}")
    by_id = {a["arch_id"]: a for a in source["archs"]}
    tgt = [a for a in target["archs"] if a["arch_id"] in by_id]
    if len(tgt) < 3:
        raise ValueError(f"only {len(tgt)} architectures in common (need >= 3): were both runs made "
                         f"with the same --n-archs/--seed/--pool/--max-params?")
    src = [by_id[a["arch_id"]] for a in tgt]
    truth = [a.get("long_mean_psnr_db") for a in tgt]
    rows = []
    for origin, run, archs in (("source", source, src), ("target", target, tgt)):
        for key, label, values in run_predictors(run, archs):
            if origin == "target" and key == "long":
                continue  # the ground truth itself
            rows.append({"origin": origin, "key": key, "label": label, **rank_stats(values, truth)})
    for key, label in (("params", "params (more = better)"), ("mult_adds", "Mult-Adds (more = better)")):
        rows.append({"origin": "free", "key": key, "label": label,
                     **rank_stats([float(a[key]) for a in tgt], truth)})
    noise = rank_stats([_psnr(a, "long_s0") for a in tgt], [_psnr(a, "long_s1") for a in tgt])
    return {"n_common": len(tgt), "rows": rows, "noise_floor": noise}


def render_markdown(source: dict[str, Any], target: dict[str, Any], res: dict[str, Any], command: str) -> str:
    """The table of :func:`transfer` with the two runs' data sources."""
    s, t = source["settings"], target["settings"]
    name = {"source": f"{s['tag']}", "target": f"{t['tag']}", "free": "free"}
    lines = [f"# Proxy transfer: `{s['tag']}` proxies against the `{t['tag']}` long run (x{t['scale']})", "",
             f"Ground truth: mean validation Y-PSNR of the two long runs of `{t['tag']}` "
             f"(data: {t['data_source']}). Source `{s['tag']}`: {s['data_source']}. "
             f"{res['n_common']} architectures in common (matched by arch_id).", "",
             "| data of the predictor | predictor of the target's long-run PSNR | n | Spearman ρ | Kendall τ | top-10 % overlap |",
             "|---|---|---:|---:|---:|---:|"]

    def f(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    for r in res["rows"]:
        lines.append(f"| {name[r['origin']]} | {r['label']} | {r['n']} | {f(r['spearman'])} | {f(r['kendall'])} | "
                     f"{f(r['top10_overlap'])} (k={r['k']}) |")
    nf = res["noise_floor"]
    lines.append(f"| {t['tag']} | *noise floor: long seed 0 vs long seed 1* | {nf['n']} | {f(nf['spearman'])} | "
                 f"{f(nf['kendall'])} | {f(nf['top10_overlap'])} (k={nf['k']}) |")
    lines += ["", f"Regenerate: `{command}`.", ""]
    return "\n".join(lines)


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=ROOT / "results" / "benchmarks" / "fidelity_builtin.json",
                    help="fidelity JSON whose proxies are tested (default: the built-in run)")
    ap.add_argument("--target", type=Path, default=ROOT / "results" / "benchmarks" / "fidelity_folders.json",
                    help="fidelity JSON whose long run is the ground truth (default: the folders run)")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "results" / "benchmarks")
    return ap.parse_args(None if argv is None else list(argv))


def main(argv: Iterable[str] | None = None) -> int:
    args = parse_args(argv)
    runs = []
    for path in (args.source, args.target):
        try:
            runs.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            print(f"error: {path}: cannot read a fidelity result ({exc})", file=sys.stderr)
            return 2
    source, target = runs
    try:
        res = transfer(source, target)
    except (ValueError, KeyError) as exc:
        print(f"error: {args.source} vs {args.target}: {exc}", file=sys.stderr)
        return 2
    command = ".venv/bin/python benchmarks/fidelity_transfer.py " + " ".join(
        sys.argv[1:] if argv is None else list(argv))
    stem = args.out_dir / f"fidelity_transfer_{source['settings']['tag']}_to_{target['settings']['tag']}"
    args.out_dir.mkdir(parents=True, exist_ok=True)
    payload = finite_or_none({"source": str(args.source), "target": str(args.target),
                              "source_data": source["settings"]["data_source"],
                              "target_data": target["settings"]["data_source"], **res})
    write_atomic(stem.with_name(stem.name + ".json"), json.dumps(payload, indent=2) + "\n")
    md = render_markdown(source, target, res, command.strip())
    write_atomic(stem.with_name(stem.name + ".md"), md)
    print(md)
    print(f"wrote {stem}.json, .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
