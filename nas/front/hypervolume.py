"""Hypervolume of a study's front in normalised objective space, with a fixed reference point.

The four objectives are mapped to *losses* (smaller is better) that are 0 at an ideal point and
1 at a fixed reference point, so the hypervolume is the fraction of the reference box
``[ideal, reference]`` that the front dominates (0 = nothing, 1 = a 40 dB network with no
parameters, no Mult-Adds and no latency):

=========  ========================================  =====  ======================================
objective  normalised loss                           ideal  reference point (loss 1.0)
=========  ========================================  =====  ======================================
PSNR       ``(40 dB - psnr_db) / 30 dB``             40 dB  10 dB (every scale)
params     ``params / 2e6``                          0      2,000,000 parameters (every scale)
Mult-Adds  ``mult_adds / M_s``                       0      M_s MACs for a 1280x720 HR output:
                                                            x2 4e11, x3 1.8e11, x4 1e11, x8 2.5e10
latency    ``latency_ms / 1000 ms``                  0      1000 ms (the study's latency setting:
                                                            64x64 LR input, its device/threads)
=========  ========================================  =====  ======================================

``M_s`` is ``1e11 * (4 / s)^2`` rounded (the LR input of a 1280x720 output shrinks with ``s^2``):
at x4, IMDN's 40.9 G Mult-Adds is 0.41. The reference point is fixed per scale, not taken from
the trials, so hypervolumes of runs at one scale are comparable (latency only on the same
machine). A trial outside the box (worse than the reference on some objective) adds nothing.

The hypervolume itself is Optuna's exact implementation (WFG), behind :func:`compute_hypervolume`.
No torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.errors import NasError
from nas.scoring import OBJECTIVE_NAMES

__all__ = [
    "HypervolumeReference",
    "HV_REFERENCES",
    "HypervolumePoint",
    "hv_reference",
    "compute_hypervolume",
    "hypervolume",
    "hypervolume_history",
]


@dataclass(frozen=True)
class HypervolumeReference:
    """The fixed normalisation of one scale (see the module docstring).

    Attributes:
        scale: upscaling factor.
        psnr_ideal_db: PSNR (dB) that maps to loss 0.
        psnr_ref_db: PSNR (dB) of the reference point (loss 1).
        params: parameter count of the reference point.
        mult_adds: Mult-Adds (MACs, 1280x720 HR output) of the reference point.
        latency_ms: latency (ms) of the reference point.
    """

    scale: int
    psnr_ideal_db: float = 40.0
    psnr_ref_db: float = 10.0
    params: float = 2e6
    mult_adds: float = 1e11
    latency_ms: float = 1000.0

    @property
    def raw_point(self) -> tuple[float, float, float, float]:
        """The reference point in objective units: (dB, parameters, MACs, ms)."""
        return (self.psnr_ref_db, self.params, self.mult_adds, self.latency_ms)

    def normalise(self, values: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        """Objective vectors ``(psnr_db, params, mult_adds, latency_ms)`` -> losses, shape (n, 4).

        The reference point maps to ``(1, 1, 1, 1)``; smaller is better on every axis.
        """
        v = np.asarray(values, dtype=np.float64).reshape(-1, len(OBJECTIVE_NAMES))
        return np.stack([
            (self.psnr_ideal_db - v[:, 0]) / (self.psnr_ideal_db - self.psnr_ref_db),
            v[:, 1] / self.params,
            v[:, 2] / self.mult_adds,
            v[:, 3] / self.latency_ms,
        ], axis=1)

    def describe(self) -> str:
        """One line for reports: the reference point in objective units."""
        return (f"x{self.scale}: PSNR {self.psnr_ref_db:g} dB (ideal {self.psnr_ideal_db:g} dB), "
                f"{self.params / 1e6:g} M params, {self.mult_adds / 1e9:g} G Mult-Adds, "
                f"{self.latency_ms:g} ms; hypervolume = dominated fraction of that box")


#: The fixed reference points, by scale.
HV_REFERENCES: dict[int, HypervolumeReference] = {
    2: HypervolumeReference(2, mult_adds=4e11),
    3: HypervolumeReference(3, mult_adds=1.8e11),
    4: HypervolumeReference(4, mult_adds=1e11),
    8: HypervolumeReference(8, mult_adds=2.5e10),
}


def hv_reference(scale: int) -> HypervolumeReference:
    """The fixed reference point of ``scale``.

    Raises:
        NasError: a scale without one (known: 2, 3, 4, 8).
    """
    try:
        return HV_REFERENCES[int(scale)]
    except (KeyError, TypeError, ValueError):
        raise NasError(f"no hypervolume reference point for scale {scale!r} "
                       f"(known: {', '.join(map(str, HV_REFERENCES))})") from None


def compute_hypervolume(losses: np.ndarray, reference: Sequence[float] | None = None) -> float:
    """Exact hypervolume of minimisation vectors ``losses`` (n, d) against ``reference``
    (default all ones); points outside the box are dropped first.

    This is the ONE place that calls Optuna's private ``optuna._hypervolume.compute_hypervolume``
    (WFG algorithm; the function behind ``optuna.visualization.plot_hypervolume_history``). It is
    private in Optuna 5, so if a release moves it, only this wrapper changes.
    """
    from optuna._hypervolume import compute_hypervolume as _optuna_hv  # private API, see above

    pts = np.asarray(losses, dtype=np.float64)
    ref = np.ones(pts.shape[1] if pts.ndim == 2 else len(OBJECTIVE_NAMES)) if reference is None \
        else np.asarray(reference, dtype=np.float64)
    if pts.size == 0:
        return 0.0
    pts = pts[np.isfinite(pts).all(axis=1) & (pts <= ref).all(axis=1)]
    if len(pts) == 0:
        return 0.0
    return float(_optuna_hv(pts, ref))


def hypervolume(values: Iterable[Sequence[float]], scale: int) -> float:
    """Hypervolume (dimensionless, 0..1) of objective vectors ``(psnr_db, params, mult_adds,
    latency_ms)`` with the fixed reference point of ``scale``."""
    vals = list(values)
    if not vals:
        return 0.0
    return compute_hypervolume(hv_reference(scale).normalise(vals))


@dataclass(frozen=True)
class HypervolumePoint:
    """The hypervolume after one more COMPLETE trial.

    Attributes:
        n_complete: COMPLETE trials so far (1-based, in completion order).
        number: the trial that just completed.
        hypervolume: dimensionless, 0..1 (fraction of the reference box dominated).
    """

    n_complete: int
    number: int
    hypervolume: float


def _feasible(t: FrozenTrial) -> bool:
    return all(c <= 0.0 for c in t.constraints.values())


def hypervolume_history(study: optuna.Study | Sequence[FrozenTrial], scale: int | None = None) -> list[HypervolumePoint]:
    """Hypervolume after each COMPLETE trial, in completion order (ties: trial number).

    Infeasible trials (an Optuna constraint > 0) count as completed but add nothing, as in
    ``optuna.visualization.plot_hypervolume_history``. Non-decreasing by construction: the
    hypervolume is recomputed (with Optuna's code) only when a trial lands inside the box and
    is not dominated by the running front.

    Args:
        study: the study, or its trials.
        scale: upscaling factor (default: the study's ``scale`` user attribute).

    Raises:
        NasError: no scale known.
    """
    if isinstance(study, optuna.Study):
        trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        scale = scale if scale is not None else study.user_attrs.get("scale")
    else:
        trials = [t for t in study if t.state == TrialState.COMPLETE]
    if scale is None:
        raise NasError("hypervolume: the study records no scale; pass one")
    ref = hv_reference(scale)
    trials = sorted(trials, key=lambda t: (t.datetime_complete is None, t.datetime_complete or 0, t.number))
    out: list[HypervolumePoint] = []
    front = np.empty((0, len(OBJECTIVE_NAMES)))
    hv = 0.0
    for i, t in enumerate(trials, start=1):
        if t.values is not None and len(t.values) == len(OBJECTIVE_NAMES) and _feasible(t):
            x = ref.normalise([t.values])
            inside = bool(np.isfinite(x).all() and (x <= 1.0).all())
            if inside and not (front <= x).all(axis=1).any():
                front = np.concatenate([front[~(x <= front).all(axis=1)], x], axis=0)
                hv = max(hv, compute_hypervolume(front))  # max(): guard float noise only
        out.append(HypervolumePoint(i, t.number, hv))
    return out
