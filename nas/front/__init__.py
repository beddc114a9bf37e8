"""Pareto front, dominance vs the references, hypervolume with fixed reference points (no torch)."""

from nas.front.hypervolume import (
    HV_REFERENCES,
    HypervolumePoint,
    HypervolumeReference,
    compute_hypervolume,
    hv_reference,
    hypervolume,
    hypervolume_history,
)
from nas.front.pareto import (complete_trials, dominated_references, dominates, dominates_with_margin, pareto_trials,
                              reference_trials)

__all__ = ["HV_REFERENCES", "HypervolumePoint", "HypervolumeReference", "complete_trials",
           "compute_hypervolume", "dominated_references", "dominates", "dominates_with_margin", "hv_reference", "hypervolume",
           "hypervolume_history", "pareto_trials", "reference_trials"]
