"""nas.proxy.fit: the ridge, nested leave-one-family-out selection and the bootstrap statistics (issue 31)."""

import math

import numpy as np
import pytest

from nas.proxy import fit


def _data(n_fam=6, per=4, seed=0):
    rng = np.random.default_rng(seed)
    n = n_fam * per
    size = rng.normal(size=n)
    y = 31.0 + 0.5 * size + 0.05 * rng.normal(size=n)
    groups = [f"f{i // per}" for i in range(n)]
    return {"size": size, "noise": rng.normal(size=n)}, y, groups


def test_ridge_equals_scikit_learn_and_its_linear_form():
    from sklearn.linear_model import Ridge

    X, y, _ = _data()
    rows = np.arange(len(y))
    spec = fit.Spec(("size", "noise"), alpha=3.0)
    x = np.column_stack([X["size"], X["noise"]])
    mean, sd = x.mean(0), x.std(0)
    ref = Ridge(alpha=3.0).fit((x - mean) / sd, y).predict((x - mean) / sd)
    ours = fit.fit_predict(spec, X, y, rows, rows)
    np.testing.assert_allclose(ours, ref, atol=1e-10)
    lin = fit.to_linear(spec, X, y, rows)
    np.testing.assert_allclose(lin["intercept"] + x @ np.array(lin["coef"]), ref, atol=1e-9)
    assert lin["x_min"] == pytest.approx(list(x.min(0))) and lin["x_max"] == pytest.approx(list(x.max(0)))


def test_held_out_features_are_clipped_to_the_fitting_range():
    X = {"a": np.array([0.0, 1.0, 2.0, 10.0])}
    y = np.array([0.0, 1.0, 2.0, 99.0])
    p = fit.fit_predict(fit.Spec(("a",), alpha=1e-9), X, y, [0, 1, 2], [3])
    assert p[0] == pytest.approx(2.0, abs=1e-6)  # a = 10 is read as 2, the largest a fitted on


def test_lofo_never_fits_on_the_held_out_family():
    # a feature that equals the target inside one family only: a model that saw that family would
    # predict it exactly; leave-one-family-out must not
    X, y, groups = _data()
    leak = np.where(np.array(groups) == "f0", y, 0.0)
    X = {**X, "leak": leak}
    p = fit.lofo_predict(fit.Spec(("leak",), alpha=1e-6), X, y, groups)
    f0 = np.array(groups) == "f0"
    # the other families all have leak = 0: the f0 model is a constant, it cannot track f0's targets
    assert np.ptp(p[f0]) == pytest.approx(0.0, abs=1e-9)


def test_nested_selection_never_sees_the_held_out_family():
    # "planted" is the target itself in family f0 and pure noise elsewhere. Chosen by a
    # non-nested score it would win (it predicts f0 perfectly); nested, the choice for f0 is made
    # on the other families, where it is noise, so f0 is predicted by the size feature.
    X, y, groups = _data(seed=1)
    g = np.array(groups)
    rng = np.random.default_rng(7)
    planted = np.where(g == "f0", (y - 31.0) * 10, rng.normal(size=len(y)))
    X = {**X, "planted": planted}
    specs = [fit.Spec(("planted",), 1.0), fit.Spec(("size",), 1.0)]
    pred, chosen = fit.nested_lofo(specs, X, y, groups)
    assert chosen["f0"].features == ("size",)
    rows = np.arange(len(y))
    # the inner choice for another family may not use f0's rows as test data either: each
    # fold's chosen spec is reproduced by an inner LOFO restricted to the other families
    for fam, spec in chosen.items():
        fit_rows = rows[g != fam]
        scores = {s: fit._inner_score(fit.lofo_predict(s, X, y, groups, rows=fit_rows)[fit_rows], y[fit_rows])
                  for s in specs}
        assert spec == max(scores, key=scores.get)
    assert fit.rank_scores(pred, y)["spearman"] > 0.9


def test_rank_scores_and_clear_pairs_by_hand():
    truth = [30.0, 30.05, 30.5, 31.0]
    pred = [1.0, 3.0, 2.0, 4.0]
    s = fit.rank_scores(pred, truth, min_gap=0.1)
    assert s["spearman"] == pytest.approx(0.8)
    # clear pairs (>= 0.1 dB apart): (0,2) (0,3) (1,2) (1,3) (2,3); (1,2) is reversed
    assert s["clear_share"] == pytest.approx(4 / 5)
    assert s["mae_db"] == pytest.approx(np.mean(np.abs(np.array(pred) - np.array(truth))))


def test_bootstrap_interval_on_a_hand_made_set():
    truth = np.arange(20, dtype=float)
    perfect = truth * 2
    lo, hi = fit.bootstrap_ci(perfect, truth, fit.spearman, n_boot=300)
    assert lo == pytest.approx(1.0) and hi == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    noisy = truth + rng.normal(scale=6.0, size=20)
    lo, hi = fit.bootstrap_ci(noisy, truth, fit.spearman, n_boot=500)
    point = fit.spearman(noisy, truth)
    assert lo < point < hi and hi - lo > 0.1
    pb = fit.paired_bootstrap(perfect, noisy, truth, fit.spearman, margin=0.0, n_boot=300)
    assert pb["diff"] == pytest.approx(1.0 - point) and pb["share_above_margin"] == pytest.approx(1.0)


def test_pair_order_share():
    pred = {"a": 32.0, "b": 31.0, "c": 31.0, "d": math.nan}
    out = fit.pair_order_share(pred, [("a", "b"), ("b", "c"), ("c", "a"), ("a", "d"), ("a", "zz")])
    assert out == {"pairs": 3, "in_order": 1.5, "share": 0.5, "missing": 2}


def test_ablation_pairs_teach_a_design_effect_the_networks_cannot_separate():
    # the published networks: PSNR follows size; "att" (an attention share) is collinear with size
    # there, so the networks alone cannot tell its effect. Pairs that differ only in att (same
    # size) say +0.2 dB; with them the fit credits att, without them it cannot.
    n = 12
    size = np.linspace(0, 1, n)
    att = size.copy()
    y = 31.0 + 1.0 * size
    groups = [f"f{i // 2}" for i in range(n)]
    X = {"size": np.r_[size, 0.5, 0.5], "att": np.r_[att, 1.0, 0.0]}
    Y = np.r_[y, 0.0, 0.0]  # the variants' own (ablation-protocol) PSNRs are never fitted on
    G = groups + ["fx", "fx"]
    pairs = [(n, n + 1, 0.2)]
    spec0, spec1 = fit.Spec(("size", "att"), 0.01), fit.Spec(("size", "att"), 0.01, pairs_weight=10.0)
    rows = np.arange(n)
    allowed = set(range(n + 2))
    p0 = fit.fit_predict(spec0, X, Y, rows, [n, n + 1], pairs, allowed)
    p1 = fit.fit_predict(spec1, X, Y, rows, [n, n + 1], pairs, allowed)
    assert p1[0] - p1[1] == pytest.approx(0.2, abs=0.03)
    assert abs((p0[0] - p0[1]) - 0.2) > 0.1
    # a held-out group's own pairs never enter its fit
    pred, _ = fit.nested_lofo([spec1], X, Y, G, rows=rows, predict_rows=np.arange(n + 2), pairs=pairs)
    pfx = fit.fit_predict(spec1, X, Y, rows, [n, n + 1])  # no pairs at all
    np.testing.assert_allclose(pred[[n, n + 1]], pfx, atol=1e-9)
