"""The front of a running search, for its progress display: size, hypervolume and best PSNR.

``nas search`` redraws these after every trial (``nas.cli``'s progress bar), so they are computed
from the trials the search loop already holds, with the report's rules
(:func:`nas.report.build_report_data`): each candidate at the highest rung it reached, the front
among the feasible COMPLETE candidates scored at the top fidelity reached so far, the
hypervolume of that front in the fixed box of :mod:`nas.front.hypervolume`. Cost: about 5 ms at
200 trials (the committed x4 run), 11 ms when the front changed and its hypervolume is
recomputed (``LiveFront`` keeps it otherwise). No torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from optuna.trial import FrozenTrial, TrialState

from nas.front.hypervolume import compute_hypervolume, hv_reference
from nas.scoring.objectives import OBJECTIVES, Objective, get_objective, is_feasible, trial_metric
from nas.search.rungs import RungEntry, rung_table

__all__ = ["FrontStatus", "LiveFront"]


@dataclass(frozen=True)
class FrontStatus:
    """What the search has found so far.

    Attributes:
        compared: candidates (references included) scored at the top fidelity so far.
        size: members of the front among them.
        hypervolume: of that front, dimensionless 0..1 (``None``: no box for the scale).
        best_psnr_db: the highest PSNR objective among them within the ``--max-*`` limits (dB;
            the predicted fully-trained PSNR when the profile has a predictor; the references
            are scored whatever their costs, so they may be over a limit), ``None`` before the
            first such candidate.
        best_number: the trial that has it.
        iters: the top fidelity (proxy steps), ``None`` if unknown.
    """

    compared: int = 0
    size: int = 0
    hypervolume: float | None = None
    best_psnr_db: float | None = None
    best_number: int | None = None
    iters: int | None = None


def _non_dominated(values: np.ndarray, maximise: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``values`` (n, d) no other row dominates."""
    v = np.where(maximise, -values, values)  # smaller is better on every axis
    le = (v[:, None, :] <= v[None, :, :]).all(axis=2)  # le[i, j]: i at least as good as j everywhere
    lt = (v[:, None, :] < v[None, :, :]).any(axis=2)
    dominated = (le & lt).any(axis=0)
    return ~dominated


class LiveFront:
    """The front of one study, updated as trials finish.

    Args:
        scale: the study's scale (the hypervolume box).
        objectives: the study's objectives, PSNR first (the order of ``trial.values``).
        limits: the ``--max-*`` cost limits by objective name (for :meth:`budget_text`).
        predicted: the PSNR objective is a predicted fully-trained PSNR (the label says so).
    """

    def __init__(self, scale: int, objectives: Sequence[Objective] = OBJECTIVES,
                 limits: dict[str, float] | None = None, predicted: bool = False) -> None:
        self.scale, self.objectives = scale, tuple(objectives)
        self.limits, self.predicted = dict(limits or {}), predicted
        self.maximise = np.array([o.direction == "maximize" for o in self.objectives])
        try:
            self.box = hv_reference(scale)
        except Exception:  # noqa: BLE001 - no box for this scale: no hypervolume
            self.box = None
        self._hv_key: tuple | None = None
        self._hv: float | None = None
        self._rungs = False
        self.status = FrontStatus()

    def update(self, trials: Sequence[FrozenTrial], attrs: dict | None = None) -> FrontStatus:
        """Recompute from the study's trials (``study.get_trials(deepcopy=False)``) and, with
        successive halving, the study's user attributes (its rung results); ``attrs`` None: each
        trial at the fidelity it completed with (a single-fidelity profile)."""
        n = len(self.objectives)
        self._rungs = attrs is not None
        if attrs is not None:
            table = rung_table(list(trials), attrs)
            best: dict[int, RungEntry] = {}
            for r in sorted(table):
                best.update(table[r])
            entries = [(e.number, e.values, e.iters) for e in best.values()]
        else:
            entries = [(t.number, tuple(t.values), t.user_attrs.get("iters")) for t in trials
                       if t.state == TrialState.COMPLETE and t.values is not None and len(t.values) == n
                       and is_feasible(t)]
        if not entries:
            self.status = FrontStatus()
            return self.status
        top = max((it for _n, _v, it in entries if it is not None), default=None)
        at_top = [(num, v) for num, v, it in entries if it == top]
        numbers = np.array([num for num, _v in at_top])
        values = np.array([v for _num, v in at_top], dtype=np.float64)
        mask = _non_dominated(values, self.maximise)
        key = tuple(sorted(int(x) for x in numbers[mask])), top
        if key != self._hv_key:
            self._hv_key = key
            self._hv = (compute_hypervolume(self.box.normalise(values[mask], self.objectives))
                        if self.box is not None else None)
        within = self._within_limits(trials, numbers)
        best = int(np.argmax(np.where(within, values[:, 0], -np.inf))) if within.any() else None
        self.status = FrontStatus(compared=len(at_top), size=int(mask.sum()), hypervolume=self._hv,
                                  best_psnr_db=float(values[best, 0]) if best is not None else None,
                                  best_number=int(numbers[best]) if best is not None else None, iters=top)
        return self.status

    def _within_limits(self, trials: Sequence[FrozenTrial], numbers: np.ndarray) -> np.ndarray:
        """Which of the trials ``numbers`` respect every ``--max-*`` limit (a searched candidate
        over one is never scored; a reference is scored whatever it costs)."""
        if not self.limits:
            return np.ones(len(numbers), dtype=bool)
        by_number = {t.number: t for t in trials}
        ok = []
        for n in numbers:
            t = by_number.get(int(n))
            costs = [trial_metric(t, name, self.objectives) if t is not None else None for name in self.limits]
            ok.append(all(c is not None and c <= lim for c, lim in zip(costs, self.limits.values())))
        return np.array(ok, dtype=bool)

    def budget_text(self) -> str:
        """The limits the best PSNR respects: ``"<= 300,000 params, <= 20.0 ms"``, or ``""``."""
        parts = []
        for name, limit in self.limits.items():
            try:
                parts.append("<= " + get_objective(name).says(limit))
            except Exception:  # noqa: BLE001 - an unknown name: show it raw
                parts.append(f"{name} <= {limit:g}")
        return ", ".join(parts)

    def text(self) -> str:
        """One line: ``front 7 of 12 | hypervolume 0.2113 | best predicted PSNR: 32.61 dB (trial 8)``
        (``front 7 of 12 at 180 iters`` with successive halving: the candidates at the top
        fidelity); with ``--max-*`` limits, ``best predicted PSNR within <= 400,000 params:``
        (the references, scored whatever they cost, do not count there)."""
        s = self.status
        if not s.compared:
            return "front: no scored candidate yet"
        hv = f"{s.hypervolume:.4f}" if s.hypervolume is not None else "-"
        what = "predicted PSNR" if self.predicted else "PSNR"
        budget = self.budget_text()
        within = f" within {budget}" if budget else ""
        at = f" at {s.iters} iters" if self._rungs and s.iters is not None else ""
        best = f"{s.best_psnr_db:.2f} dB (trial {s.best_number})" if s.best_psnr_db is not None else "none yet"
        return f"front {s.size} of {s.compared}{at} | hypervolume {hv} | best {what}{within}: {best}"
