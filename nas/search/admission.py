"""Admission of a sampled trial: the budget and "no architecture twice", race-free across workers.

Several workers share one study; each trial, once its architecture is sampled, must decide
whether to train it. Two rules:

* **budget**: the study must end with exactly ``budget`` COMPLETE trials, never more;
* **no duplicates**: an architecture (``arch_id``) is evaluated once: not if a COMPLETE trial has
  it, not if another trial is evaluating it.

Checking the storage and then starting is racy: two workers may each look before the other has
written anything, and both start. The protocol (write first, then read; the lower trial number
wins a tie) makes the decision safe without a lock:

1. the trial writes its ``arch_id``, then ``admission = "pending"`` (user attributes);
2. it reads every COMPLETE and RUNNING trial and applies :func:`decide`:

   * *yield* (the trial is PRUNED) if a COMPLETE or admitted trial has the same architecture, or a
     pending one with a lower number does; or if the COMPLETE + admitted + lower pending trials
     already fill the budget;
   * *admit* if no other trial has the architecture and COMPLETE + admitted + all pending trials
     leave room in the budget;
   * otherwise *wait*: only pending trials with a higher number are in the way; they decide
     within milliseconds (they never wait for this one), so read again;

3. an admitted trial writes ``admission = "admitted"`` and trains.

Why it is safe: of two trials that both get admitted, the one whose final read came last saw the
other's ``pending`` (written before the other's read, which came earlier) and counted it, so the
count it admitted on included the other; no set of admitted trials can exceed the budget or hold
one architecture twice. Why it terminates: a trial waits only for higher-numbered pending
trials, and the highest one never waits. A waiting trial gives up (yields, which is always safe)
after ``timeout_s``, e.g. when the trial it waits for belongs to a killed worker.

A FAILED or PRUNED trial holds nothing: its architecture may be sampled again, its budget slot is
free. RUNNING trials without an ``admission`` attribute (still sampling, or from an older
version) are ignored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable, Literal

import optuna
from optuna.trial import FrozenTrial, TrialState

__all__ = ["Claim", "Decision", "decide", "claims", "admit", "PENDING", "ADMITTED"]

PENDING = "pending"
ADMITTED = "admitted"
BUDGET_REASON = "budget reached by other workers"


@dataclass(frozen=True)
class Claim:
    """What the admission needs to know of another trial.

    Attributes:
        number: trial number.
        complete: True for a COMPLETE trial, False for a RUNNING one.
        admission: ``"pending"``, ``"admitted"`` or None (RUNNING, not yet in the protocol).
        arch_id: the trial's architecture id (None if not sampled yet).
    """

    number: int
    complete: bool
    admission: str | None
    arch_id: str | None

    @classmethod
    def of(cls, t: FrozenTrial) -> "Claim":
        return cls(t.number, t.state == TrialState.COMPLETE, t.user_attrs.get("admission"),
                   t.user_attrs.get("arch_id"))


@dataclass(frozen=True)
class Decision:
    """``verdict`` is ``admit``, ``yield`` (``reason`` says why) or ``wait`` (for ``wait_for``)."""

    verdict: Literal["admit", "yield", "wait"]
    reason: str = ""
    wait_for: tuple[int, ...] = ()


def decide(number: int, arch_id: str | None, budget: int, others: Iterable[Claim]) -> Decision:
    """Decide trial ``number`` (with ``arch_id``, already written as pending) from a snapshot
    of the other COMPLETE and RUNNING trials. ``arch_id=None`` checks the budget only.

    Args:
        number: this trial's number.
        arch_id: this trial's architecture id.
        budget: COMPLETE trials the study should end with.
        others: the other trials (this one excluded).

    Returns:
        The :class:`Decision`.
    """
    firm = 0
    lower: list[Claim] = []
    higher: list[Claim] = []
    for c in others:
        if c.number == number:
            continue
        if c.complete or c.admission == ADMITTED:
            firm += 1
            if arch_id is not None and c.arch_id == arch_id:
                return Decision("yield", f"duplicate of trial {c.number}")
        elif c.admission == PENDING:
            (lower if c.number < number else higher).append(c)
    for c in lower:
        if arch_id is not None and c.arch_id == arch_id:
            return Decision("yield", f"duplicate of trial {c.number}")
    if firm + len(lower) >= budget:
        return Decision("yield", BUDGET_REASON)
    blocking = [c.number for c in higher if arch_id is not None and c.arch_id == arch_id]
    if firm + len(lower) + len(higher) >= budget:
        blocking = [c.number for c in higher]
    if blocking:
        return Decision("wait", "", tuple(sorted(set(blocking))))
    return Decision("admit")


def claims(study: optuna.Study) -> list[Claim]:
    """A fresh snapshot of the study's COMPLETE and RUNNING trials."""
    return [Claim.of(t) for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING))]


def admit(study: optuna.Study, number: int, arch_id: str | None, budget: int, timeout_s: float = 30.0,
          poll_s: float = 0.1, snapshot: Callable[[optuna.Study], list[Claim]] = claims,
          sleep: Callable[[float], None] = time.sleep) -> Decision:
    """Run :func:`decide` until it admits or yields (the caller has written ``pending``).

    Args:
        timeout_s: seconds to wait for higher-numbered pending trials before yielding.
        poll_s: seconds between two reads while waiting.
        sleep: waits ``poll_s`` seconds (the search passes one that SIGINT may interrupt; the
            reads in between are not).

    Returns:
        An ``admit`` or ``yield`` :class:`Decision`.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        d = decide(number, arch_id, budget, snapshot(study))
        if d.verdict != "wait":
            return d
        if time.monotonic() > deadline:
            return Decision("yield", f"undecided contention with trial(s) {', '.join(map(str, d.wait_for))}")
        sleep(poll_s)
