"""``benchmarks/fidelity.py``'s report: the Markdown tables (predictors against the long
training, the noise floor, compute per protocol, every architecture) and the scatter plots of the
proxy and top-rung PSNR against the long-run PSNR."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from _common import fmt, save_figure_atomic
from _units import _psnr


def render_markdown(result: dict[str, Any]) -> str:
    """The readable report: predictor table, noise floor, compute, per-architecture table."""
    s, st = result["settings"], result["stats"]
    prof = s["profiles"]
    lines = [f"# Proxy fidelity: {s['n_archs']} architectures x{s['scale']}, data `{s['tag']}`", "",
             f"Ground truth: mean validation Y-PSNR of two `{prof['long_s0']['name']}` runs "
             f"({prof['long_s0']['iters']} steps, seeds 0 and 1). Data: {s['data_source']}. "
             f"{s['jobs']} worker(s) x {s['threads_per_job']} torch thread(s), device {s['device']}; "
             f"{s['date']}.", "",
             "| predictor | n | Spearman ρ | Kendall τ | top-10 % overlap |", "|---|---:|---:|---:|---:|"]
    for p in st["predictors"].values():
        lines.append(f"| {p['label']} | {p['n']} | {fmt(p['spearman'])} | {fmt(p['kendall'])} | "
                     f"{fmt(p['top10_overlap'], 2)} (k={p['k']}) |")
    nf = st["noise_floor"]
    lines.append(f"| *noise floor: {nf['label']}* | {nf['n']} | {fmt(nf['spearman'])} | {fmt(nf['kendall'])} | "
                 f"{fmt(nf['top10_overlap'], 2)} (k={nf['k']}) |")
    lines += ["", "ρ, τ = 1: the predictor orders the architectures as the long training does; 0: unrelated. "
              "Top-10 % overlap: share of the long training's best k = ceil(0.1 n) that the predictor also "
              "puts in its best k. The noise floor is how well the long training agrees with itself across "
              "seeds; no proxy can be expected to do better.", "",
              "## Compute per protocol", "", "| protocol | profile | steps per arch | units | train s | validate s |",
              "|---|---|---:|---:|---:|---:|"]
    for protocol, c in st["compute"].items():
        lines.append(f"| {protocol} | `{c['profile']}` | {c['iters_per_arch']} | {c['units']} | "
                     f"{c['train_s']:.1f} | {c['val_s']:.1f} |")
    lines += ["", f"Wall time of this invocation: {s['wall_s']:.0f} s "
              f"({s['units_trained']} units trained, {s['units_cached']} from the cache).", ""]
    rung_stops = prof["halving"]["rung_stops"]
    lines += ["## Architectures, by long-run PSNR", "",
              "| # | name | arch_id | params | Mult-Adds G | proxy dB | "
              + " | ".join(f"halving {it} it dB" for it in rung_stops)
              + " | long s0 dB | long s1 dB | long mean dB | summary |",
              "|---:|---|---|---:|---:|---:|" + "---:|" * len(rung_stops) + "---:|---:|---:|---|"]
    order = sorted(result["archs"], key=lambda a: -(a["long_mean_psnr_db"] if a["long_mean_psnr_db"] is not None
                                                   else -math.inf))
    for i, a in enumerate(order, 1):
        rungs = [_psnr(a, "halving", r) for r in range(len(rung_stops))]
        name = f"**{a['name']}**" if a["reference"] else a["name"]
        lines.append(f"| {i} | {name} | `{a['arch_id']}` | {a['params']:,} | {a['mult_adds'] / 1e9:.2f} | "
                     f"{fmt(_psnr(a, 'proxy'))} | " + " | ".join(fmt(v) for v in rungs)
                     + f" | {fmt(_psnr(a, 'long_s0'))} | {fmt(_psnr(a, 'long_s1'))} | "
                     f"{fmt(a['long_mean_psnr_db'])} | {a['summary'].replace('|', chr(92) + '|')} |")
    protocols = list(prof)  # fidelity.PROTOCOLS, in order
    errors = [(a["name"], p, a[p]["error"]) for a in result["archs"] for p in protocols if a.get(p) and a[p].get("error")]
    missing = [(a["name"], p) for a in result["archs"] for p in protocols if not a.get(p)]
    if errors or missing:
        lines += ["", "## Missing values", ""]
        lines += [f"- {n} `{p}`: diverged ({e})" for n, p, e in errors]
        lines += [f"- {n} `{p}`: not trained (run again to resume)" for n, p in missing]
    lines += ["", "References in bold. Regenerate: `" + s["command"] + "`."]
    return "\n".join(lines) + "\n"


def render_png(result: dict[str, Any], path: Path) -> None:
    """Scatter plots (proxy PSNR and top-rung halving PSNR against the long-run PSNR, dB),
    references labelled; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    archs, st = result["archs"], result["stats"]["predictors"]
    top = len(result["settings"]["profiles"]["halving"]["rung_stops"]) - 1
    panels = [("proxy", [_psnr(a, "proxy") for a in archs]),
              (f"halving_r{top}", [_psnr(a, "halving", top) for a in archs])]
    truth = [a["long_mean_psnr_db"] for a in archs]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), constrained_layout=True)
    for ax, (key, xs) in zip(axes, panels):
        pts = [(x, y, a) for x, y, a in zip(xs, truth, archs) if x is not None and y is not None
               and math.isfinite(x) and math.isfinite(y)]
        cand = [(x, y) for x, y, a in pts if not a["reference"]]
        refs = [(x, y, a) for x, y, a in pts if a["reference"]]
        if cand:
            ax.scatter(*zip(*cand), s=22, color="tab:blue", alpha=0.8, label="sampled candidates")
        if refs:
            ax.scatter([p[0] for p in refs], [p[1] for p in refs], s=46, color="tab:red", marker="D",
                       label="references")
            for x, y, a in refs:
                ax.annotate(a["name"], (x, y), textcoords="offset points", xytext=(5, 4), fontsize=9)
        p = st[key]
        ax.set_title(f"{p['label'].replace('`', '')}\nρ = {fmt(p['spearman'], 2)}, τ = {fmt(p['kendall'], 2)}, "
                     f"top-10 % = {fmt(p['top10_overlap'], 2)}", fontsize=10)
        ax.set_xlabel(("fixed proxy" if key == "proxy" else "top-rung halving") + " validation PSNR (dB)")
        ax.set_ylabel("long-run PSNR, mean of 2 seeds (dB)")
        ax.grid(alpha=0.3)
        if pts:
            ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"Proxy fidelity x{result['settings']['scale']} ({result['settings']['tag']})", fontsize=11)
    save_figure_atomic(fig, path, dpi=120)
