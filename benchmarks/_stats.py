"""Rank statistics shared by the fidelity benchmarks: how well a predictor orders items like a
ground truth (Spearman's rho, Kendall's tau-b and the top-k overlap).

They take two equal-length sequences where larger is better (PSNR in dB, or "more is better"
for costs read as predictors) and leave out missing values (None / NaN) pairwise.
"""

from __future__ import annotations

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
