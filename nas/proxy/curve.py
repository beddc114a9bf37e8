"""Learning-curve extrapolation of proxy PSNR (no torch).

A candidate promoted through successive halving is validated at every rung (20, 60, 180 ...
steps). Those points are fitted with the saturating power law PSNR(t) = a - b * t^(-c), the form
used for learning-curve extrapolation in NAS (Domhan et al., IJCAI 2015, the ``pow3`` family;
Klein et al., ICLR 2017), and read at a longer horizon, so that a network that is still climbing
when the proxy stops is not ranked as if it had stopped (issue 18).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["PowerLawFit", "fit_power_law"]


@dataclass(frozen=True)
class PowerLawFit:
    """PSNR(t) = a - b * t^(-c), t in optimiser steps, PSNR in dB.

    Attributes:
        a: asymptote (dB).
        b: amplitude (dB, >= 0).
        c: decay exponent (> 0).
        rmse_db: root-mean-square residual over the fitted points (dB).
    """

    a: float
    b: float
    c: float
    rmse_db: float

    def predict(self, steps: float) -> float:
        """PSNR (dB) at ``steps`` (> 0)."""
        return float(self.a - self.b * steps ** (-self.c))


def fit_power_law(steps: Sequence[float], psnr_db: Sequence[float], c_bounds: tuple[float, float] = (0.05, 2.0),
                  max_gain_db: float = 10.0) -> PowerLawFit | None:
    """Fit :class:`PowerLawFit` to a learning curve with scipy's ``curve_fit`` (bounded TRF).

    Args:
        steps: steps at which the PSNR was measured (> 0, at least 3 distinct).
        psnr_db: validation PSNR (dB) at those steps.
        c_bounds: allowed decay exponents.
        max_gain_db: the asymptote is kept within ``max_gain_db`` above the last measurement, so a
            curve that has not started to bend cannot extrapolate to an absurd PSNR.

    Returns:
        The fit, or ``None`` when it cannot be made (fewer than 3 finite points, non-positive
        steps, or the optimiser does not converge).
    """
    from scipy.optimize import curve_fit

    t = np.asarray(steps, dtype=np.float64)
    y = np.asarray(psnr_db, dtype=np.float64)
    ok = np.isfinite(t) & np.isfinite(y) & (t > 0)
    t, y = t[ok], y[ok]
    if len(np.unique(t)) < 3:
        return None
    last = float(y[np.argmax(t)])
    lo = [last - 1e-6, 0.0, c_bounds[0]]
    hi = [last + max_gain_db, np.inf, c_bounds[1]]
    c0 = float(np.clip(0.5, *c_bounds))
    a0 = last + 0.5
    b0 = max(1e-3, float((a0 - y.min()) * t.min() ** c0))

    def f(tt, a, b, c):
        return a - b * tt ** (-c)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (a, b, c), _ = curve_fit(f, t, y, p0=[a0, b0, c0], bounds=(lo, hi), method="trf", maxfev=20000)
    except (RuntimeError, ValueError):
        return None
    resid = y - f(t, a, b, c)
    rmse = float(math.sqrt(np.mean(resid ** 2)))
    return PowerLawFit(float(a), float(b), float(c), rmse)
