"""Choosing and scoring a predictor of fully-trained PSNR honestly (no torch).

Issue 31: a predictor fitted on ~30 published networks and scored on the same networks, or whose
features, hyper-parameters and protocol were chosen by the score it reports, is optimistic. This
module is the one implementation of

* :func:`fit_predict`: a ridge regression (scikit-learn) on standardised features, the held-out
  features clipped to the fitting set's range first (exactly what the shipped
  ``nas.proxy.predict.Calibration.predict`` does), and :func:`to_linear`, its plain linear form
  for ``calibrations.json``;
* :func:`lofo_predict`: leave-one-group-out predictions (a group = a design family or lineage);
* :func:`nested_lofo`: the predictor *chosen* inside the cross-validation: for every held-out
  group, the candidate :class:`Spec` (feature set and ridge alpha) is picked by an inner
  leave-one-group-out on the other groups only, refitted on them, and used on the held-out group,
  so the held-out group touches no coefficient, standardisation, hyper-parameter or feature
  choice (Cawley & Talbot, JMLR 11, 2010, "On over-fitting in model selection");
* :func:`rank_scores`, :func:`bootstrap_ci`, :func:`paired_bootstrap`: Spearman, Kendall's tau-b,
  the share of clear pairs in order and the mean absolute error (dB), with percentile bootstrap
  95 % intervals over networks, and a paired bootstrap of two predictors on the same folds.

Rows are networks, ``X`` maps a feature name to one value per network (NaN where unknown: a spec
that needs it is skipped for that fit), ``y`` is the published PSNR (dB), ``groups`` the family.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = ["Spec", "fit_predict", "to_linear", "lofo_predict", "select", "nested_lofo", "rank_scores", "clear_pairs",
           "bootstrap_ci", "paired_bootstrap", "pair_order_share"]


@dataclass(frozen=True)
class Spec:
    """A candidate predictor: a ridge regression of the published PSNR on ``features``.

    Attributes:
        features: feature names (keys of the ``X`` mapping).
        alpha: ridge penalty on the standardised features (scikit-learn ``Ridge(alpha)``).
        pairs_weight: weight of the ablation pairs (:func:`fit_predict`'s ``pairs``): each pair of
            the fitting groups adds the equation ``w . (z_better - z_worse) = delta_db`` (no intercept:
            a protocol's offset cancels in the difference), so the papers' one-choice-at-a-time
            comparisons teach the design effects that the published networks, which differ in
            many choices at once, cannot separate. 0: the published networks alone.
    """

    features: tuple[str, ...]
    alpha: float = 1.0
    pairs_weight: float = 0.0

    @property
    def name(self) -> str:
        pw = f"p{self.pairs_weight:g}" if self.pairs_weight else ""
        return f"ridge[{'+'.join(self.features)}]a{self.alpha:g}{pw}"


def _matrix(X: Mapping[str, Sequence[float]], features: Sequence[str], rows: np.ndarray) -> np.ndarray:
    return np.column_stack([np.asarray(X[f], float)[rows] for f in features]) if features else np.zeros((len(rows), 0))


def _ridge(x: np.ndarray, y: np.ndarray, alpha: float, dx: np.ndarray | None = None, dy: np.ndarray | None = None,
           pairs_weight: float = 0.0) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Ridge regression on standardised ``x`` (population std; a constant column gets no weight):
    ``(intercept, coef, mean, sd)`` with prediction ``intercept + ((x - mean) / sd) @ coef``.

    The closed form of scikit-learn's ``Ridge(alpha, fit_intercept=True)`` on centred data,
    ``coef = (Z'Z + alpha I)^-1 Z'(y - mean(y))``, intercept ``mean(y)`` (tested equal to
    scikit-learn's); written out because the nested cross-validation fits it ~10^5 times. With
    pair differences ``dx`` (raw feature differences, one row a pair) and ``dy`` (dB), their
    standardised equations join with weight ``pairs_weight``:
    ``(Z'Z + pw D'D + alpha I) coef = Z'(y - mean(y)) + pw D' dy``."""
    mean, sd = x.mean(axis=0), x.std(axis=0)
    sd = np.where(sd > 0, sd, np.inf)  # a constant feature: standardised to 0, so no weight
    z = (x - mean) / sd
    ym = float(np.mean(y))
    if not z.shape[1]:
        return ym, np.zeros(0), mean, sd
    a, b = z.T @ z + alpha * np.eye(z.shape[1]), z.T @ (y - ym)
    if pairs_weight and dx is not None and len(dx):
        d = dx / sd
        a, b = a + pairs_weight * d.T @ d, b + pairs_weight * d.T @ dy
    return ym, np.linalg.solve(a, b), mean, sd


def _pair_rows(X, spec: Spec, pairs, allowed: set[int]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Feature differences and dB gaps of the ``pairs`` (``(better_row, worse_row, delta_db)``)
    whose two rows are both in ``allowed``."""
    use = [(i, j, d) for i, j, d in (pairs or ()) if i in allowed and j in allowed]
    if not spec.pairs_weight or not use:
        return None, None
    xi = _matrix(X, spec.features, np.array([u[0] for u in use]))
    xj = _matrix(X, spec.features, np.array([u[1] for u in use]))
    ok = np.isfinite(xi).all(axis=1) & np.isfinite(xj).all(axis=1)
    return (xi - xj)[ok], np.array([u[2] for u in use], float)[ok]


def fit_predict(spec: Spec, X: Mapping[str, Sequence[float]], y: Sequence[float], train: Sequence[int],
                test: Sequence[int], pairs: Sequence[tuple[int, int, float]] = (),
                pair_rows: set[int] | None = None) -> np.ndarray:
    """Fit ``spec`` on the rows ``train`` and predict the rows ``test`` (dB).

    The test features are clipped to the training rows' range first (the shipped calibration's
    rule: no credit beyond what the fitting set supports); a feature constant over the training
    rows gets no weight.

    Raises:
        ValueError: a feature is NaN on a training or test row, or no training rows.
    """
    train, test = np.asarray(train, int), np.asarray(test, int)
    if train.size == 0:
        raise ValueError("no training rows")
    y = np.asarray(y, float)
    xtr, xte = _matrix(X, spec.features, train), _matrix(X, spec.features, test)
    if not (np.isfinite(xtr).all() and np.isfinite(xte).all()):
        raise ValueError(f"a feature of {spec.name} is not finite on a row")
    lo, hi = xtr.min(axis=0), xtr.max(axis=0)
    xte = np.clip(xte, lo, hi)
    dx, dy = _pair_rows(X, spec, pairs, pair_rows or set())
    intercept, coef, mean, sd = _ridge(xtr, y[train], spec.alpha, dx, dy, spec.pairs_weight)
    return intercept + ((xte - mean) / sd) @ coef


def to_linear(spec: Spec, X: Mapping[str, Sequence[float]], y: Sequence[float], rows: Sequence[int],
              pairs: Sequence[tuple[int, int, float]] = (), pair_rows: set[int] | None = None) -> dict[str, Any]:
    """``spec`` fitted on ``rows`` as a plain linear model on raw features: ``{"intercept",
    "coef", "x_min", "x_max"}`` (the format of a ``nas.proxy.predict.Calibration`` model), which
    predicts exactly what :func:`fit_predict` does."""
    rows = np.asarray(rows, int)
    x = _matrix(X, spec.features, rows)
    dx, dy = _pair_rows(X, spec, pairs, pair_rows or set())
    intercept, w, mean, sd = _ridge(x, np.asarray(y, float)[rows], spec.alpha, dx, dy, spec.pairs_weight)
    return {"intercept": float(intercept - np.sum(w * mean / sd)), "coef": [float(c) for c in w / sd],
            "x_min": [float(v) for v in x.min(axis=0)], "x_max": [float(v) for v in x.max(axis=0)]}


def _usable(spec: Spec, X: Mapping[str, Sequence[float]], rows: np.ndarray) -> bool:
    return all(np.isfinite(np.asarray(X[f], float)[rows]).all() for f in spec.features)


def lofo_predict(spec: Spec, X: Mapping[str, Sequence[float]], y: Sequence[float], groups: Sequence[str],
                 rows: Sequence[int] | None = None, predict_rows: Sequence[int] | None = None,
                 pairs: Sequence[tuple[int, int, float]] = ()) -> np.ndarray:
    """Leave-one-group-out predictions of ``spec``.

    Args:
        rows: the rows that may be fitted on (default all).
        predict_rows: the rows to predict (default ``rows``); each is predicted by a model fitted
            on the ``rows`` of the other groups only.
        pairs: ablation pairs ``(better_row, worse_row, delta_db)``; a fit uses those of the other
            groups only (``Spec.pairs_weight``).

    Returns:
        One prediction per row of ``X`` (NaN for rows not predicted).
    """
    n = len(y)
    rows = np.arange(n) if rows is None else np.asarray(rows, int)
    predict_rows = rows if predict_rows is None else np.asarray(predict_rows, int)
    groups = np.asarray(groups, object)
    out = np.full(n, np.nan)
    for g in sorted(set(groups[predict_rows])):
        test = predict_rows[groups[predict_rows] == g]
        train = rows[groups[rows] != g]
        out[test] = fit_predict(spec, X, y, train, test, pairs, set(np.flatnonzero(groups != g).tolist()))
    return out


def rank_scores(pred: Sequence[float], truth: Sequence[float], min_gap: float = 0.1) -> dict[str, float]:
    """Spearman's rho, Kendall's tau-b, the clear-pair share (:func:`clear_pairs`) and the mean
    absolute error (dB) of ``pred`` against ``truth`` over the rows where both are finite."""
    from scipy.stats import kendalltau, spearmanr

    p, t = np.asarray(pred, float), np.asarray(truth, float)
    ok = np.isfinite(p) & np.isfinite(t)
    p, t = p[ok], t[ok]
    if p.size < 3 or np.ptp(p) == 0 or np.ptp(t) == 0:
        nan = float("nan")
        return {"n": int(p.size), "spearman": nan, "kendall": nan, "clear_share": nan, "mae_db": nan}
    return {"n": int(p.size), "spearman": float(spearmanr(p, t).statistic), "kendall": float(kendalltau(p, t).statistic),
            "clear_share": clear_pairs(p, t, min_gap), "mae_db": float(np.mean(np.abs(p - t)))}


def clear_pairs(pred: Sequence[float], truth: Sequence[float], min_gap: float = 0.1) -> float:
    """Share of the pairs whose ``truth`` differs by at least ``min_gap`` (dB) that ``pred`` orders
    the same way (a tie in ``pred`` counts half); NaN with no such pair."""
    pairs, correct = 0, 0.0
    for (p1, t1), (p2, t2) in itertools.combinations(zip(pred, truth), 2):
        if abs(t1 - t2) < min_gap - 1e-12:
            continue
        pairs += 1
        d = (p1 - p2) * (t1 - t2)
        correct += 1.0 if d > 0 else 0.5 if d == 0 else 0.0
    return correct / pairs if pairs else float("nan")


def _inner_score(pred: np.ndarray, truth: np.ndarray) -> float:
    from scipy.stats import spearmanr

    ok = np.isfinite(pred)
    if ok.sum() < 3 or np.ptp(pred[ok]) == 0:
        return -math.inf
    return float(spearmanr(pred[ok], truth[ok]).statistic)


def select(specs: Sequence[Spec], X: Mapping[str, Sequence[float]], y: Sequence[float], groups: Sequence[str],
           rows: Sequence[int], pairs: Sequence[tuple[int, int, float]] = ()) -> tuple[Spec | None, float]:
    """The spec whose leave-one-group-out predictions over ``rows`` have the highest Spearman
    (ties: fewer features, then larger alpha, then list order), and that Spearman; ``(None,
    -inf)`` when no spec has its features on every row. The selection step of
    :func:`nested_lofo`, and what a calibration fitted on every network uses."""
    rows = np.asarray(rows, int)
    y_a = np.asarray(y, float)
    best, best_key = None, None
    for i, spec in enumerate(specs):
        if not _usable(spec, X, rows):
            continue
        inner = lofo_predict(spec, X, y_a, groups, rows=rows, pairs=pairs)
        key = (_inner_score(inner[rows], y_a[rows]), -len(spec.features), spec.alpha, -i)
        if best_key is None or key > best_key:
            best, best_key = spec, key
    return best, (best_key[0] if best_key else -math.inf)


def nested_lofo(specs: Sequence[Spec], X: Mapping[str, Sequence[float]], y: Sequence[float], groups: Sequence[str],
                rows: Sequence[int] | None = None, predict_rows: Sequence[int] | None = None,
                pairs: Sequence[tuple[int, int, float]] = ()) -> tuple[np.ndarray, dict[str, Spec]]:
    """Out-of-group predictions of the predictor *chosen* among ``specs`` by an inner
    leave-one-group-out on the other groups only (nested cross-validation).

    For each held-out group g: every spec is scored by the Spearman of its leave-one-group-out
    predictions over the fitting ``rows`` outside g (g never enters); the best (ties: fewer
    features, then larger alpha, then list order) is refitted on all fitting rows outside g and
    predicts g's ``predict_rows``.

    Args:
        rows: rows to fit on (the published, fully-trained networks); predict_rows: rows to
            predict (default ``rows``; e.g. also ablation variants, never fitted on).
        pairs: ablation pairs ``(better_row, worse_row, delta_db)`` for specs with a pairs weight;
            those of the held-out group are never used, in the inner or the outer fit.

    Returns:
        ``(pred, chosen)``: one prediction per row of ``X`` (NaN where not predicted), and the
        spec chosen for each held-out group.
    """
    n = len(y)
    rows = np.arange(n) if rows is None else np.asarray(rows, int)
    predict_rows = rows if predict_rows is None else np.asarray(predict_rows, int)
    groups_a = np.asarray(groups, object)
    y_a = np.asarray(y, float)
    out, chosen = np.full(n, np.nan), {}
    for g in sorted(set(groups_a[predict_rows])):
        fit_rows = rows[groups_a[rows] != g]
        test = predict_rows[groups_a[predict_rows] == g]
        outside = [(i, j, d) for i, j, d in pairs if groups_a[i] != g and groups_a[j] != g]
        best, _ = select([s for s in specs if _usable(s, X, test)], X, y_a, groups_a, fit_rows, outside)
        if best is None:
            continue
        chosen[str(g)] = best
        out[test] = fit_predict(best, X, y_a, fit_rows, test, outside,
                                set(np.flatnonzero(groups_a != g).tolist()))
    return out, chosen


def bootstrap_ci(pred: Sequence[float], truth: Sequence[float], stat: Callable[[np.ndarray, np.ndarray], float],
                 n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat(pred, truth)``, resampling networks (rows) with
    replacement; resamples where the statistic is undefined are dropped."""
    p, t = np.asarray(pred, float), np.asarray(truth, float)
    ok = np.isfinite(p) & np.isfinite(t)
    p, t = p[ok], t[ok]
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n_boot):
        i = rng.integers(0, p.size, p.size)
        v = stat(p[i], t[i])
        if math.isfinite(v):
            vals.append(v)
    if not vals:
        return float("nan"), float("nan")
    a = (1 - level) / 2
    return float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a))


