"""Pareto front and dominance against the references (no torch)."""

from nas.front.pareto import complete_trials, dominated_references, dominates, pareto_trials, reference_trials

__all__ = ["complete_trials", "dominated_references", "dominates", "pareto_trials", "reference_trials"]
