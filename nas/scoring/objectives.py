"""The objectives of a study, declared as a table (archai ``SearchObjectives`` style; no torch).

Order matters: it is the order of Optuna's ``directions`` and of ``trial.values``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Objective", "OBJECTIVES", "OBJECTIVE_NAMES", "DIRECTIONS"]


@dataclass(frozen=True)
class Objective:
    """One scored quantity.

    Attributes:
        name: metric name set on the study (``study.set_metric_names``) and the CSV column.
        direction: ``maximize`` or ``minimize``.
        unit: unit shown in tables and plots.
        cheap: known before training (can reject a candidate before any compute).
        label: axis label.
    """

    name: str
    direction: str
    unit: str
    cheap: bool
    label: str


OBJECTIVES: tuple[Objective, ...] = (
    Objective("psnr_db", "maximize", "dB", False, "PSNR-Y (dB), proxy"),
    Objective("params", "minimize", "parameters", True, "parameters"),
    Objective("mult_adds", "minimize", "MACs", True, "Mult-Adds (MACs, 1280x720 HR)"),
    Objective("latency_ms", "minimize", "ms", False, "latency (ms)"),
)
OBJECTIVE_NAMES = tuple(o.name for o in OBJECTIVES)
DIRECTIONS = tuple(o.direction for o in OBJECTIVES)


def is_feasible(trial) -> bool:
    """True when none of the trial's Optuna constraints is violated (each ``<= 0``: a candidate
    over a ``--max-*`` limit or unbuildable at its width has one ``> 0``). ``trial``: a
    ``FrozenTrial`` (its ``constraints`` mapping)."""
    return all(c <= 0.0 for c in trial.constraints.values())

