"""Fitted predictors of ``benchmarks/zoo_fidelity.py``: ridge regressions of the published PSNR
on a proxy's PSNR and architecture features (``nas.proxy.predict`` names), scored
leave-one-family-out (:func:`leave_one_family_out`), and :func:`fit_calibration`, which fits the
predictor ``nas search`` ships (``nas/proxy/calibrations.json``) on every network."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Sequence

import numpy as np
from _stats import score_predictor


def leave_one_family_out(features: np.ndarray, truth: np.ndarray, families: Sequence[str],
                         alpha: float = 1.0) -> np.ndarray:
    """Ridge-regression predictions of ``truth``, each family predicted by a model fitted on the
    other families only (scikit-learn ``Ridge`` on standardised features).

    Args:
        features: (n, k) array, one row per network.
        truth: (n,) published PSNR (dB).
        families: length n; the networks of one family are held out together.
        alpha: ridge penalty.

    Returns:
        (n,) out-of-family predictions (dB); NaN for a family when the others leave fewer than
        two networks to fit on.

    Raises:
        ValueError: shapes disagree.
    """
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, truth = np.asarray(features, float), np.asarray(truth, float)
    if features.ndim != 2 or len(features) != len(truth) or len(families) != len(truth):
        raise ValueError(f"features {features.shape}, truth {truth.shape} and {len(families)} families disagree")
    out = np.full(len(truth), np.nan)
    fam = np.asarray(families)
    for f in sorted(set(families)):
        test = fam == f
        train = ~test
        if train.sum() < 2:
            continue
        model = make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(features[train], truth[train])
        out[test] = model.predict(features[test])
    return out


#: Feature sets of the fitted predictors (``nas.proxy.predict.FEATURES`` names; ``psnr`` first).
FEATURE_SETS = (("psnr", "log10_params"), ("psnr", "depth"), ("psnr", "log10_params", "depth"),
                ("psnr", "log10_mult_adds", "depth"))
ARCH_FEATURES = ("log10_params", "depth")


def feature_matrix(archs: list[dict], psnr: Sequence[float] | None, names: Sequence[str]) -> np.ndarray:
    """(n, k) features of ``archs`` (``nas.proxy.predict.feature_vector``), ``psnr`` the rung's
    PSNR per network (dB; needed only when ``names`` has ``psnr``)."""
    from nas.proxy.predict import feature_vector

    rows = []
    for i, a in enumerate(archs):
        f = feature_vector(psnr[i] if psnr is not None else math.nan, a["params"], a["mult_adds"], a["depth"])
        rows.append([f[n] for n in names])
    return np.array(rows, float)


def fit_calibration(archs: list[dict], lever: str, prof: Any, names: Sequence[str], data: str, scale: int,
                    gt_set: str, alpha: float = 1.0) -> dict[str, Any]:
    """A ``nas.proxy.predict`` calibration: per rung of ``lever``, a ridge regression of the
    published PSNR on ``names`` fitted on every network, written as a plain linear model on raw
    features (standardisation folded in), with its leave-one-family-out RMS error as
    ``sigma_db`` and LOFO Spearman / clear-pair share for the record, and the fitting set's
    applicability domain (``nas.proxy.predict.fit_domain`` on log10 params, depth, log2 nf)."""
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    y = np.array([a["published_db"] for a in archs], float)
    fams = [a["family"] for a in archs]
    models = {}
    for r, stop in enumerate(prof.rung_stops):
        psnr = [a["curves"][lever][r][1] for a in archs]
        X = feature_matrix(archs, psnr, names)
        sc = StandardScaler().fit(X)
        m = Ridge(alpha=alpha).fit(sc.transform(X), y)
        coef = m.coef_ / sc.scale_
        intercept = float(m.intercept_ - np.sum(m.coef_ * sc.mean_ / sc.scale_))
        lofo = leave_one_family_out(X, y, fams, alpha)
        st = score_predictor(list(lofo), list(y))
        models[str(stop)] = {"intercept": intercept, "coef": [float(c) for c in coef],
                             "x_min": [float(v) for v in X.min(axis=0)], "x_max": [float(v) for v in X.max(axis=0)],
                             "sigma_db": float(np.sqrt(np.mean((lofo - y) ** 2))),
                             "lofo_spearman": st["spearman"], "lofo_clear_share": st["clear_share"],
                             "n": len(archs)}
    protocol = {k: v for k, v in prof.to_dict().items() if k not in ("name", "rungs")}
    from nas.proxy.predict import feature_vector, fit_domain

    domain = fit_domain([feature_vector(math.nan, a["params"], a["mult_adds"], a["depth"], a["config"]["nf"])
                         for a in archs], [a["name"] for a in archs])
    return {"scale": scale, "protocol": protocol, "data": data,
            "horizon": f"{gt_set} x{scale} Y-PSNR after the papers' full training",
            "features": list(names), "models": models, "domain": domain.to_dict(),
            "source": f"benchmarks/zoo_fidelity.py, lever {lever}, {len(archs)} published networks "
                      f"({', '.join(a['name'] for a in archs)}), ridge alpha {alpha}; "
                      f"{_dt.date.today().isoformat()}"}