def paired_bootstrap(pred_a: Sequence[float], pred_b: Sequence[float], truth: Sequence[float],
                     stat: Callable[[np.ndarray, np.ndarray], float], margin: float = 0.0, n_boot: int = 2000,
                     seed: int = 0) -> dict[str, float]:
    """Paired bootstrap of ``stat(a) - stat(b)`` on the same resampled networks.

    Returns:
        ``{"diff": observed difference, "lo", "hi": 95 % interval, "share_above_margin": share of
        resamples with a difference >= margin}``.
    """
    a, b, t = (np.asarray(v, float) for v in (pred_a, pred_b, truth))
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(t)
    a, b, t = a[ok], b[ok], t[ok]
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot):
        i = rng.integers(0, t.size, t.size)
        d = stat(a[i], t[i]) - stat(b[i], t[i])
        if math.isfinite(d):
            diffs.append(d)
    diffs_a = np.asarray(diffs)
    return {"diff": float(stat(a, t) - stat(b, t)),
            "lo": float(np.quantile(diffs_a, 0.025)) if diffs else float("nan"),
            "hi": float(np.quantile(diffs_a, 0.975)) if diffs else float("nan"),
            "share_above_margin": float(np.mean(diffs_a >= margin)) if diffs else float("nan")}


def pair_order_share(pred: Mapping[str, float], pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Share of ``(better, worse)`` pairs (names) that ``pred`` (name -> dB) orders as the paper did
    (a tie counts half); pairs with a missing prediction are left out and counted."""
    n, correct, missing = 0, 0.0, 0
    for better, worse in pairs:
        a, b = pred.get(better), pred.get(worse)
        if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
            missing += 1
            continue
        n += 1
        correct += 1.0 if a > b else 0.5 if a == b else 0.0
    return {"pairs": n, "in_order": correct, "share": correct / n if n else float("nan"), "missing": missing}


def spearman(p: np.ndarray, t: np.ndarray) -> float:
    """Spearman's rho (NaN for fewer than 3 rows or a constant side); a ``stat`` for the bootstraps."""
    from scipy.stats import spearmanr

    if p.size < 3 or np.ptp(p) == 0 or np.ptp(t) == 0:
        return float("nan")
    return float(spearmanr(p, t).statistic)


def mae(p: np.ndarray, t: np.ndarray) -> float:
    """Mean absolute error (dB); a ``stat`` for the bootstraps."""
    return float(np.mean(np.abs(p - t))) if p.size else float("nan")
