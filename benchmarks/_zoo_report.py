"""``benchmarks/zoo_fidelity.py``'s report: the Markdown tables (every predictor against the
published PSNR, the levers, every network's rung PSNRs, the sources) and the scatter plots."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from _common import fmt, save_figure_atomic


def render_markdown(result: dict[str, Any]) -> str:
    s, preds, archs = result["settings"], result["predictors"], result["archs"]
    lines = [f"# Proxy fidelity against full training: {len(archs)} published networks x{s['scale']}, "
             f"{s['gt_set']} PSNR as published", "",
             f"Training data of the proxies: {s['data_source']}. {s['jobs']} worker(s) x {s['threads_per_job']} "
             f"torch thread(s), device {s['device']}; {s['date']}. Clear pairs: published PSNR apart by at least "
             f"{s['clear_db']} dB. Train s: mean training seconds per network (1 thread) to reach that predictor.", "",
             "| predictor | kind | n | Spearman ρ | Kendall τ | clear pairs in order | train s / net |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for p in preds.values():
        share = "–" if p["clear_share"] is None else f"{100 * p['clear_share']:.0f} % of {p['clear_pairs']}"
        lines.append(f"| {p['label']} | {p['kind']} | {p['n']} | {fmt(p['spearman'], 2)} | {fmt(p['kendall'], 2)} | "
                     f"{share} | {fmt(p['train_s_per_net'], 1)} |")
    noise = result.get("seed_noise_db") or {}
    if noise:
        lines += ["", "Seed-to-seed noise (75th percentile over the networks of |seed 0 - seed 1|, `halving` vs "
                  "`halving_seed1`): "
                  + ", ".join(f"{v:.3f} dB at {k} steps" for k, v in noise.items()) + "."]
    levers = s["levers"]
    lines += ["", "## Levers", "", "| lever | batch | LR patch | lr | seed | rungs (steps) |", "|---|---:|---:|---:|---:|---|"]
    for name, prof in levers.items():
        lines.append(f"| `{name}` | {prof['batch']} | {prof['lr_patch']} | {prof['lr']:g} | {prof['seed']} | "
                     f"{' / '.join(str(x) for x in prof['rung_stops'])} |")
    lines += ["", "## Networks, by published PSNR", "",
              "| network | family | published dB | params (deploy) | Mult-Adds G | depth | "
              + " | ".join(f"`{n}` dB" for n in levers) + " |",
              "|---|---|---:|---:|---:|---:|" + "---|" * len(levers)]
    for a in sorted(archs, key=lambda a: -a["published_db"]):
        cells = []
        for n in levers:
            c = a["curves"].get(n)
            cells.append(" / ".join(f"{p[1]:.2f}" for p in c) if c else "–")
        lines.append(f"| {a['name']} | {a['family']} | {a['published_db']:.2f} | {a['params']:,} | "
                     f"{a['mult_adds'] / 1e9:.2f} | {a['depth']} | " + " | ".join(cells) + " |")
    lines += ["", "Sources of the published PSNRs:", ""]
    lines += [f"- {a['name']}: {a['psnr_source']}" for a in archs]
    lines += ["", f"Regenerate: `{s['command']}`."]
    return "\n".join(lines) + "\n"


def render_png(result: dict[str, Any], path: Path, keys: Sequence[str]) -> None:
    """Scatter plots of chosen predictors against the published PSNR (dB)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    archs, preds = result["archs"], result["predictors"]
    keys = [k for k in keys if k in preds][:3]
    if not keys:
        return
    fig, axes = plt.subplots(1, len(keys) + 1, figsize=(4.6 * (len(keys) + 1), 4.4), constrained_layout=True,
                             squeeze=False)
    truth = [a["published_db"] for a in archs]
    # rho against training seconds per network: what a longer proxy buys, and what a predictor adds
    ax = axes[0][-1]
    markers = {"rung": "o", "extrapolation": "^", "fitted (LOFO)": "s"}
    for kind, marker in markers.items():
        pts = [(p["train_s_per_net"], p["spearman"]) for p in preds.values()
               if p["kind"] == kind and p.get("train_s_per_net") and p.get("spearman") is not None]
        if pts:
            ax.scatter(*zip(*pts), marker=marker, s=26, alpha=0.75, label=kind)
    ax.axhline(0.8, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel("training s per network (1 thread, mean)")
    ax.set_ylabel(f"Spearman ρ vs published {result['settings']['gt_set']} PSNR")
    ax.set_title("ranking quality against proxy compute", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    for ax, key in zip(axes[0], keys):
        p = preds[key]
        for x, y, a in zip(p["values"], truth, archs):
            if x is None or not math.isfinite(x):
                continue
            ax.scatter([x], [y], s=30, color=f"C{sorted({b['family'] for b in archs}).index(a['family'])}")
            ax.annotate(a["name"], (x, y), textcoords="offset points", xytext=(4, 3), fontsize=8)
        share = p["clear_share"]
        ax.set_title(f"{p['label'].replace('`', '')}\nρ = {fmt(p['spearman'], 2)}, τ = {fmt(p['kendall'], 2)}, "
                     f"clear pairs {'–' if share is None else f'{100 * share:.0f} %'}", fontsize=9)
        ax.set_xlabel("predictor")
        ax.set_ylabel(f"published {result['settings']['gt_set']} PSNR (dB)")
        ax.grid(alpha=0.3)
    save_figure_atomic(fig, path, dpi=110)
