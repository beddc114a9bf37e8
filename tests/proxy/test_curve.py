"""Learning-curve extrapolation (nas.proxy.curve) on curves made by hand."""

from __future__ import annotations

import math

import pytest

from nas.proxy.curve import fit_power_law


def test_recovers_a_power_law():
    a, b, c = 31.0, 40.0, 0.6
    steps = [20, 60, 180, 540]
    fit = fit_power_law(steps, [a - b * t ** -c for t in steps])
    assert fit is not None
    assert fit.a == pytest.approx(a, abs=1e-3) and fit.c == pytest.approx(c, abs=1e-3)
    assert fit.predict(1e6) == pytest.approx(a - b * 1e6 ** -c, abs=1e-3)
    assert fit.rmse_db < 1e-6


def test_a_curve_still_climbing_extrapolates_above_one_that_has_saturated():
    # the numbers: AWSRN (4 LFB) climbs 20.16 -> 24.23 -> 28.02 dB, AWSRN-S bends early
    deep = fit_power_law([20, 60, 180], [20.16, 24.23, 28.02])
    shallow = fit_power_law([20, 60, 180], [22.42, 27.40, 29.45])
    assert deep.predict(1e6) > shallow.predict(1e6)
    # the asymptote is bounded: never more than max_gain_db above the last point
    assert deep.a <= 28.02 + 10.0 + 1e-9


def test_too_few_points_or_bad_steps_give_none():
    assert fit_power_law([20, 60], [25.0, 27.0]) is None
    assert fit_power_law([20, 20, 20], [25.0, 26.0, 27.0]) is None
    assert fit_power_law([0, -1, 60], [25.0, 26.0, 27.0]) is None
    assert fit_power_law([20, 60, 180], [25.0, math.nan, 27.0]) is None
