"""Successive-halving promotions of one worker: find a candidate due for the next rung, claim
it (so no other worker trains it too), continue its training and store the rung's score.

Promotion rule: :func:`nas.search.rungs.promotions` (non-dominated sorting of each rung,
:mod:`nas.schedule.halving`); claims and results live in the study's user attributes
(``claim:<trial>:<rung>`` with a heartbeat, ``rung:<trial>:<rung>``).
"""

from __future__ import annotations

import time

from optuna.trial import TrialState

from nas.scoring.objectives import trial_metric
from nas.search import rungs
from nas.search._trial import predict
from nas.search.study import count_states, setup_lock, trial_config

__all__ = ["promote_one", "run_promotion", "others_busy"]


def promote_one(ctx) -> bool:
    """Run one pending promotion, if any (``ctx``: a ``SearchContext``); True if one was run."""
    profile, study = ctx.profile, ctx.study
    if not profile.multi_fidelity:
        return False
    trials = study.get_trials(deepcopy=False)
    lock = lambda: setup_lock(ctx.storage_url, timeout_s=120.0)  # noqa: E731
    for number, rung in rungs.promotions(trials, study.user_attrs, profile.rungs, profile.eta, ctx.grace_s):
        if not rungs.claim(study, number, rung, ctx.worker, ctx.grace_s, lock):
            continue
        run_promotion(ctx, next(t for t in trials if t.number == number), rung)
        return True
    return False


def run_promotion(ctx, t, rung: int) -> None:
    """Train trial ``t`` (a ``FrozenTrial``) from the rung below to ``rung`` and store the score;
    a failure is stored (the candidate stays at the rung below), SIGINT gives the claim back.

    Raises:
        KeyboardInterrupt: SIGINT / SIGTERM while training (the claim released first).
    """
    from nas.scoring.evaluate import continue_rung

    s, study, profile, progress, sig, log = ctx.s, ctx.study, ctx.profile, ctx.progress, ctx.signals, ctx.log
    ua = t.user_attrs
    label = ua.get("reference") or ua.get("summary", "")
    config = trial_config(t)
    target = profile.rung_iters(rung)
    beat = {"t": time.monotonic()}

    def on_step(i: int, _loss: float) -> None:
        if progress is not None:
            progress.step(i, target)
        if time.monotonic() - beat["t"] >= s.heartbeat:
            beat["t"] = time.monotonic()
            with sig.held():  # a storage write: never cut by a signal
                rungs.heartbeat(study, t.number, rung, ctx.worker)

    t0 = time.perf_counter()
    try:
        if progress is not None:
            progress.trial(t.number, f"{label} -> rung {rung} ({target} iters)")
        with sig.interruptible():
            res = continue_rung(config, ctx.data, profile, rung, ctx.device,
                                checkpoint=ctx.ckpt_dir / f"trial_{t.number:05d}.pt", on_step=on_step)
    except KeyboardInterrupt:
        rungs.release(study, t.number, rung)
        raise
    except Exception as err:  # the continuation fails; the candidate stays at the rung below
        reason = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
        rungs.record_failure(study, t.number, rung, reason, ctx.worker)
        log(f"trial {t.number} rung {rung} FAILED: {reason} ({label})")
        return
    pred = predict(ctx.calibration, res.iters, res.psnr_db, trial_metric(t, "params", ctx.objectives),
                   trial_metric(t, "mult_adds", ctx.objectives), ua.get("depth"))
    rungs.record_result(study, t.number, rung, res.psnr_db, res.iters, res.train_s, res.val_s,
                        res.replayed, ctx.worker, prediction=pred.to_dict() if pred is not None else None)
    before = ua.get("psnr_raw_db", t.values[0] if t.values else float("nan"))  # the proxy's own PSNR
    log(f"trial {t.number} {label} rung {rung}: {res.psnr_db:.3f} dB at {res.iters} iters "
        + (f"(predicted {pred.psnr_db:.2f} +- {pred.sigma_db:.2f} dB {pred.horizon}) " if pred is not None else "")
        + f"(rung 0: {before:.3f} dB at {profile.iters}){' [lower rungs replayed: no checkpoint]' if res.replayed else ''} "
        f"({time.perf_counter() - t0:.1f} s)")


def others_busy(ctx) -> bool:
    """Another worker (or a killed run not yet stale) may still produce a trial or a rung result,
    and with it a new promotion."""
    states = count_states(ctx.study)
    return states.get(TrialState.RUNNING, 0) > 0 or bool(rungs.live_claims(ctx.study.user_attrs, ctx.grace_s))
