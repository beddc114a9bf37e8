"""Multi-objective successive halving promotes exactly the expected candidates."""

import math

import pytest

from nas.schedule import RungCandidate, crowding_distance, non_domination_ranks, promote, rung_iters

DIRS = ("maximize", "minimize")  # PSNR up, params down


def test_ranks_follow_pareto_dominance():
    values = [(30.0, 100), (29.0, 50), (28.0, 120), (31.0, 200), (27.0, 200)]
    # (28,120) is dominated by (30,100); (27,200) by everything with fewer params and more dB
    assert non_domination_ranks(values, DIRS).tolist() == [0, 0, 1, 0, 2]


def test_crowding_distance_prefers_boundaries_and_sparse_points():
    cd = crowding_distance([(1.0, 1.0), (2.0, 2.0), (2.1, 2.1), (4.0, 4.0)])
    assert math.isinf(cd[0]) and math.isinf(cd[3])
    assert cd[1] < cd[2] or cd[1] == pytest.approx(cd[2])  # both interior, finite
    assert all(math.isfinite(x) for x in cd[1:3])


def test_promote_takes_best_fronts_then_crowding():
    c = [
        RungCandidate("a", (30.0, 100)), RungCandidate("b", (29.0, 50)), RungCandidate("c", (31.0, 200)),
        RungCandidate("d", (28.0, 120)), RungCandidate("e", (27.0, 200)), RungCandidate("f", (26.0, 300)),
    ]
    # 6 candidates, eta 3 -> 2 places; front 0 = {a, b, c} overflows: boundaries b and c win
    assert promote(c, eta=3, directions=DIRS) == ["b", "c"]
    # eta 2 -> 3 places: the whole first front
    assert sorted(promote(c, eta=2, directions=DIRS)) == ["a", "b", "c"]


def test_references_always_promoted_without_taking_places():
    c = [RungCandidate("ref", (20.0, 999), always=True)] + [
        RungCandidate(i, (30.0 - i, 10 + i)) for i in range(6)
    ]
    out = promote(c, eta=3, directions=DIRS)
    assert out[0] == "ref" and len(out) == 1 + len(c) // 3


def test_next_front_fills_remaining_places():
    c = [RungCandidate("a", (30.0, 10)), RungCandidate("b", (29.0, 20)), RungCandidate("c", (28.0, 30)),
         RungCandidate("d", (27.0, 40))]  # a dominates all: fronts {a}, {b}, {c}, {d}
    assert promote(c, eta=2, directions=DIRS) == ["a", "b"]


def test_rung_iters_and_eta_validation():
    assert [rung_iters(20, 3, r) for r in range(3)] == [20, 60, 180]
    with pytest.raises(ValueError):
        promote([RungCandidate("a", (1.0, 1.0))], eta=1, directions=DIRS)
