"""Rank statistics shared by the fidelity benchmarks: how well a predictor orders items like a
ground truth (Spearman's rho, Kendall's tau-b, the top-k overlap, and the share of *clear pairs*
ordered right), plus :func:`rank_agreement` (rho and tau with p-values) for two latency lists.

The predictor statistics take two equal-length sequences where larger is better (PSNR in dB,
or "more is better" for costs read as predictors) and leave out missing values (None / NaN)
pairwise; :func:`rank_agreement` takes two complete lists.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Sequence

import numpy as np
from scipy import stats as _stats

#: The share of the items that makes the "top k" (k = ceil(0.1 n)).
TOP_FRAC = 0.1


def top_k_size(n: int, frac: float = TOP_FRAC) -> int:
    """``k = ceil(frac * n)``, at least 1 (rounded first so that ``0.1 * 30`` gives 3, not 4)."""
    return max(1, math.ceil(round(frac * n, 9)))


def top_k_overlap(pred: Sequence[float], truth: Sequence[float], frac: float = TOP_FRAC) -> float:
    """Fraction of the ``k = ceil(frac * n)`` best by ``truth`` that are also among the ``k`` best
    by ``pred`` (larger = better for both; ties broken by position, the earlier first).

    Returns:
        ``|top_k(pred) & top_k(truth)| / k`` in [0, 1]; NaN for empty input.

    Raises:
        ValueError: ``pred`` and ``truth`` differ in length.
    """
    p, t = np.asarray(pred, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    if p.shape != t.shape:
        raise ValueError(f"pred and truth differ in length ({p.size} vs {t.size})")
    if p.size == 0:
        return float("nan")
    k = top_k_size(p.size, frac)
    top_p = set(np.argsort(-p, kind="stable")[:k].tolist())
    top_t = set(np.argsort(-t, kind="stable")[:k].tolist())
    return len(top_p & top_t) / k


def rank_stats(pred: Sequence[float], truth: Sequence[float], frac: float = TOP_FRAC) -> dict[str, Any]:
    """How well ``pred`` ranks like ``truth`` (both: larger = better, e.g. PSNR in dB).

    Pairs where either value is missing (None / NaN / inf) are dropped first.

    Returns:
        ``{"n", "k", "spearman", "kendall", "top10_overlap"}``: the pairs used, the top-k size
        ``ceil(frac * n)``, Spearman's rho, Kendall's tau-b (scipy.stats) and the top-k overlap
        (:func:`top_k_overlap`). Correlations are NaN with fewer than 2 pairs or a constant input.

    Raises:
        ValueError: ``pred`` and ``truth`` differ in length.
    """
    p = np.array([np.nan if v is None else v for v in pred], dtype=np.float64)
    t = np.array([np.nan if v is None else v for v in truth], dtype=np.float64)
    if p.shape != t.shape:
        raise ValueError(f"pred and truth differ in length ({p.size} vs {t.size})")
    ok = np.isfinite(p) & np.isfinite(t)
    p, t = p[ok], t[ok]
    n = int(p.size)
    rho = tau = float("nan")
    if n >= 2 and np.ptp(p) > 0 and np.ptp(t) > 0:
        rho = float(_stats.spearmanr(p, t).statistic)
        tau = float(_stats.kendalltau(p, t).statistic)
    return {"n": n, "k": top_k_size(n, frac) if n else 0, "spearman": rho, "kendall": tau,
            "top10_overlap": top_k_overlap(p, t, frac)}


def clear_pairs(pred: Sequence[float | None], truth: Sequence[float | None], min_gap: float = 0.1) -> dict[str, Any]:
    """Share of the *clear pairs* that ``pred`` orders as ``truth`` does.

    A clear pair is two items whose ``truth`` differs by at least ``min_gap`` (dB). The pair
    counts 1 when ``pred`` orders it the same way, 0.5 when ``pred`` ties, 0 otherwise. Items with a
    missing value (None / NaN) are left out.

    Returns:
        ``{"pairs": int, "correct": float, "share": float}``; ``share`` is NaN with no clear pair.

    Raises:
        ValueError: ``pred`` and ``truth`` differ in length, or ``min_gap < 0``.
    """
    if len(pred) != len(truth):
        raise ValueError(f"pred and truth differ in length ({len(pred)} vs {len(truth)})")
    if min_gap < 0:
        raise ValueError(f"min_gap must be >= 0, got {min_gap}")
    ok = [(float(p), float(t)) for p, t in zip(pred, truth)
          if p is not None and t is not None and math.isfinite(p) and math.isfinite(t)]
    pairs, correct = 0, 0.0
    for (p1, t1), (p2, t2) in itertools.combinations(ok, 2):
        if abs(t1 - t2) < min_gap - 1e-12:
            continue
        pairs += 1
        if p1 == p2:
            correct += 0.5
        elif (p1 > p2) == (t1 > t2):
            correct += 1.0
    return {"pairs": pairs, "correct": correct, "share": correct / pairs if pairs else float("nan")}


def score_predictor(pred: Sequence[float | None], truth: Sequence[float | None], min_gap: float = 0.1) -> dict[str, Any]:
    """Spearman rho, Kendall tau-b (:func:`rank_stats`) and :func:`clear_pairs` of ``pred``."""
    rs = rank_stats(pred, truth)
    cp = clear_pairs(pred, truth, min_gap)
    return {"n": rs["n"], "spearman": rs["spearman"], "kendall": rs["kendall"], "clear_pairs": cp["pairs"],
            "clear_share": cp["share"]}


def rank_agreement(a: list[float], b: list[float]) -> dict[str, float]:
    """Spearman's rho and Kendall's tau (tau-b) of two latency lists, with their p-values."""
    from scipy import stats

    rho = stats.spearmanr(a, b)
    tau = stats.kendalltau(a, b)
    return {"n": len(a), "spearman": float(rho.statistic), "spearman_p": float(rho.pvalue),
            "kendall": float(tau.statistic), "kendall_p": float(tau.pvalue)}
