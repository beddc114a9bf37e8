"""Scoring: the objective table (no torch) and ``evaluate`` (in ``nas.scoring.evaluate``)."""

from nas.scoring.objectives import DIRECTIONS, OBJECTIVE_NAMES, OBJECTIVES, Objective, is_feasible

__all__ = ["DIRECTIONS", "OBJECTIVE_NAMES", "OBJECTIVES", "Objective", "is_feasible"]
