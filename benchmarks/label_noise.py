"""How much of a predictor's ranking error is in the labels (issue 31 §4: "show what limits it").

The ground truth (``nas.arch.ground_truth``) holds a few networks trained twice by different
people: ``retrain:<entry>`` entries are ``<entry>``'s exact config, trained again (an NTIRE team, or
the authors' challenge submission against their later release). Each pair's PSNR gap is one draw
of training-recipe noise. With independent pairs the per-training noise is
``sigma = sqrt(mean(gap^2) / 2)``; a predictor that knew every design's expected PSNR exactly would
still be ranked against single trainings, so its Spearman against the labels is at most
``Spearman(mu, mu + noise)``. That ceiling is estimated by simulation, with the labels themselves
standing in for ``mu`` (their spread includes the noise, so the ceiling is a little optimistic).

Pairs where one training starts from the other's weights (``notes`` say so; e.g. DSCLoRA from
SPANtiny) are not independent and are left out; ``derived:<entry>`` entries (another config
fine-tuned from ``<entry>``) are not pairs.

    python benchmarks/label_noise.py [--scale 4] [--set Set5] [--sims 5000]

Writes ``results/benchmarks/label_noise_x{scale}.md``. No torch, no training: seconds.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from nas.arch.ground_truth import GROUND_TRUTH

ROOT = Path(__file__).resolve().parents[1]
#: Retrain pairs whose second training starts from the first's weights (not independent draws).
DEPENDENT = {"spantiny_ntire24"}
SIGMAS = (0.03, 0.05, 0.075, 0.1, 0.15)


def retrain_gaps(scale: int, dataset: str) -> list[tuple[str, str, float]]:
    """``(retrain entry, original entry, gap dB)`` for every independent retrain pair with a value."""
    out = []
    for e in GROUND_TRUTH.values():
        if not e.protocol.startswith("retrain:") or e.name in DEPENDENT:
            continue
        of = GROUND_TRUTH[e.protocol.split(":", 1)[1]]
        a, b = e.value(scale, dataset), of.value(scale, dataset)
        if a is not None and b is not None:
            out.append((e.name, of.name, b - a))
    return out


def noise_sigma(gaps: list[float]) -> float:
    """Per-training noise (dB) from independent gaps: ``sqrt(mean(gap^2) / 2)``.

    Raises:
        ValueError: no gap.
    """
    if not gaps:
        raise ValueError("no retrain pair to estimate label noise from")
    return math.sqrt(float(np.mean(np.square(gaps))) / 2)


def spearman_ceiling(labels: np.ndarray, sigma: float, sims: int, seed: int = 0) -> tuple[float, float, float]:
    """Median and 2.5 / 97.5 percentiles of ``Spearman(labels, labels + N(0, sigma^2))`` over ``sims``
    draws: what a perfect predictor of the expected PSNR scores against one training per network."""
    rng = np.random.default_rng(seed)
    rhos = np.array([spearmanr(labels, labels + rng.normal(0.0, sigma, labels.size))[0] for _ in range(sims)])
    return float(np.median(rhos)), float(np.percentile(rhos, 2.5)), float(np.percentile(rhos, 97.5))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--set", dest="dataset", default="Set5")
    ap.add_argument("--sims", type=int, default=5_000)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    pairs = retrain_gaps(args.scale, args.dataset)
    labels = np.array([e.value(args.scale, args.dataset) for e in GROUND_TRUTH.values()
                       if e.protocol == "main" and e.value(args.scale, args.dataset) is not None])
    sigma = noise_sigma([g for _, _, g in pairs])
    lines = [
        f"# Label noise and the Spearman ceiling, x{args.scale} ({args.dataset}, Y-PSNR)",
        "",
        "Written by `benchmarks/label_noise.py` (no training). The same config trained twice by different "
        "people (`retrain:` entries of `nas/arch/ground_truth.py`), independent pairs only:",
        "",
        "| retrain | original | gap dB (original - retrain) |",
        "|---|---|---:|",
        *[f"| {a} | {b} | {g:+.3f} |" for a, b, g in pairs],
        "",
        f"Per-training noise sigma = sqrt(mean(gap^2) / 2) = **{sigma:.3f} dB** from {len(pairs)} pairs "
        "(few pairs: read it as an order of magnitude).",
        "",
        f"{labels.size} `main` networks, {args.dataset} PSNR spread: standard deviation {labels.std(ddof=1):.3f} dB, "
        f"range {labels.min():.2f}-{labels.max():.2f} dB. A predictor that knew each design's expected PSNR "
        f"exactly, scored against one training per network ({args.sims:,} simulated draws):",
        "",
        "| noise sigma dB | Spearman ceiling (median) | 95 % of draws |",
        "|---:|---:|---|",
    ]
    for s in sorted({*SIGMAS, round(sigma, 3)}):
        med, lo, hi = spearman_ceiling(labels, s, args.sims)
        mark = " (estimated)" if s == round(sigma, 3) else ""
        lines.append(f"| {s:.3f}{mark} | {med:.2f} | [{lo:.2f}, {hi:.2f}] |")
    lines += ["", "The labels stand in for the expected PSNR, so their spread includes the noise: the ceiling is "
              "slightly optimistic.", ""]
    out = args.out or ROOT / "results" / "benchmarks" / f"label_noise_x{args.scale}.md"
    out.write_text("\n".join(lines))
    print(out)


if __name__ == "__main__":
    main()
