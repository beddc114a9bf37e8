"""Successive halving's bookkeeping in the study: which promotions start, claims, failures."""

from __future__ import annotations

import contextlib
import time

import optuna
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from nas.search import rungs


def _study(rows):
    """In-memory study with one COMPLETE trial per (psnr, params, reference) row."""
    study = optuna.create_study(directions=["maximize", "minimize", "minimize", "minimize"])
    for i, (psnr, params, ref) in enumerate(rows):
        attrs = {"iters": 20}
        if ref:
            attrs["reference"] = ref
        study.add_trial(create_trial(state=TrialState.COMPLETE, values=[psnr, params, params * 1e4, params / 1e4],
                                     params={"x": float(i)}, distributions={"x": FloatDistribution(0, 100)},
                                     user_attrs=attrs))
    return study


def _nolock():
    return contextlib.nullcontext()


WORKER = {"host": "h", "pid": 1, "worker_id": 0}
ROWS = [(30.0, 700, "imdn"),   # 0: reference, always promoted
        (29.0, 100, None),     # 1: front (cheap)
        (31.0, 500, None),     # 2: front (best PSNR)
        (28.0, 200, None),     # 3: dominated by 1
        (27.0, 300, None),     # 4: dominated
        (26.0, 400, None),     # 5: dominated
        (25.0, 600, None)]     # 6: dominated


def test_promotions_take_the_best_third_and_the_references():
    study = _study(ROWS)
    got = rungs.promotions(study.get_trials(), study.user_attrs, rungs=3, eta=3, grace_s=60)
    # 7 candidates at rung 0 -> 7 // 3 = 2 places (front 0 = {1, 2} exactly) + the reference
    assert sorted(got) == [(0, 1), (1, 1), (2, 1)]


def test_deepest_rung_first_and_promoted_once():
    study = _study(ROWS)
    for n, psnr in ((0, 31.0), (1, 30.0), (2, 32.0)):
        rungs.record_result(study, n, 1, psnr, 60, 1.0, 0.1, False, WORKER)
    got = rungs.promotions(study.get_trials(), study.user_attrs, rungs=3, eta=3, grace_s=60)
    # rung 1 holds 3 candidates: 1 place (+ reference); rung-0 promotions are all done
    assert got[0] == (0, 2) and all(r == 2 for _, r in got)
    assert (1, 1) not in got and (2, 1) not in got
    # the top rung is never promoted further
    for n, _r in got:
        rungs.record_result(study, n, 2, 33.0, 180, 1.0, 0.1, False, WORKER)
    assert rungs.promotions(study.get_trials(), study.user_attrs, rungs=3, eta=3, grace_s=60) == []


def test_claims_exclude_other_workers_until_stale():
    study = _study(ROWS)
    assert rungs.claim(study, 1, 1, WORKER, grace_s=60, lock=_nolock)
    assert not rungs.claim(study, 1, 1, {**WORKER, "pid": 2}, grace_s=60, lock=_nolock)  # taken
    got = rungs.promotions(study.get_trials(), study.user_attrs, rungs=3, eta=3, grace_s=60)
    assert (1, 1) not in got
    # the worker died: its beat is older than the grace period, so the promotion is free again
    later = time.time() + 120
    assert (1, 1) in rungs.promotions(study.get_trials(), study.user_attrs, rungs=3, eta=3, grace_s=60, now=later)
    # an interrupted worker releases its claim at once
    rungs.release(study, 1, 1)
    assert (1, 1) in rungs.promotions(study.get_trials(), study.user_attrs, rungs=3, eta=3, grace_s=60)


def test_failed_continuation_is_not_retried_and_stays_at_the_rung_below():
    study = _study(ROWS)
    rungs.record_failure(study, 2, 1, "DivergedError: loss became nan at step 33/60", WORKER)
    got = rungs.promotions(study.get_trials(), study.user_attrs, rungs=3, eta=3, grace_s=60)
    assert (2, 1) not in got
    table = rungs.rung_table(study.get_trials(), study.user_attrs)
    assert 2 in table[0] and 2 not in table.get(1, {})


def test_fixed_proxy_has_no_promotions():
    study = _study(ROWS)
    assert rungs.promotions(study.get_trials(), study.user_attrs, rungs=1, eta=3, grace_s=60) == []


def test_promotion_quota_holds_the_one_in_eta_share():
    study = _study(ROWS)
    # two dominated candidates were promoted early (ASHA is irrevocable) ...
    for n in (3, 4):
        rungs.record_result(study, n, 1, 28.5, 60, 1.0, 0.1, False, WORKER)
    got = rungs.promotions(study.get_trials(), study.user_attrs, rungs=3, eta=3, grace_s=60)
    # ... so the 2 ranked places of rung 0 (7 // 3) are used up: only the reference goes on,
    # although candidates 1 and 2 now rank best
    assert [p for p in got if p[1] == 1] == [(0, 1)]
