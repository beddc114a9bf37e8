"""Multi-objective successive halving: which candidates earn a longer proxy run (no torch).

Optuna's pruners are single-objective (``trial.report`` / ``should_prune`` raise in
multi-objective studies; Optuna RFC #3450), so ``nas`` ranks the candidates of a rung itself,
as archai's ``SuccessiveHalvingSearch`` does: non-dominated sorting over the objectives, then the
best ``1/eta`` of the candidates, front by front; inside the front that overflows, the
candidates with the larger crowding distance (NSGA-II, Deb et al. 2002 §III-B) go first.
References are always promoted, so they reach the top rung and are compared at the same fidelity.

Rung ``r`` trains ``base_iters * eta**r`` iterations in all (continuing from the rung below).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Sequence

import numpy as np
from optuna.study._multi_objective import _fast_non_domination_rank  # private: one wrapper below

from nas.scoring import DIRECTIONS

__all__ = ["RungCandidate", "non_domination_ranks", "crowding_distance", "promote", "places", "rung_iters"]


@dataclass(frozen=True)
class RungCandidate:
    """A candidate scored at a rung.

    Attributes:
        key: its identity (trial number, arch_id).
        values: objective values in ``directions`` order (dB, parameters, MACs, ms).
        always: promote regardless of rank (the published references).
    """

    key: Hashable
    values: tuple[float, ...]
    always: bool = False


def _losses(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    sign = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    return values * sign


def non_domination_ranks(values: Sequence[Sequence[float]], directions: Sequence[str] = DIRECTIONS) -> np.ndarray:
    """Front index of every row (0 = non-dominated), via Optuna's fast non-dominated sort."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return np.zeros(0, dtype=int)
    return np.asarray(_fast_non_domination_rank(_losses(arr, directions)), dtype=int)


def crowding_distance(values: Sequence[Sequence[float]]) -> np.ndarray:
    """NSGA-II crowding distance of each row within one front (boundary points get ``inf``)."""
    arr = np.asarray(values, dtype=np.float64)
    n = len(arr)
    dist = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for m in range(arr.shape[1]):
        order = np.argsort(arr[:, m], kind="stable")
        lo, hi = arr[order[0], m], arr[order[-1], m]
        dist[order[0]] = dist[order[-1]] = np.inf
        if hi == lo:
            continue
        dist[order[1:-1]] += (arr[order[2:], m] - arr[order[:-2], m]) / (hi - lo)
    return dist


def promote(candidates: Sequence[RungCandidate], eta: int = 3,
            directions: Sequence[str] = DIRECTIONS) -> list[Hashable]:
    """Keys of the candidates that continue to the next rung.

    Args:
        candidates: everything scored at this rung (same fidelity).
        eta: reduction factor; ``max(1, len(candidates) // eta)`` candidates are chosen by rank
            (``always`` candidates are added on top of that and do not take places).
        directions: ``maximize`` / ``minimize`` per objective.

    Returns:
        Promoted keys: the ``always`` ones first, then by front and crowding distance.

    Raises:
        ValueError: ``eta < 2``.
    """
    if eta < 2:
        raise ValueError(f"eta must be at least 2, got {eta}")
    forced = [c.key for c in candidates if c.always]
    pool = [c for c in candidates if not c.always]
    if not pool:
        return forced
    k = places(len(candidates), eta)
    ranks = non_domination_ranks([c.values for c in pool], directions)
    chosen: list[Hashable] = []
    for front in range(ranks.max() + 1):
        members = [i for i in range(len(pool)) if ranks[i] == front]
        room = k - len(chosen)
        if room <= 0:
            break
        if len(members) > room:
            cd = crowding_distance([pool[i].values for i in members])
            members = [members[j] for j in np.argsort(-cd, kind="stable")[:room]]
        chosen.extend(pool[i].key for i in members)
    return forced + chosen


def places(n: int, eta: int) -> int:
    """Ranked places at a rung of ``n`` candidates: ``max(1, n // eta)`` (the references are
    promoted on top of these)."""
    return max(1, n // eta)


def rung_iters(base_iters: int, eta: int, rung: int) -> int:
    """Total iterations a candidate has trained at ``rung`` (0-based)."""
    return base_iters * eta ** rung
