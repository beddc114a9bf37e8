"""Pareto front and dominance against the references (no torch).

The front is Optuna's own (``study.best_trials``: non-dominated COMPLETE trials over the four
objectives). A candidate *dominates* a reference when it is at least as good on every objective
(PSNR >= and params, Mult-Adds, latency <=) and strictly better on one.
"""

from __future__ import annotations

from typing import Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.scoring import DIRECTIONS

__all__ = ["dominates", "pareto_trials", "complete_trials", "reference_trials", "dominated_references"]


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


def dominated_references(trial: FrozenTrial, refs: dict[str, FrozenTrial]) -> list[str]:
    """Names of the references that ``trial`` dominates."""
    return [name for name, r in refs.items() if r.number != trial.number and dominates(trial.values, r.values)]
