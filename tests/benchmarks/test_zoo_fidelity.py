"""Statistics of benchmarks/zoo_fidelity.py on hand-made numbers (no training)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.benchmarks import load_benchmark

zf = load_benchmark("zoo_fidelity")


def test_clear_pairs_counts_only_pairs_apart_by_the_gap():
    truth = [32.27, 32.21, 32.16, 31.77]
    # pairs apart by >= 0.1 dB: (32.27, 32.16), (32.27, 31.77), (32.21, 31.77), (32.16, 31.77) -> 4
    perfect = zf.clear_pairs([4, 3, 2, 1], truth)
    assert perfect == {"pairs": 4, "correct": 4.0, "share": 1.0}
    reversed_ = zf.clear_pairs([1, 2, 3, 4], truth)
    assert reversed_["share"] == 0.0
    # AWSRN-S put on top: the three pairs with 31.77 are wrong, (32.27, 32.16) right
    assert zf.clear_pairs([3, 2, 1, 4], truth)["share"] == pytest.approx(1 / 4)


def test_clear_pairs_ties_count_half_and_missing_values_are_left_out():
    truth = [30.0, 31.0, 32.0]
    assert zf.clear_pairs([1.0, 1.0, 2.0], truth)["correct"] == pytest.approx(2.5)
    assert zf.clear_pairs([None, 1.0, 2.0], truth) == {"pairs": 1, "correct": 1.0, "share": 1.0}
    assert math.isnan(zf.clear_pairs([1.0, 2.0], [30.0, 30.05])["share"])
    with pytest.raises(ValueError):
        zf.clear_pairs([1.0], [1.0, 2.0])


def test_score_predictor_reports_rho_tau_and_clear_pairs():
    truth = [1.0, 2.0, 3.0, 4.0, 5.0]
    s = zf.score_predictor([1, 2, 3, 5, 4], truth, min_gap=0.5)
    assert s["spearman"] == pytest.approx(0.9) and s["kendall"] == pytest.approx(0.8)
    assert s["clear_pairs"] == 10 and s["clear_share"] == pytest.approx(0.9)


def test_leave_one_family_out_never_sees_the_family_it_predicts():
    # Family "b" follows another law than "a" and "c": a model that saw "b" would predict it
    # well, a leave-one-family-out model cannot.
    x = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]])
    y = np.array([1.0, 2.0, 30.0, 40.0, 5.0, 6.0])
    fams = ["a", "a", "b", "b", "c", "c"]
    pred = zf.leave_one_family_out(x, y, fams, alpha=1e-6)
    # b is predicted from a and c only (y = x there), so near 3 and 4, far from 30 and 40
    assert pred[2] == pytest.approx(3.0, abs=0.5) and pred[3] == pytest.approx(4.0, abs=0.5)
    # changing family b's truth cannot change b's own predictions
    y2 = y.copy()
    y2[2:4] = [-100.0, 100.0]
    assert np.allclose(zf.leave_one_family_out(x, y2, fams, alpha=1e-6)[2:4], pred[2:4])


def test_leave_one_family_out_with_one_family_predicts_nothing():
    pred = zf.leave_one_family_out(np.ones((3, 1)), np.arange(3.0), ["a", "a", "a"])
    assert np.isnan(pred).all()
