"""Multi-fidelity scheduling: multi-objective successive halving over proxy rungs (no torch)."""

from nas.schedule.halving import RungCandidate, crowding_distance, non_domination_ranks, promote, rung_iters

__all__ = ["RungCandidate", "crowding_distance", "non_domination_ranks", "promote", "rung_iters"]
