"""Hypervolume of a study's front in normalised objective space, with a fixed reference point.

The four objectives are mapped to *losses* (smaller is better) that are 0 at an ideal point and
1 at a fixed reference point, so the hypervolume is the fraction of the box
``[ideal, reference]`` that the front dominates (0 = nothing, 1 = a 40 dB network at the ideal
cost on every axis). PSNR is linear in dB; the three costs are on a **log scale** (a loss of
``log(x / ideal) / log(reference / ideal)``, 0 below the ideal):

=========  ======================  =========================================================
objective  ideal (loss 0)          reference point (loss 1.0)
=========  ======================  =========================================================
PSNR       40 dB                   10 dB (every scale; linear in dB)
params     1,000                   2,000,000 (every scale)
Mult-Adds  ``M_s / 2000``          ``M_s`` MACs for a 1280x720 HR output: x2 4e11, x3 1.8e11,
                                   x4 1e11, x8 2.5e10 (ideal at x4: 5e7)
latency    0.1 ms                  1000 ms (the study's latency setting: 64x64 LR input, its
                                   device/threads)
=========  ======================  =========================================================

Why log costs: in this field a saving is a ratio (E-RFDN "2x fewer Mult-Adds"), so halving the
parameters should be worth the same at 800 K as at 50 K, and costs of the space's networks span
three decades (13 K-2.7 M parameters). On a linear axis every network under 100 K parameters
costs almost nothing (loss < 0.05), so the box saturates: with the linear box first used here
(same ideal and reference in PSNR, linear costs from 0), the four references alone cover 0.36
of it and every x4 search on the built-in data ended at 0.63 +- 0.01 whatever found its front
(``benchmarks/search_compare.py`` keeps that value as a secondary column). The choice of a
reference point decides what a hypervolume rewards (Ishibuchi et al., "How to specify a
reference point in hypervolume calculation for fair performance comparison", Evolutionary
Computation 26(3), 2018); this box rewards the trade-off over the whole lightweight range.

``M_s`` is ``1e11 * (4 / s)^2`` rounded (the LR input of a 1280x720 output shrinks with ``s^2``);
its ideal, ``M_s / 2000``, has the same ratio to the reference as 1 K to 2 M parameters. The
latency range spans four decades so that GPU latencies (0.1-1 ms for small networks at 64x64)
do not all clip to 0. The points are fixed per scale, not taken from the trials, so
hypervolumes of runs at one scale are comparable (latency only on the same machine). A trial
outside the box (worse than the reference on some objective) adds nothing.

A study with other objectives (``nas search --objectives``) uses the same bounds for the four
above and, for the others, the ``hv_ideal`` / ``hv_reference`` of their registry entry
(:mod:`nas.scoring.objectives`; log axis when ``log_axis``, scaled by ``(4 / s)^2`` when
``hv_per_lr_pixel``): the box has one axis per objective of the study.

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
from nas.scoring.objectives import OBJECTIVES, Objective, is_feasible, objectives_of

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
        params_ideal: parameter count that maps to loss 0 (log axis).
        mult_adds_ideal: Mult-Adds (MACs) that map to loss 0 (log axis).
        latency_ideal_ms: latency (ms) that maps to loss 0 (log axis).
    """

    scale: int
    psnr_ideal_db: float = 40.0
    psnr_ref_db: float = 10.0
    params: float = 2e6
    mult_adds: float = 1e11
    latency_ms: float = 1000.0
    params_ideal: float = 1e3
    mult_adds_ideal: float = 5e7
    latency_ideal_ms: float = 0.1

    def __post_init__(self) -> None:
        for lo, hi, what in ((self.params_ideal, self.params, "params"),
                             (self.mult_adds_ideal, self.mult_adds, "mult_adds"),
                             (self.latency_ideal_ms, self.latency_ms, "latency_ms")):
            if not 0 < lo < hi:
                raise NasError(f"hypervolume reference x{self.scale}: {what} needs 0 < ideal < reference, "
                               f"got {lo:g} and {hi:g}")

    @property
    def raw_point(self) -> tuple[float, float, float, float]:
        """The reference point in objective units: (dB, parameters, MACs, ms)."""
        return (self.psnr_ref_db, self.params, self.mult_adds, self.latency_ms)

    @property
    def raw_ideal(self) -> tuple[float, float, float, float]:
        """The ideal point in objective units: (dB, parameters, MACs, ms)."""
        return (self.psnr_ideal_db, self.params_ideal, self.mult_adds_ideal, self.latency_ideal_ms)

    def bounds(self, objective: Objective) -> tuple[float, float, bool]:
        """``(ideal, reference, log_axis)`` of one objective at this scale, in its stored units.

        Raises:
            NasError: the objective declares no hypervolume bounds.
        """
        fixed = {"psnr_db": (self.psnr_ideal_db, self.psnr_ref_db, False),
                 "params": (self.params_ideal, self.params, True),
                 "mult_adds": (self.mult_adds_ideal, self.mult_adds, True),
                 "latency_ms": (self.latency_ideal_ms, self.latency_ms, True)}
        if objective.name in fixed:
            return fixed[objective.name]
        if objective.hv_ideal is None or objective.hv_reference is None:
            raise NasError(f"objective {objective.name!r} declares no hypervolume bounds (hv_ideal, hv_reference)")
        k = (4.0 / self.scale) ** 2 if objective.hv_per_lr_pixel else 1.0
        return objective.hv_ideal * k, objective.hv_reference * k, objective.log_axis

    def normalise(self, values: Sequence[Sequence[float]] | np.ndarray,
                  objectives: Sequence[Objective] = OBJECTIVES) -> np.ndarray:
        """Objective vectors in ``objectives`` order (default ``(psnr_db, params, mult_adds,
        latency_ms)``) -> losses, shape (n, len(objectives)).

        PSNR linear in dB; the costs ``log(x / ideal) / log(reference / ideal)``, clipped at 0
        below the ideal (a cost of 0 or less counts as ideal); a maximised objective is mirrored.
        The reference point maps to all ones; smaller is better on every axis.
        """
        v = np.asarray(values, dtype=np.float64).reshape(-1, len(objectives))

        def log_loss(x: np.ndarray, ideal: float, ref: float) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                out = np.log(np.maximum(x, ideal) / ideal) / np.log(ref / ideal)
            return np.where(np.isnan(x), np.nan, out)

        cols = []
        for i, o in enumerate(objectives):
            ideal, ref, log = self.bounds(o)
            if log:
                cols.append(log_loss(v[:, i], ideal, ref))
            else:
                cols.append((ideal - v[:, i]) / (ideal - ref))
        return np.stack(cols, axis=1)

    def describe(self, objectives: Sequence[Objective] = OBJECTIVES) -> str:
        """One line for reports: the box of ``objectives`` in their units."""
        parts = []
        for o in objectives:
            lo, hi, log = self.bounds(o)
            if o.name == "psnr_db":
                parts.append(f"PSNR {hi:g}-{lo:g} dB (linear)")
            elif o.name == "latency_ms":
                parts.append(f"{lo:g}-{hi:g} ms")
            else:
                unit = {"params": "params", "mult_adds": "Mult-Adds"}.get(o.name, f"{o.name} ({o.unit})")
                parts.append(f"{_si(lo)}-{_si(hi)} {unit}" + ("" if log or o.name in ("params", "mult_adds") else " (linear)"))
        return f"x{self.scale}: " + ", ".join(parts) + " (log); hypervolume = dominated fraction of that box"


