"""``benchmarks/label_noise.py``: the label-noise estimate from retrain pairs and the Spearman ceiling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.benchmarks import load_benchmark


def test_sigma_from_gaps_and_ceiling_limits():
    mod = load_benchmark("label_noise")
    # two trainings of one config each carry N(0, s^2): their gap has variance 2 s^2
    assert mod.noise_sigma([0.1, -0.1]) == pytest.approx(0.1 / math.sqrt(2))
    with pytest.raises(ValueError, match="no retrain pair"):
        mod.noise_sigma([])
    labels = np.linspace(30.0, 32.0, 20)
    assert mod.spearman_ceiling(labels, 1e-6, sims=20)[0] == pytest.approx(1.0)
    noisy, lo, hi = mod.spearman_ceiling(labels, 1.0, sims=200)
    assert lo <= noisy <= hi < 1.0


def test_retrain_gaps_are_the_ground_truths_independent_pairs():
    mod = load_benchmark("label_noise")
    pairs = {a: (b, g) for a, b, g in mod.retrain_gaps(4, "Set5")}
    assert pairs["erfdn_ntire22_t06"] == ("erfdn", pytest.approx(32.159 - 32.092))
    assert "spantiny_ntire24" not in pairs  # DSCLoRA starts from its weights: not independent


def test_ntire22_linear_map_leave_one_out_on_a_line():
    mod = load_benchmark("ntire22_transfer")
    x = np.array([32.0, 32.1, 32.2, 32.3])
    a, b, loo, base = mod.loo_linear_map(x, 10.0 + 0.5 * x)
    assert (a, b, loo) == (pytest.approx(10.0), pytest.approx(0.5), pytest.approx(0.0, abs=1e-9))
    assert base > 0.0
    assert set(mod.NTIRE22) <= set(load_benchmark("label_noise").GROUND_TRUTH)
