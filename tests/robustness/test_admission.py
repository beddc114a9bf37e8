"""The admission protocol (budget and "no architecture twice") under every interleaving of workers.

A model checker: each trial runs the protocol of ``nas.search.admission`` as atomic storage
steps (write pending, read + decide, write admitted / stay pending until pruned), and every
interleaving of 2-3 trials is explored. Safety: never more admitted + complete trials than the
budget, never one architecture admitted twice. Liveness: no reachable state where every trial
left only waits, and contention never ends with everyone yielding when one could have run.
"""

from __future__ import annotations

import itertools

import pytest

from nas.search.admission import ADMITTED, PENDING, Claim, decide


def _explore(trials: list[tuple[int, str]], budget: int, complete: list[str]):
    """All reachable terminal outcomes: ``{number: 'admit' | 'yield'}`` per terminal state.

    trials: ``(number, arch_id)`` running the protocol; complete: arch ids of COMPLETE trials.
    """
    base = [Claim(1000 + i, True, None, a) for i, a in enumerate(complete)]
    # state: per trial (pc, outcome); pc 0 = write pending, 1 = read/decide, 2 = write admitted,
    # 3 = yielded but still RUNNING pending (pruned later), 4 = done
    start = tuple((0, None) for _ in trials)
    seen, terminals, stack = set(), set(), [start]
    while stack:
        state = stack.pop()
        if state in seen:
            continue
        seen.add(state)
        store = list(base)
        for (n, a), (pc, out) in zip(trials, state):
            if pc in (1, 3) or (pc == 2):
                store.append(Claim(n, False, PENDING, a))
            elif pc == 4 and out == "admit":
                store.append(Claim(n, False, ADMITTED, a))
        # safety in every state: trials that decided to admit
        admitted = [a for (n, a), (pc, out) in zip(trials, state) if out == "admit"]
        assert len(admitted) + len(complete) <= budget, state
        assert len(set(admitted)) == len(admitted) and not set(admitted) & set(complete), state
        moves = []
        for i, ((n, a), (pc, out)) in enumerate(zip(trials, state)):
            if pc == 0:
                moves.append((i, (1, None)))
            elif pc == 1:
                d = decide(n, a, budget, [c for c in store if c.number != n])
                if d.verdict == "admit":
                    moves.append((i, (2, "admit")))
                elif d.verdict == "yield":
                    moves.append((i, (3, "yield")))
                # wait: no move for this trial now
            elif pc in (2, 3):
                moves.append((i, (4, out)))
        if not moves:
            assert all(pc == 4 for pc, _ in state), f"deadlock: every trial waits in {state}"
            terminals.add(tuple(out for _, out in state))
            continue
        for i, nxt in moves:
            stack.append(state[:i] + (nxt,) + state[i + 1:])
    return terminals


def test_same_architecture_exactly_one_runs():
    for outcome in _explore([(5, "A"), (6, "A")], budget=10, complete=[]):
        assert sorted(outcome) == ["admit", "yield"], outcome


def test_three_workers_same_architecture():
    for outcome in _explore([(5, "A"), (6, "A"), (7, "A")], budget=10, complete=[]):
        assert outcome.count("admit") == 1, outcome


def test_last_budget_slot_goes_to_exactly_one():
    for outcome in _explore([(5, "A"), (6, "B"), (7, "C")], budget=3, complete=["X", "Y"]):
        assert outcome.count("admit") == 1, outcome


def test_two_slots_three_contenders():
    for outcome in _explore([(5, "A"), (6, "B"), (7, "C")], budget=4, complete=["X", "Y"]):
        assert outcome.count("admit") == 2, outcome


def test_room_for_all_admits_all():
    for outcome in _explore([(5, "A"), (6, "B")], budget=5, complete=["X"]):
        assert outcome == ("admit", "admit")


def test_duplicate_of_complete_and_full_budget_yield():
    assert _explore([(5, "X")], budget=5, complete=["X"]) == {("yield",)}
    assert _explore([(5, "A")], budget=1, complete=["X"]) == {("yield",)}


@pytest.mark.parametrize("order", list(itertools.permutations([3, 8, 9])))
def test_numbers_not_in_time_order(order):
    """A re-queued (WAITING) trial keeps its low number but starts late: still safe."""
    trials = [(n, a) for n, a in zip(order, "ABC")]
    for outcome in _explore(trials, budget=2, complete=[]):
        assert outcome.count("admit") == 2, outcome


def test_decide_reasons():
    others = [Claim(1, True, None, "A"), Claim(2, False, ADMITTED, "B"), Claim(3, False, PENDING, "C"),
              Claim(9, False, PENDING, "D"), Claim(10, False, None, "E")]
    assert decide(5, "A", 10, others).reason == "duplicate of trial 1"
    assert decide(5, "B", 10, others).reason == "duplicate of trial 2"
    assert decide(5, "C", 10, others).reason == "duplicate of trial 3"
    d = decide(5, "D", 10, others)
    assert d.verdict == "wait" and d.wait_for == (9,)
    assert decide(5, "E", 10, others).verdict == "admit"  # trial 10 has not entered the protocol
    assert decide(5, "F", 3, others).verdict == "yield"   # 1 complete + 1 admitted + 1 lower pending
    assert decide(5, "F", 4, others).wait_for == (9,)     # room only if the higher one yields
    assert decide(5, "F", 5, others).verdict == "admit"