def _si(x: float) -> str:
    for div, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " K")):
        if x >= div:
            return f"{x / div:g}{suffix}"
    return f"{x:g}"


#: The fixed reference points, by scale.
HV_REFERENCES: dict[int, HypervolumeReference] = {
    2: HypervolumeReference(2, mult_adds=4e11, mult_adds_ideal=2e8),
    3: HypervolumeReference(3, mult_adds=1.8e11, mult_adds_ideal=9e7),
    4: HypervolumeReference(4, mult_adds=1e11, mult_adds_ideal=5e7),
    8: HypervolumeReference(8, mult_adds=2.5e10, mult_adds_ideal=1.25e7),
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
    ref = np.ones(pts.shape[1] if pts.ndim == 2 else len(OBJECTIVES)) if reference is None \
        else np.asarray(reference, dtype=np.float64)
    if pts.size == 0:
        return 0.0
    pts = pts[np.isfinite(pts).all(axis=1) & (pts <= ref).all(axis=1)]
    if len(pts) == 0:
        return 0.0
    return float(_optuna_hv(pts, ref))


def hypervolume(values: Iterable[Sequence[float]], scale: int,
                objectives: Sequence[Objective] = OBJECTIVES) -> float:
    """Hypervolume (dimensionless, 0..1) of objective vectors in ``objectives`` order (default
    ``(psnr_db, params, mult_adds, latency_ms)``) with the fixed reference point of ``scale``."""
    vals = list(values)
    if not vals:
        return 0.0
    return compute_hypervolume(hv_reference(scale).normalise(vals, objectives))


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


def hypervolume_history(study: optuna.Study | Sequence[FrozenTrial], scale: int | None = None,
                        objectives: Sequence[Objective] | None = None) -> list[HypervolumePoint]:
    """Hypervolume after each COMPLETE trial, in completion order (ties: trial number).

    Infeasible trials (an Optuna constraint > 0) count as completed but add nothing, as in
    ``optuna.visualization.plot_hypervolume_history``. Non-decreasing by construction: the
    hypervolume is recomputed (with Optuna's code) only when a trial lands inside the box and
    is not dominated by the running front.

    Args:
        study: the study, or its trials.
        scale: upscaling factor (default: the study's ``scale`` user attribute).
        objectives: the objectives of ``trial.values`` (default: the study's stored ones, or
            the default four for a list of trials).

    Raises:
        NasError: no scale known.
    """
    if isinstance(study, optuna.Study):
        trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        scale = scale if scale is not None else study.user_attrs.get("scale")
        objectives = objectives if objectives is not None else objectives_of(study.user_attrs)
    else:
        trials = [t for t in study if t.state == TrialState.COMPLETE]
    if scale is None:
        raise NasError("hypervolume: the study records no scale; pass one")
    objectives = tuple(objectives) if objectives is not None else OBJECTIVES
    ref = hv_reference(scale)
    trials = sorted(trials, key=lambda t: (t.datetime_complete is None, t.datetime_complete or 0, t.number))
    out: list[HypervolumePoint] = []
    front = np.empty((0, len(objectives)))
    hv = 0.0
    for i, t in enumerate(trials, start=1):
        if t.values is not None and len(t.values) == len(objectives) and is_feasible(t):
            x = ref.normalise([t.values], objectives)
            inside = bool(np.isfinite(x).all() and (x <= 1.0).all())
            if inside and not (front <= x).all(axis=1).any():
                front = np.concatenate([front[~(x <= front).all(axis=1)], x], axis=0)
                hv = max(hv, compute_hypervolume(front))  # max(): guard float noise only
        out.append(HypervolumePoint(i, t.number, hv))
    return out
