"""Pareto front and dominance against the references (no torch).

The front is Optuna's own (``study.best_trials``: non-dominated COMPLETE trials over the four
objectives). A candidate *dominates* a reference when it is at least as good on every objective
(PSNR >= and params, Mult-Adds, latency <=) and strictly better on one. A *dominance claim*
against a reference (the report, ``nas show --dominating``) asks more: a PSNR margin above the
seed-to-seed noise of the fidelity it was scored at (:func:`dominates_with_margin`), so a
claim is never a coin flip of the weight initialisation.
"""

from __future__ import annotations

from typing import Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.scoring import DIRECTIONS

__all__ = ["dominates", "dominates_with_margin", "pareto_trials", "complete_trials", "reference_trials", "dominated_references"]


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str] = DIRECTIONS) -> bool:
    """True if objective vector ``a`` Pareto-dominates ``b`` under ``directions``."""
    better = False
    for x, y, d in zip(a, b, directions):
        if d == "minimize":
            x, y = -x, -y
        if x < y:
            return False
        if x > y:
            better = True
    return better


def dominates_with_margin(a: Sequence[float], b: Sequence[float], margin_db: float,
                          directions: Sequence[str] = DIRECTIONS) -> bool:
    """True if ``a`` dominates ``b`` (:func:`dominates`) *and* its PSNR (objective 0, dB) is more
    than ``margin_db`` above ``b``'s; ``margin_db <= 0`` is plain dominance.

    Args:
        a: objective vector, PSNR first (dB), then costs.
        b: the objective vector ``a`` is compared with, in the same order.
        margin_db: the seed-to-seed PSNR noise at the fidelity both were scored at (dB).
    """
    if not dominates(a, b, directions):
        return False
    return margin_db <= 0 or a[0] - b[0] > margin_db


def complete_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The study's COMPLETE trials (scored candidates and references), in trial order, not copied."""
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def pareto_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Non-dominated COMPLETE trials, sorted by parameter count."""
    if not complete_trials(study):
        return []
    return sorted(study.best_trials, key=lambda t: (t.values[1], -t.values[0]))


def reference_trials(study: optuna.Study) -> dict[str, FrozenTrial]:
    """COMPLETE trials that evaluated a published configuration, by reference name."""
    out: dict[str, FrozenTrial] = {}
    for t in complete_trials(study):
        ref = t.user_attrs.get("reference")
        if ref and ref not in out:
            out[ref] = t
    return out


def dominated_references(trial: FrozenTrial, refs: dict[str, FrozenTrial], margin_db: float = 0.0) -> list[str]:
    """Names of the references that ``trial`` dominates by more than ``margin_db`` dB of PSNR."""
    return [name for name, r in refs.items()
            if r.number != trial.number and dominates_with_margin(trial.values, r.values, margin_db)]
